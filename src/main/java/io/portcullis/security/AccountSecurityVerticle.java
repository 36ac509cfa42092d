package io.portcullis.security;

import io.portcullis.account.AccountMails;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.config.Config;
import io.portcullis.db.DatabaseVerticle;
import io.portcullis.error.AuthException;
import io.portcullis.events.Events;
import io.portcullis.mfa.MfaService;
import io.portcullis.mfa.RecoveryCodes;
import io.portcullis.session.RefreshTokens;
import io.portcullis.session.SessionListing;
import io.portcullis.session.SessionRepository;
import io.portcullis.token.KeyCipher;
import io.portcullis.token.KeyRing;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.function.Consumer;

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

  private final Config config;
  private final KeyRing keys;
  private final Clock clock;
  private final SecureRandom random;
  private final AccountMails.Factory mails;
  private final Consumer<String> userChanged;

  public AccountSecurityVerticle(PgConnectOptions database, Config config, KeyRing keys, Clock clock,
                                 SecureRandom random, AccountMails.Factory mails, Consumer<String> userChanged) {
    super(database, config.db().poolSize());
    this.config = config;
    this.keys = keys;
    this.clock = clock;
    this.random = random;
    this.mails = mails;
    this.userChanged = userChanged;
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, config.http().busTimeoutMs());
    Events events = new Events(vertx, pool, clock, userChanged);
    SessionRepository sessions = new SessionRepository(pool, new RefreshTokens(keys.current().refreshSecret()),
      config.sessions());
    SessionListing listing = new SessionListing(sessions, clock);
    mfa = new MfaService(pool, clock, random,
      KeyCipher.of(config.jwt().keysEncryptionKey(), random), config.siteUrl(), bus, events, sessions);
    recoveryCodes = new RecoveryCodes(pool, clock, random, mfa, bus, events);
    anonymous = new AnonymousUsers(pool, clock, config.signup(), bus, events);
    reauthentication = new Reauthentication(pool, clock, config.security(), mails.on(vertx),
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
