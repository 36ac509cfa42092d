package io.portcullis.db;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Stops the embedded PostgreSQL when the JVM that started it dies without stopping it ({@code kill -9}, an OOM
 * kill), so that no server is left running without its Portcullis. A small shell process waits for its standard
 * input, a pipe from this JVM, to close (the kernel closes it however the JVM ends), then sends the postmaster
 * SIGINT (PostgreSQL's fast shutdown: open transactions roll back, committed ones are kept), but only if
 * {@code postmaster.pid} still names that process: after a clean stop it is gone, or names a newer server.
 * A start-up still clears an orphan the watchdog could not (see {@link OrphanedPostmaster}).
 */
final class PostmasterWatchdog implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PostmasterWatchdog.class);
  /** The directory and pid are passed in the environment, so that no process list shows this as a server. */
  private static final String SCRIPT = "trap '' INT HUP; cat > /dev/null; "
    + "[ \"$(head -n 1 \"$WATCHED_PG_DIR/postmaster.pid\" 2>/dev/null)\" = \"$WATCHED_PG_PID\" ] "
    + "&& kill -INT \"$WATCHED_PG_PID\"; exit 0";

  private final Process process;

  private PostmasterWatchdog(Process process) {
    this.process = process;
  }

  /** Watches the postmaster that {@code dir/postmaster.pid} names; null (no watchdog) when that cannot be done. */
  static PostmasterWatchdog start(Path dir) {
    try {
      List<String> lines = Files.readAllLines(dir.resolve("postmaster.pid"));
      long pid = Long.parseLong(lines.get(0).trim());
      ProcessBuilder builder = new ProcessBuilder("/bin/sh", "-c", SCRIPT)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD);
      builder.environment().put("WATCHED_PG_DIR", dir.toString());
      builder.environment().put("WATCHED_PG_PID", Long.toString(pid));
      return new PostmasterWatchdog(builder.start());
    } catch (IOException | RuntimeException e) {
      LOG.warn("No watchdog for the embedded PostgreSQL in {}: {}", dir, e.toString());
      return null;
    }
  }

  /** After the server was stopped: the watchdog ends without doing anything. */
  @Override
  public void close() {
    try {
      process.getOutputStream().close();
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroy();
      }
    } catch (IOException e) {
      process.destroy();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroy();
    }
  }
}
