package io.portcullis.limit;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the password hashes waiting in line (each argon2id hash takes ~19 MiB while it runs): at most
 * {@code workers + queue} hashing requests are in flight from HTTP; the next is turned away at once instead of
 * piling up memory and latency.
 */
public final class HashGate {

  private final int capacity;
  private final AtomicInteger inFlight = new AtomicInteger();

  public HashGate(int workers, int queue) {
    this.capacity = workers + queue;
  }

  public boolean tryEnter() {
    while (true) {
      int current = inFlight.get();
      if (current >= capacity) {
        return false;
      }
      if (inFlight.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  public void leave() {
    inFlight.decrementAndGet();
  }

  public int inFlight() {
    return inFlight.get();
  }
}
