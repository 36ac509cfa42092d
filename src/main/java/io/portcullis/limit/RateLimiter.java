package io.portcullis.limit;

import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-client token buckets, one per (route, client IP), shared by every HTTP verticle instance of the process.
 * Each check touches one bucket under its own lock for a few nanoseconds, so it never blocks an event loop.
 */
public final class RateLimiter {

  /** A route's budget: {@code perHour} tokens per hour, at most {@code burst} at once. */
  public record Limit(String name, int perHour, int burst) {
  }

  /** Buckets kept outside the process, shared by several instances: 0 when the request may go, else seconds. */
  public interface SharedBuckets {
    Future<Long> acquire(Limit limit, String client);
  }

  private static final Logger LOG = LoggerFactory.getLogger(RateLimiter.class);

  private static final class Bucket {
    double tokens;
    long updatedNanos;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.updatedNanos = now;
    }
  }

  private static final double ROUNDING = 1e-9;

  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final Clock clock;
  private volatile SharedBuckets shared;

  public RateLimiter(Clock clock) {
    this.clock = clock;
  }

  /** From now on the budgets are {@code shared}'s (several instances); this process's buckets stand in for them. */
  public void share(SharedBuckets shared) {
    this.shared = shared;
  }

  /**
   * As {@link #acquire}, from the shared buckets when there are any. When those cannot answer (the database is
   * down), this process's own bucket decides: the limit still holds per instance.
   */
  public Future<Long> acquireShared(Limit limit, String client) {
    SharedBuckets buckets = shared;
    if (buckets == null) {
      return Future.succeededFuture(acquire(limit, client));
    }
    return buckets.acquire(limit, client).recover(e -> {
      LOG.warn("Shared rate-limit bucket unavailable, using this instance's: {}", e.toString());
      return Future.succeededFuture(acquire(limit, client));
    });
  }

  /** 0 when the request may go, else the seconds to wait before one would. */
  public long acquire(Limit limit, String client) {
    long now = nanos();
    double perNano = limit.perHour() / 3_600e9;
    Bucket bucket = buckets.computeIfAbsent(limit.name() + '|' + client, k -> new Bucket(limit.burst(), now));
    synchronized (bucket) {
      bucket.tokens = Math.min(limit.burst(), bucket.tokens + (now - bucket.updatedNanos) * perNano);
      bucket.updatedNanos = now;
      // Within rounding of a whole token counts as one: waiting the Retry-After answered below must be enough,
      // and the refill rate (perHour / 3.6e12 per nanosecond) is not exact in binary.
      if (bucket.tokens >= 1 - ROUNDING) {
        bucket.tokens = Math.max(0, bucket.tokens - 1);
        return 0;
      }
      return Math.max(1, (long) Math.ceil((1 - bucket.tokens) / perNano / 1e9));
    }
  }

  /** Drops buckets that have refilled completely; called from a timer. */
  public void evictFull(Map<String, Limit> limits) {
    long now = nanos();
    buckets.entrySet().removeIf(entry -> {
      Limit limit = limits.get(entry.getKey().substring(0, entry.getKey().indexOf('|')));
      if (limit == null) {
        return true;
      }
      synchronized (entry.getValue()) {
        double tokens = entry.getValue().tokens + (now - entry.getValue().updatedNanos) * (limit.perHour() / 3_600e9);
        return tokens >= limit.burst();
      }
    });
  }

  private long nanos() {
    // The injected clock, so that tests can refill buckets by moving time.
    java.time.Instant t = clock.instant();
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }
}
