package io.portcullis.limit;

import io.portcullis.it.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Token buckets per route and client, on a clock the test moves. */
class RateLimiterTest {

  /** One token every 100 s, three at once. */
  private static final RateLimiter.Limit LIMIT = new RateLimiter.Limit("password_grant", 36, 3);

  private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final RateLimiter limiter = new RateLimiter(clock);

  @Test
  void aFullBucketLetsTheBurstThroughThenSaysHowLongToWait() {
    for (int i = 0; i < 3; i++) {
      assertEquals(0, limiter.acquire(LIMIT, "10.0.0.1"));
    }
    assertEquals(100, limiter.acquire(LIMIT, "10.0.0.1"));
  }

  @Test
  void waitingTheAnsweredTimeRefillsOneRequest() {
    exhaust("10.0.0.1");
    long wait = limiter.acquire(LIMIT, "10.0.0.1");

    clock.advance(Duration.ofSeconds(wait));

    assertEquals(0, limiter.acquire(LIMIT, "10.0.0.1"));
    assertTrue(limiter.acquire(LIMIT, "10.0.0.1") > 0);
  }

  @Test
  void clientsAndRoutesHaveBucketsOfTheirOwn() {
    exhaust("10.0.0.1");

    assertEquals(0, limiter.acquire(LIMIT, "10.0.0.2"));
    assertEquals(0, limiter.acquire(new RateLimiter.Limit("refresh", 36, 3), "10.0.0.1"));
  }

  @Test
  void aBucketNeverHoldsMoreThanItsBurst() {
    clock.advance(Duration.ofDays(30));
    exhaust("10.0.0.1");
    assertTrue(limiter.acquire(LIMIT, "10.0.0.1") > 0);
  }

  @Test
  void evictionDropsOnlyRefilledBuckets() {
    exhaust("10.0.0.1");
    limiter.acquire(LIMIT, "10.0.0.2");
    clock.advance(Duration.ofSeconds(150));

    limiter.evictFull(Map.of(LIMIT.name(), LIMIT));

    // 10.0.0.2 had refilled (2 + 1.5 tokens > 3): a fresh bucket; 10.0.0.1 (0 + 1.5) kept its state.
    assertEquals(0, limiter.acquire(LIMIT, "10.0.0.1"));
    assertTrue(limiter.acquire(LIMIT, "10.0.0.1") > 0);
    for (int i = 0; i < 3; i++) {
      assertEquals(0, limiter.acquire(LIMIT, "10.0.0.2"));
    }
  }

  private void exhaust(String client) {
    for (int i = 0; i < 3; i++) {
      assertEquals(0, limiter.acquire(LIMIT, client));
    }
  }
}
