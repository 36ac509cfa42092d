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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * The one owner of the process's signing keys (deploy a single instance): re-reads them from the database every
 * {@code jwt.key_refresh_seconds} (rotations by any process or the command line), rotates them on request, and
 * announces a change once on {@code auth.internal.keys.changed}, locally, so that each signer and verifier of the
 * process rebuilds itself from the {@link KeyRing}.
 */
public final class KeysVerticle extends DatabaseVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(KeysVerticle.class);

  private final Config config;
  private final KeyRing ring;
  private final Clock clock;
  private final SecureRandom random;

  public KeysVerticle(PgConnectOptions database, Config config, KeyRing ring, Clock clock, SecureRandom random) {
    super(database, config.db().poolSize());
    this.config = config;
    this.ring = ring;
    this.clock = clock;
    this.random = random;
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, config.http().busTimeoutMs());
    vertx.setPeriodic(config.jwt().keyRefreshSeconds() * 1000L, id -> reload());
    return Future.all(List.of(
      bus.serve(Addresses.KEYS_JWKS, msg -> Future.succeededFuture(
        new JsonObject().put("keys", ring.current().publishedJwks()))),
      // The same document for other applications (resource servers verifying tokens themselves).
      bus.serve(Addresses.JWKS, msg -> Future.succeededFuture(
        new JsonObject().put("keys", ring.current().publishedJwks()))),
      bus.serve(Addresses.KEYS_ROTATE, msg -> SigningKeys.rotate(vertx, pool, config.jwt(), clock, random)
        .compose(rotated -> reload().map(rotated))
        // Every process of a cluster re-reads its keys now, not at its next refresh.
        .onSuccess(rotated -> vertx.eventBus().publish(Addresses.KEYS_ROTATED, rotated))),
      vertx.eventBus().<JsonObject>consumer(Addresses.KEYS_ROTATED, msg -> rotatedElsewhere(msg.body())).completion()));
  }

  /** Re-reads the keys now (the new key is published) and again when the new key starts signing. */
  private void rotatedElsewhere(JsonObject rotated) {
    reload();
    try {
      long untilActive = Duration.between(clock.instant(),
        OffsetDateTime.parse(rotated.getString("activate_at")).toInstant()).toMillis();
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
