package io.portcullis.limit;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Token buckets per route and client, on a clock the test moves. */
class RateLimiterTest {

  /** One token every 100 s, three at once. */
  private static final RateLimiter.Limit LIMIT = new RateLimiter.Limit("password_grant", 36, 3);

  private Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private final RateLimiter limiter = new RateLimiter(new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  });

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

    now = now.plusSeconds(wait);

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
    now = now.plus(Duration.ofDays(30));
    exhaust("10.0.0.1");
    assertTrue(limiter.acquire(LIMIT, "10.0.0.1") > 0);
  }

  @Test
  void evictionDropsOnlyRefilledBuckets() {
    exhaust("10.0.0.1");
    limiter.acquire(LIMIT, "10.0.0.2");
    now = now.plusSeconds(150);

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
