package io.portcullis.token;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.config.Config;
import io.portcullis.db.DatabaseVerticle;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * The one owner of the process's signing keys (deploy a single instance): re-reads them when a rotation by any
 * process (another instance, the command line) is announced on PostgreSQL's {@code LISTEN} channel
 * {@link SigningKeys#CHANNEL}, and again every {@code jwt.key_refresh_seconds} in case a notice was lost; rotates
 * them on request; and announces a change once on {@code auth.internal.keys.changed}, locally, so that each signer
 * and verifier of the process rebuilds itself from the {@link KeyRing}.
 */
public final class KeysVerticle extends DatabaseVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(KeysVerticle.class);
  /** The longest wait between attempts to listen again after the connection was lost. */
  private static final long MAX_RECONNECT_DELAY_MS = 5_000;

  private final PgConnectOptions database;
  private final Config config;
  private final KeyRing ring;
  private final Clock clock;
  private final SecureRandom random;
  private PgSubscriber subscriber;

  public KeysVerticle(PgConnectOptions database, Config config, KeyRing ring, Clock clock, SecureRandom random) {
    super(database, config.db().poolSize());
    this.database = database;
    this.config = config;
    this.ring = ring;
    this.clock = clock;
    this.random = random;
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, config.http().busTimeoutMs());
    vertx.setPeriodic(config.jwt().keyRefreshSeconds() * 1000L, id -> reload());
    // A connection of its own (LISTEN holds it); retried for ever when lost, one second apart at first.
    subscriber = PgSubscriber.subscriber(vertx, database)
      .reconnectPolicy(retries -> Math.min(retries * 1_000L, MAX_RECONNECT_DELAY_MS));
    subscriber.channel(SigningKeys.CHANNEL)
      // On every (re)connection: a rotation may have been announced while nobody listened.
      .subscribeHandler(listening -> reload())
      .handler(this::rotatedElsewhere);
    return Future.all(List.of(
      subscriber.connect(),
      bus.serve(Addresses.KEYS_JWKS, msg -> Future.succeededFuture(
        new JsonObject().put("keys", ring.current().publishedJwks()))),
      // The same document for other applications (resource servers verifying tokens themselves).
      bus.serve(Addresses.JWKS, msg -> Future.succeededFuture(
        new JsonObject().put("keys", ring.current().publishedJwks()))),
      // The rotation's notice reaches every process (this one too) through the database once it commits.
      bus.serve(Addresses.KEYS_ROTATE, msg -> SigningKeys.rotate(vertx, pool, config.jwt(), clock, random)
        .compose(rotated -> reload().map(rotated)))));
  }

  @Override
  public Future<?> stop() {
    Future<Void> unsubscribed = subscriber == null ? Future.succeededFuture() : subscriber.close();
    return unsubscribed.transform(done -> super.stop());
  }

  /** Re-reads the keys now (the new key is published) and again when the new key starts signing. */
  private void rotatedElsewhere(String notice) {
    reload();
    try {
      long untilActive = Duration.between(clock.instant(),
        OffsetDateTime.parse(new JsonObject(notice).getString("activate_at")).toInstant()).toMillis();
      if (untilActive > 0) {
        vertx.setTimer(untilActive + 1, id -> reload());
      }
    } catch (RuntimeException e) {
      LOG.warn("Rotation notice without a valid activate_at: {}", e.toString());
    }
  }

  /** Reloads the key set and, when it changed, tells the process (private keys stay in the ring, off the bus). */
  private Future<Void> reload() {
    return SigningKeys.load(vertx, pool, config.jwt(), clock, random)
      .onSuccess(next -> {
        String signing = ring.current().signingKid();
        if (!ring.replace(next)) {
          return;
        }
        if (!java.util.Objects.equals(signing, next.signingKid())) {
          LOG.info("Signing with key {} from now on", next.signingKid());
        }
        vertx.eventBus().publish(Addresses.KEYS_CHANGED, new JsonObject()
            .put("verification", new JsonArray(next.verificationJwks()))
            .put("published", next.publishedJwks()),
          new DeliveryOptions().setLocalOnly(true));
      })
      .onFailure(e -> LOG.error("Signing keys not reloaded: {}", e.getMessage()))
      .mapEmpty();
  }
}
