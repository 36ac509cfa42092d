package io.portcullis.token;

import io.portcullis.AppContext;
import io.portcullis.db.DatabaseVerticle;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.bus.BusErrors;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.portcullis.hooks.Hooks;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.portcullis.db.Migrations;
import io.vertx.sqlclient.Tuple;

import java.util.List;

/** Token issuance: sessions, refresh-token rotation, sign-out, token verification for the bus, and JWKS. */
public final class TokenVerticle extends DatabaseVerticle {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TokenVerticle.class);

  private static final String MIGRATED = "SELECT EXISTS (SELECT 1 FROM databasechangelog WHERE id = $1)";

  private KeySet keys;
  private TokenService tokens;
  private TokenVerifier verifier;

  public TokenVerticle(AppContext app) {
    super(app);
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, 10_000);
    Events events = new Events(vertx, pool, app.clock(), app.sessions());
    keys = app.keys();
    tokens = new TokenService(app, pool, new TokenSigner(vertx, keys, app.config().jwt()), events);
    tokens.useHooks(new Hooks(vertx, app.config().hooks(), app.clock()));
    verifier = new TokenVerifier(vertx, app.keys(), app.config().jwt(), app.clock());
    // Rotations (by any instance or the command line) are picked up from the database.
    vertx.setPeriodic(app.config().jwt().keyRefreshSeconds() * 1000L, id -> reload());
    return Future.all(List.of(
      bus.serve(Addresses.SESSIONS_ISSUE, msg -> tokens.issue(TokenService.uuid(msg.body(), "user_id"),
        msg.body().getString("amr_method", "password"), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.TOKENS_REFRESH, msg -> tokens.refresh(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.SESSIONS_END, msg -> tokens.end(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.SESSIONS_UPGRADE, msg -> tokens.upgrade(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.TOKENS_VERIFY, msg -> verify(bus, verifier, msg.body())),
      bus.serve(Addresses.TOKENS_REVOKE, msg -> tokens.revoke(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.TOKENS_INTROSPECT, msg -> introspect(bus, verifier, tokens, msg.body())),
      bus.serve(Addresses.KEYS_JWKS, msg -> Future.succeededFuture(new JsonObject().put("keys", keys.publishedJwks()))),
      bus.serve(Addresses.JWKS, msg -> Future.succeededFuture(new JsonObject().put("keys", keys.publishedJwks()))),
      bus.serve(Addresses.KEYS_ROTATE, msg -> SigningKeys.rotate(vertx, pool, app.config().jwt(), app.clock(), app.random())
        .compose(rotated -> reload().map(rotated))
        // Every process of a cluster (this one's other instances too) re-reads its keys now, not at its next refresh.
        .onSuccess(rotated -> vertx.eventBus().publish(Addresses.KEYS_ROTATED, rotated))),
      vertx.eventBus().<JsonObject>consumer(Addresses.KEYS_ROTATED, msg -> rotatedElsewhere(msg.body())).completion(),
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


  /**
   * Reloads the key set; when the signing key or the published keys changed, signs with the new one, verifies
   * with the new set, and tells this process's HTTP verticles (locally: private keys never travel).
   */
  private Future<Void> reload() {
    return SigningKeys.load(vertx, pool, app.config().jwt(), app.clock(), app.random())
      .onSuccess(next -> {
        boolean signerChanged = !java.util.Objects.equals(next.signingKid(), keys.signingKid());
        boolean publishedChanged = !next.publishedJwks().equals(keys.publishedJwks())
          || !next.verificationJwks().equals(keys.verificationJwks());
        if (!signerChanged && !publishedChanged) {
          return;
        }
        keys = next;
        if (signerChanged) {
          tokens.useSigner(new TokenSigner(vertx, next, app.config().jwt()));
          LOG.info("Signing with key {} from now on", next.signingKid());
        }
        verifier.update(next.verificationJwks());
        vertx.eventBus().publish(Addresses.KEYS_CHANGED, new JsonObject()
            .put("verification", new io.vertx.core.json.JsonArray(next.verificationJwks()))
            .put("published", next.publishedJwks()),
          new io.vertx.core.eventbus.DeliveryOptions().setLocalOnly(true));
      })
      .onFailure(e -> LOG.error("Signing keys not reloaded: {}", e.getMessage()))
      .mapEmpty();
  }

  /** Re-reads the keys now (the new key is published) and when the new key starts signing. */
  private void rotatedElsewhere(JsonObject rotated) {
    reload();
    try {
      long untilActive = java.time.Duration.between(app.clock().instant(),
        java.time.OffsetDateTime.parse(rotated.getString("activate_at")).toInstant()).toMillis();
      if (untilActive > 0) {
        vertx.setTimer(untilActive + 1, id -> reload());
      }
    } catch (RuntimeException e) {
      LOG.warn("Rotation notice without a valid activate_at: {}", e.toString());
    }
  }

  /** An access token that passes every Bearer-route check, or a live refresh token, is active; all else is not. */
  private static Future<JsonObject> introspect(AuthBus bus, TokenVerifier verifier, TokenService tokens, JsonObject body) {
    String token = body.getValue("token") instanceof String s ? s : null;
    if (token == null || token.isEmpty()) {
      return Future.failedFuture(AuthException.validation("token is required"));
    }
    if (token.chars().filter(c -> c == '.').count() != 2) {
      return tokens.introspectRefresh(token);
    }
    return verify(bus, verifier, new JsonObject().put("token", token))
      .map(verified -> {
        JsonObject claims = verified.getJsonObject("claims");
        JsonObject answer = new JsonObject()
          .put("active", true)
          .put("token_type", "access_token")
          .put("scope", "openid email profile");
        for (String claim : new String[] {"sub", "exp", "iat", "nbf", "iss", "aud", "role", "session_id", "email"}) {
          if (claims.containsKey(claim)) {
            answer.put(claim, claims.getValue(claim));
          }
        }
        if (claims.containsKey("email")) {
          answer.put("username", claims.getValue("email"));
        }
        return answer;
      })
      .recover(e -> {
        AuthException error = BusErrors.toAuthException(e);
        return error.status() >= 500 ? Future.failedFuture(error) : Future.succeededFuture(new JsonObject().put("active", false));
      });
  }

}
