package io.portcullis.security;

import io.portcullis.AppContext;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.db.DatabaseVerticle;
import io.portcullis.error.AuthException;
import io.portcullis.session.RefreshTokens;
import io.portcullis.session.SessionListing;
import io.portcullis.session.SessionRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * Account security on the bus: the public session listing ({@code auth.sessions.list}) and the internal
 * operations behind the session, MFA, recovery-code, anonymous-user and re-authentication routes
 * ({@code auth.internal.security}, {@code {op, ...}}). No password hashing happens here.
 */
public final class AccountSecurityVerticle extends DatabaseVerticle {

  public AccountSecurityVerticle(AppContext app) {
    super(app);
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, 10_000);
    SessionListing listing = new SessionListing(
      new SessionRepository(pool, new RefreshTokens(app.keys().refreshSecret()), app.config().sessions()), app.clock());
    return Future.all(
      bus.serve(Addresses.SESSIONS_LIST, msg -> listing.list(msg.body())),
      bus.serve(Addresses.SECURITY, msg -> handle(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))));
  }

  private Future<JsonObject> handle(JsonObject body, String ip, String userAgent) {
    String op = body.getValue("op") instanceof String s ? s : "";
    return switch (op) {
      default -> Future.failedFuture(AuthException.validation("Unknown account-security operation"));
    };
  }
}
