package io.portcullis.credential;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Password hashing runs below the requests' priority, on threads of its own ({@value #THREAD_PREFIX}N) that set their
 * nice value to {@value #NICE} when they start (Linux, through {@code renice} and the thread's own kernel id). A hash
 * is ~35 ms of a core; in a sign-in flood the hashing workers took their full share of the cores beside the event
 * loops, and every other request waited behind them. At nice 10 the scheduler gives a thread at 0 about nine tenths
 * of a core the two contend for, and hashing still takes whatever CPU the rest leaves. Raising one's own nice value
 * needs no privilege; where it cannot be done (not Linux, no {@code renice}) hashing runs as before.
 * <p>
 * The threads are this class's and do nothing but hash: a thread a lowered one starts inherits its nice value, so
 * lowering the hashing workers' own (shared Vert.x worker) threads would have passed it on to whatever they start.
 * A caller (a hashing worker) waits for its hash; the callers' number bounds the hashes at once.
 */
final class HashPriority {

  static final int NICE = 10;
  static final String THREAD_PREFIX = "portcullis-hash-";
  private static final AtomicInteger THREADS = new AtomicInteger();
  /** Started by the callers as needed (so at the callers' priority), ended after a minute unused. */
  private static final ExecutorService HASHING = Executors.newCachedThreadPool(lowered());

  private HashPriority() {
  }

  /** {@code hash} on a hashing thread; its result, or its exception. */
  static <T> T run(Supplier<T> hash) {
    try {
      return CompletableFuture.supplyAsync(hash, HASHING).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      if (e.getCause() instanceof Error cause) {
        throw cause;
      }
      throw e;
    }
  }

  private static ThreadFactory lowered() {
    return task -> {
      Thread thread = new Thread(() -> {
        lowerThisThread();
        task.run();
      }, THREAD_PREFIX + THREADS.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /** Sets the calling thread's nice value to {@link #NICE}. */
  private static void lowerThisThread() {
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
