package io.portcullis.token;

import io.portcullis.db.DatabaseVerticle;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.portcullis.hooks.Hooks;
import io.portcullis.input.Inputs;
import io.portcullis.config.Config;
import io.portcullis.metrics.AuthMetrics;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.portcullis.db.Migrations;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Tuple;

import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/** Token issuance: sessions, refresh-token rotation, sign-out, token verification and introspection for the bus. */
public final class TokenVerticle extends DatabaseVerticle {

  private static final String MIGRATED = "SELECT EXISTS (SELECT 1 FROM databasechangelog WHERE id = $1)";

  private final Config config;
  private final KeyRing ring;
  private final Clock clock;
  private final AuthMetrics metrics;
  private final Consumer<String> userChanged;
  /** The key this instance's signer uses (read and written on its event loop only). */
  private String signingKid;

  /** {@code ring}: the process's keys, kept by its {@link KeysVerticle}; this instance signs with its own signer. */
  public TokenVerticle(PgConnectOptions database, Config config, KeyRing ring, Clock clock, AuthMetrics metrics,
                       Consumer<String> userChanged) {
    super(database, config.db().poolSize());
    this.config = config;
    this.ring = ring;
    this.clock = clock;
    this.metrics = metrics;
    this.userChanged = userChanged;
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, config.http().busTimeoutMs());
    Events events = new Events(vertx, pool, clock, userChanged);
    KeySet keys = ring.current();
    TokenService tokens = new TokenService(config, pool, new TokenSigner(vertx, keys, config.jwt()),
      keys.refreshSecret(), events, metrics, clock);
    tokens.useHooks(new Hooks(vertx, config.hooks(), clock));
    TokenVerifier verifier = new TokenVerifier(vertx, keys, config.jwt(), clock);
    signingKid = keys.signingKid();
    // A rotation, announced once by the keys' owner: this instance's signer and verifier follow the ring (read
    // again once the consumer is registered, in case a reload came in between).
    Runnable followKeys = () -> {
      KeySet next = ring.current();
      if (!Objects.equals(signingKid, next.signingKid())) {
        signingKid = next.signingKid();
        tokens.useSigner(new TokenSigner(vertx, next, config.jwt()));
      }
      if (next != keys) {
        verifier.update(next.verificationJwks());
      }
    };
    Future<Void> keysChanged = vertx.eventBus().localConsumer(Addresses.KEYS_CHANGED, msg -> followKeys.run())
      .completion().onSuccess(registered -> followKeys.run());
    return Future.all(List.of(keysChanged,
      bus.serve(Addresses.SESSIONS_ISSUE, msg -> tokens.issue(Inputs.requiredUuid(msg.body(), "user_id"),
        msg.body().getString("amr_method", "password"), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.TOKENS_REFRESH, msg -> tokens.refresh(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.SESSIONS_END, msg -> tokens.end(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.SESSIONS_UPGRADE, msg -> tokens.upgrade(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.TOKENS_VERIFY, msg -> verify(bus, verifier, msg.body())),
      bus.serve(Addresses.TOKENS_REVOKE, msg -> tokens.revoke(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.TOKENS_INTROSPECT, msg -> introspect(bus, verifier, tokens, msg.body())),
      bus.serve(Addresses.READY, msg -> pool.preparedQuery(MIGRATED).execute(Tuple.of(Migrations.LATEST))
        .map(rows -> new JsonObject()
          .put("database", "up")
          .put("migrations", rows.iterator().next().getBoolean(0) ? "applied" : "pending")
          .put("keys", "loaded"))
        .recover(e -> Future.failedFuture(new AuthException(ErrorCode.SERVICE_UNAVAILABLE, "Database unavailable", e))))));
  }

  /** Same rules as Bearer routes: a valid signature and claims, then a living user and session. */
  private static Future<JsonObject> verify(AuthBus bus, TokenVerifier verifier, JsonObject body) {
    String token = body.getValue("token") instanceof String s ? s : null;
    if (token == null) {
      return Future.failedFuture(AuthException.validation("Field 'token' is required"));
    }
    return verifier.verify(token).compose(claims -> {
      JsonObject check = new JsonObject()
        .put("user_id", claims.getString("sub"))
        .put("session_id", claims.getString("session_id"))
        .put("role", claims.getString("role"));
      return bus.request(Addresses.SESSIONS_CHECK, check).map(user -> new JsonObject()
        .put("claims", claims)
        .put("user_id", claims.getString("sub"))
        .put("session_id", claims.getString("session_id")));
    });
  }


  /** An access token that passes every Bearer-route check, or a live refresh token, is active; all else is not. */
  private static Future<JsonObject> introspect(AuthBus bus, TokenVerifier verifier, TokenService tokens, JsonObject body) {
    String token = body.getValue("token") instanceof String s ? s : null;
    if (token == null || token.isEmpty()) {
      return Future.failedFuture(AuthException.validation("token is required"));
    }
    if (!Introspection.looksLikeJwt(token)) {
      return tokens.introspectRefresh(token);
    }
    return verify(bus, verifier, new JsonObject().put("token", token))
      .map(verified -> Introspection.active(verified.getJsonObject("claims")))
      .recover(Introspection::inactiveUnlessUnavailable);
  }

}
