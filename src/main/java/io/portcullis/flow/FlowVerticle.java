package io.portcullis.flow;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.config.Config;
import io.portcullis.db.DatabaseVerticle;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** The PKCE code exchange on the bus, and the hourly purge of abandoned flows. */
public final class FlowVerticle extends DatabaseVerticle {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FlowVerticle.class);

  private final Config config;
  private final Clock clock;

  public FlowVerticle(PgConnectOptions database, Config config, Clock clock, SecureRandom random) {
    super(database, config.db().poolSize());
    this.config = config;
    this.clock = clock;
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, config.http().busTimeoutMs());
    PkceExchange exchange = new PkceExchange(pool, bus, clock);
    // A mailed link may start its flow's last step as late as the link expires: flows are kept a day beyond that, so
    // that no PKCE link outlives its flow (and falls back to a session in the fragment).
    long keepSeconds = Math.max(config.mailer().confirmationExp(), config.mailer().otpExp()) + 86_400L;
    vertx.setPeriodic(3_600_000, id -> FlowStates.purge(pool, OffsetDateTime.ofInstant(clock.instant(),
        ZoneOffset.UTC).minusSeconds(keepSeconds))
      .onSuccess(count -> LOG.debug("Purged {} abandoned sign-in flows", count))
      .onFailure(e -> LOG.warn("Purging abandoned sign-in flows failed: {}", e.toString())));
    return bus.serve(Addresses.FLOW_PKCE, msg -> exchange.exchange(msg.body(), AuthBus.ip(msg),
      AuthBus.userAgent(msg)));
  }
}
