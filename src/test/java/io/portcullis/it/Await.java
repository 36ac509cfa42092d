package io.portcullis.it;

import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Waiting for what the service does in the background (a mail sent, a key reload): polls a condition until it
 * holds, failing with what was awaited after a deadline. For work to finish, not for time to pass: tests move
 * the clock for that.
 */
public final class Await {

  private static final long POLL_MS = 50;

  private Await() {
  }

  public static void until(Duration within, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("not within " + within.toMillis() + " ms: " + what);
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for: " + what, e);
      }
    }
  }
}
