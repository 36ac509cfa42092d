package io.portcullis.credential;

import io.vertx.core.Context;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Password hashing runs below the requests' priority: the first hash on a thread raises that thread's nice value to
 * {@value #NICE} (Linux, through {@code renice} and the thread's own kernel id). A hash is ~35 ms of a core; in a
 * sign-in flood the hashing workers took their full share of the cores beside the event loops, and every other
 * request waited behind them. At nice 10 the scheduler gives a thread at 0 about nine tenths of a core the two
 * contend for, and hashing still takes whatever CPU the rest leaves. Raising one's own nice value needs no privilege;
 * where it cannot be done (not Linux, no {@code renice}) hashing runs as before.
 */
final class HashPriority {

  static final int NICE = 10;
  private static final ThreadLocal<Boolean> LOWERED = ThreadLocal.withInitial(() -> false);

  private HashPriority() {
  }

  /**
   * Lowers the calling thread's priority, once per thread; never an event loop's (hashing has no business there,
   * and this waits for a process).
   */
  static void lowerThisThread() {
    if (LOWERED.get() || Context.isOnEventLoopThread()) {
      return;
    }
    LOWERED.set(true);
    try {
      // "/proc/thread-self" links to "/proc/<pid>/task/<tid>": the kernel's id of this thread.
      String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
      Process renice = new ProcessBuilder("renice", "-n", Integer.toString(NICE), "-p", tid)
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!renice.waitFor(5, TimeUnit.SECONDS)) {
        renice.destroyForcibly();
      }
    } catch (IOException | UnsupportedOperationException e) {
      // not Linux, or no renice: the thread keeps its priority
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
