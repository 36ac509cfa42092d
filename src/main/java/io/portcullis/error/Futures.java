package io.portcullis.error;

import io.vertx.core.Future;

import java.util.function.Supplier;

/** Keeps the promise of a method that returns a Future: it never throws, it fails the Future instead. */
public final class Futures {

  private Futures() {
  }

  /**
   * {@code work}'s Future, or a failed one when {@code work} throws (input validation throws AuthException;
   * callers compose on the answer and would never see the exception).
   */
  public static <T> Future<T> attempt(Supplier<Future<T>> work) {
    try {
      return work.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
