package io.portcullis.flow;

import io.portcullis.AppContext;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.db.DatabaseVerticle;
import io.vertx.core.Future;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** The PKCE code exchange on the bus, and the hourly purge of abandoned flows. */
public final class FlowVerticle extends DatabaseVerticle {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FlowVerticle.class);

  public FlowVerticle(AppContext app) {
    super(app);
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, 10_000);
    PkceExchange exchange = new PkceExchange(pool, bus, app.clock());
    // A mailed link may start its flow's last step as late as the link expires: flows are kept a day beyond that, so
    // that no PKCE link outlives its flow (and falls back to a session in the fragment).
    long keepSeconds = Math.max(app.config().mailer().confirmationExp(), app.config().mailer().otpExp()) + 86_400L;
    vertx.setPeriodic(3_600_000, id -> FlowStates.purge(pool, OffsetDateTime.ofInstant(app.clock().instant(),
        ZoneOffset.UTC).minusSeconds(keepSeconds))
      .onSuccess(count -> LOG.debug("Purged {} abandoned sign-in flows", count))
      .onFailure(e -> LOG.warn("Purging abandoned sign-in flows failed: {}", e.toString())));
    return bus.serve(Addresses.FLOW_PKCE, msg -> exchange.exchange(msg.body(), AuthBus.ip(msg),
      AuthBus.userAgent(msg)));
  }
}
