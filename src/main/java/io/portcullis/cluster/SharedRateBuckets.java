package io.portcullis.cluster;

import io.portcullis.limit.RateLimiter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * Rate-limit buckets in PostgreSQL, which every instance of a cluster shares: a client that alternates between
 * instances spends one budget, not one per instance. One statement per request takes a token atomically (the row
 * lock orders concurrent takers); the buckets live in the database rather than in Hazelcast so that no member
 * needs Portcullis's classes to hold them (an application joined to the cluster holds Hazelcast data too).
 */
public final class SharedRateBuckets implements RateLimiter.SharedBuckets {

  private static final Logger LOG = LoggerFactory.getLogger(SharedRateBuckets.class);
  private static final long EVICTION_MS = 60_000;

  /** $1 key, $2 burst, $3 now, $4 tokens per second. */
  private static final String REFILLED = "LEAST($2::float8, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM ($3::timestamptz - b.updated_at))"
    + "::float8) * $4::float8)";
  private static final String TAKE = "INSERT INTO rate_limit_buckets AS b (key, tokens, granted, updated_at, full_at) "
    + "VALUES ($1, $2::float8 - 1, true, $3::timestamptz, $3::timestamptz + make_interval(secs => 1 / $4::float8)) "
    + "ON CONFLICT (key) DO UPDATE SET "
    + "granted = " + REFILLED + " >= 1, "
    + "tokens = " + REFILLED + " - CASE WHEN " + REFILLED + " >= 1 THEN 1 ELSE 0 END, "
    + "updated_at = GREATEST(b.updated_at, $3::timestamptz), "
    + "full_at = GREATEST(b.updated_at, $3::timestamptz) + make_interval(secs => ($2::float8 - (" + REFILLED
    + " - CASE WHEN " + REFILLED + " >= 1 THEN 1 ELSE 0 END)) / $4::float8) "
    + "RETURNING tokens, granted";
  private static final String EVICT = "DELETE FROM rate_limit_buckets WHERE full_at < $1";

  private final Pool pool;
  private final Clock clock;

  public SharedRateBuckets(Pool pool, Clock clock) {
    this.pool = pool;
    this.clock = clock;
  }

  /** Drops refilled buckets every minute (any instance may: a missing bucket is a full one). */
  public SharedRateBuckets evictPeriodically(Vertx vertx) {
    vertx.setPeriodic(EVICTION_MS, id -> pool.preparedQuery(EVICT).execute(Tuple.of(now()))
      .onFailure(e -> LOG.warn("Refilled rate-limit buckets not evicted: {}", e.toString())));
    return this;
  }

  @Override
  public Future<Long> acquire(RateLimiter.Limit limit, String client) {
    double perSecond = limit.perHour() / 3600.0;
    return pool.preparedQuery(TAKE)
      .execute(Tuple.of(limit.name() + '|' + client, (double) limit.burst(), now(), perSecond))
      .map(rows -> {
        Row row = rows.iterator().next();
        if (row.getBoolean("granted")) {
          return 0L;
        }
        return Math.max(1, (long) Math.ceil((1 - row.getDouble("tokens")) / perSecond));
      });
  }

  private OffsetDateTime now() {
    return OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC);
  }
}
