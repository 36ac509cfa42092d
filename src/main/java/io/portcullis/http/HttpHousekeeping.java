package io.portcullis.http;

import io.portcullis.bus.Addresses;
import io.portcullis.config.Config;
import io.portcullis.limit.RateLimiter;
import io.portcullis.session.SessionCache;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the HTTP verticles of one process share, kept fresh once for all of them (deploy a single instance): the
 * session-liveness cache forgets a user on each {@code auth.events} event (also another process's, on a clustered
 * bus), and every minute the rate limiter drops its refilled buckets and the cache its expired entries.
 */
public final class HttpHousekeeping extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(HttpHousekeeping.class);
  private static final long EVICTION_MS = 60_000;

  private final Config config;
  private final SessionCache sessions;
  private final RateLimiter limiter;

  public HttpHousekeeping(Config config, SessionCache sessions, RateLimiter limiter) {
    this.config = config;
    this.sessions = sessions;
    this.limiter = limiter;
  }

  @Override
  public Future<?> start() {
    if (!config.rateLimitsEnabled()) {
      LOG.warn("Rate limits are OFF (rate_limits / PORTCULLIS_RATE_LIMITS): use this for load tests only");
    }
    vertx.setPeriodic(EVICTION_MS, id -> {
      limiter.evictFull(Limits.byName(config));
      sessions.evictExpired();
    });
    return vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS,
      msg -> sessions.invalidateUser(msg.body().getString("user_id"))).completion();
  }
}
