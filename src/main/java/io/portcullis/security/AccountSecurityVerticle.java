package io.portcullis.security;

import io.portcullis.AppContext;
import io.portcullis.account.AccountMails;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.db.DatabaseVerticle;
import io.portcullis.error.AuthException;
import io.portcullis.events.Events;
import io.portcullis.mfa.MfaService;
import io.portcullis.mfa.RecoveryCodes;
import io.portcullis.session.RefreshTokens;
import io.portcullis.session.SessionListing;
import io.portcullis.session.SessionRepository;
import io.portcullis.token.KeyCipher;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * Account security on the bus: the public session listing ({@code auth.sessions.list}) and the internal
 * operations behind the session, MFA, recovery-code, anonymous-user and re-authentication routes
 * ({@code auth.internal.security}, {@code {op, ...}}). No password hashing happens here.
 */
public final class AccountSecurityVerticle extends DatabaseVerticle {

  private MfaService mfa;
  private RecoveryCodes recoveryCodes;
  private AnonymousUsers anonymous;
  private Reauthentication reauthentication;

  public AccountSecurityVerticle(AppContext app) {
    super(app);
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, 10_000);
    Events events = new Events(vertx, pool, app.clock(), app.sessions());
    SessionRepository sessions = new SessionRepository(pool, new RefreshTokens(app.keys().refreshSecret()),
      app.config().sessions());
    SessionListing listing = new SessionListing(sessions, app.clock());
    mfa = new MfaService(pool, app.clock(), app.random(),
      KeyCipher.of(app.config().jwt().keysEncryptionKey(), app.random()), app.config().siteUrl(), bus, events, sessions);
    recoveryCodes = new RecoveryCodes(pool, app.clock(), app.random(), mfa, bus, events);
    anonymous = new AnonymousUsers(pool, app.clock(), app.config().signup(), bus, events);
    reauthentication = new Reauthentication(pool, app.clock(), app.config().security(), new AccountMails(app, vertx),
      sessions, events);
    return Future.all(
      bus.serve(Addresses.SESSIONS_LIST, msg -> listing.list(msg.body())),
      bus.serve(Addresses.SECURITY, msg -> handle(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))));
  }

  private Future<JsonObject> handle(JsonObject body, String ip, String userAgent) {
    String op = body.getValue("op") instanceof String s ? s : "";
    return switch (op) {
      case "factor_enroll" -> mfa.enroll(body, ip, userAgent);
      case "factor_challenge" -> mfa.challenge(body, ip);
      case "factor_verify" -> mfa.verify(body, ip, userAgent);
      case "factor_unenroll" -> mfa.unenroll(body, ip, userAgent);
      case "factor_list" -> mfa.list(body);
      case "factor_admin_delete" -> mfa.adminDelete(body, ip, userAgent);
      case "require_aal" -> mfa.requireAalForCredentialChange(body);
      case "recovery_codes_generate" -> recoveryCodes.generate(body, ip, userAgent);
      case "recovery_codes_verify" -> recoveryCodes.verify(body, ip, userAgent);
      case "reauthenticate" -> reauthentication.request(body, ip, userAgent);
      case "reauthentication_check" -> reauthentication.check(body);
      case "anonymous_signup" -> anonymous.signUp(body, ip, userAgent);
      case "anonymous_list" -> anonymous.listStale(body);
      case "anonymous_delete" -> anonymous.deleteStale(body, ip, userAgent);
      default -> Future.failedFuture(AuthException.validation("Unknown account-security operation"));
    };
  }
}
