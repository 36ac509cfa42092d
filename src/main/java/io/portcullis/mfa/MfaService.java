package io.portcullis.mfa;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.db.Rows;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.portcullis.input.Inputs;
import io.portcullis.session.SessionRepository;
import io.portcullis.token.KeyCipher;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * TOTP factors as GoTrue's MFA API answers them (so supabase-js's {@code auth.mfa.*} works): enrolment,
 * challenges, verification that raises the session to aal2, unenrolment, and the admin view. Beyond GoTrue, a code
 * is accepted at most once (the last accepted time step is kept per factor) and a challenge ends after
 * {@link #MAX_ATTEMPTS} wrong codes.
 */
public final class MfaService {

  /** Seconds a challenge may be answered, and an unverified factor waits for its first code (GoTrue's 300). */
  public static final int CHALLENGE_EXPIRY_SECONDS = 300;
  public static final int UNVERIFIED_FACTOR_EXPIRY_SECONDS = 300;
  public static final int MAX_FACTORS = 10;
  public static final int MAX_ATTEMPTS = 5;
  private static final int SECRET_BYTES = 20;

  /** Event types on {@code auth.events} and in the audit log. */
  public static final String ENROLLED = "mfa.factor_enrolled";
  public static final String VERIFIED = "mfa.challenge_verified";
  public static final String FAILED = "mfa.verification_failed";
  public static final String UNENROLLED = "mfa.factor_deleted";

  private enum Outcome { ACCEPTED, WRONG_CODE, FACTOR_NOT_FOUND, CHALLENGE_NOT_FOUND, EXPIRED, IP_MISMATCH }

  private record Verification(Outcome outcome, Row factor) {
  }

  private final Pool pool;
  private final Clock clock;
  private final SecureRandom random;
  private final KeyCipher cipher;
  private final String defaultIssuer;
  private final AuthBus bus;
  private final Events events;
  private final SessionRepository sessions;

  /** {@code cipher} null stores secrets in clear (no {@code jwt.keys_encryption_key}). */
  public MfaService(Pool pool, Clock clock, SecureRandom random, KeyCipher cipher, String siteUrl, AuthBus bus,
                    Events events, SessionRepository sessions) {
    this.pool = pool;
    this.clock = clock;
    this.random = random;
    this.cipher = cipher;
    String host = URI.create(siteUrl).getHost();
    this.defaultIssuer = host == null ? "Portcullis" : host;
    this.bus = bus;
    this.events = events;
    this.sessions = sessions;
  }

  /**
   * {@code {user_id, session_id, account, factor_type, friendly_name?, issuer?}} → {@code {id, type, friendly_name,
   * totp:{qr_code, secret, uri}}}: a new unverified TOTP factor; the secret is shown this once.
   */
  public Future<JsonObject> enroll(JsonObject body, String ip, String userAgent) {
    UUID userId = Fields.uuid(body, "user_id");
    UUID sessionId = Fields.uuid(body, "session_id");
    String type = Fields.string(body, "factor_type");
    AuthException refused = refusedFactorType(type);
    if (refused != null) {
      return Future.failedFuture(refused);
    }
    String friendlyName = Fields.string(body, "friendly_name");
    String issuer = Fields.string(body, "issuer");
    if (issuer == null || issuer.isBlank()) {
      issuer = defaultIssuer;
    }
    if (issuer.contains(":")) {
      return Future.failedFuture(AuthException.validation("issuer must not contain ':'"));
    }
    String account = Fields.string(body, "account");
    OffsetDateTime now = Rows.now(clock);
    UUID factorId = UUID.randomUUID();
    byte[] key = new byte[SECRET_BYTES];
    random.nextBytes(key);
    String secret = Base32.encode(key);
    String uri = "otpauth://totp/" + encode(issuer) + ":" + encode(account == null ? userId.toString() : account)
      + "?secret=" + secret + "&issuer=" + encode(issuer) + "&algorithm=SHA1&digits=" + Totp.DIGITS
      + "&period=" + Totp.PERIOD_SECONDS;
    String stored = cipher == null ? secret : cipher.encrypt(secret, factorId.toString());
    return pool.withTransaction(conn -> {
      MfaRepository factors = new MfaRepository(conn);
      return factors.purgeUnverified(userId, now.minusSeconds(UNVERIFIED_FACTOR_EXPIRY_SECONDS))
        .compose(done -> factors.counts(userId))
        .compose(counts -> {
          if (counts[0] >= MAX_FACTORS) {
            return Future.failedFuture(new AuthException(ErrorCode.TOO_MANY_ENROLLED_MFA_FACTORS,
              "Maximum number of verified factors reached, unenroll to continue"));
          }
          return counts[1] > 0 ? requireAal2(sessionId, userId, 403) : Future.<Void>succeededFuture();
        })
        .compose(done -> factors.insert(factorId, userId, friendlyName, type, stored, now));
    })
      .compose(done -> events.emit(ENROLLED, userId, sessionId, ip, userAgent))
      .map(done -> new JsonObject()
        .put("id", factorId.toString())
        .put("type", type)
        .put("friendly_name", friendlyName == null ? "" : friendlyName)
        .put("totp", new JsonObject()
          .put("qr_code", QrSvg.of(uri))
          .put("secret", secret)
          .put("uri", uri)));
  }

  /** Why a factor of this type cannot be enrolled (only TOTP is enabled), or null when it can. */
  private static AuthException refusedFactorType(String type) {
    if (type == null || type.isEmpty()) {
      return AuthException.validation("factor_type is required");
    }
    return switch (type) {
      case "totp" -> null;
      case "phone" -> new AuthException(ErrorCode.MFA_PHONE_ENROLL_NOT_ENABLED, "MFA enroll is disabled for Phone");
      case "webauthn" -> new AuthException(ErrorCode.MFA_WEBAUTHN_ENROLL_NOT_ENABLED,
        "MFA enroll is disabled for WebAuthn");
      default -> AuthException.validation("factor_type needs to be totp, phone or webauthn");
    };
  }

  /** {@code {user_id, factor_id}} → {@code {id, type, expires_at}}: a challenge answerable from {@code ip} only. */
  public Future<JsonObject> challenge(JsonObject body, String ip) {
    UUID userId = Fields.uuid(body, "user_id");
    UUID factorId = Fields.uuid(body, "factor_id");
    OffsetDateTime now = Rows.now(clock);
    UUID challengeId = UUID.randomUUID();
    return pool.withTransaction(conn -> {
      MfaRepository factors = new MfaRepository(conn);
      return factors.purgeUnverified(userId, now.minusSeconds(UNVERIFIED_FACTOR_EXPIRY_SECONDS))
        .compose(done -> factorId == null ? Future.succeededFuture(null) : factors.find(factorId, userId))
        .compose(factor -> factor == null
          ? Future.failedFuture(factorNotFound())
          : factors.challenge(challengeId, factorId, ip, now).map(factor));
    }).map(factor -> new JsonObject()
      .put("id", challengeId.toString())
      .put("type", factor.getString("factor_type"))
      .put("expires_at", now.plusSeconds(CHALLENGE_EXPIRY_SECONDS).toEpochSecond()));
  }

  /**
   * {@code {user_id, session_id, factor_id, challenge_id, code}} → a session raised to aal2 (amr {@code totp}).
   * The check runs under a lock on the factor row, so two requests cannot both spend one code.
   */
  public Future<JsonObject> verify(JsonObject body, String ip, String userAgent) {
    UUID userId = Fields.uuid(body, "user_id");
    UUID sessionId = Fields.uuid(body, "session_id");
    UUID factorId = Fields.uuid(body, "factor_id");
    String code = Fields.string(body, "code");
    String rawChallenge = Fields.string(body, "challenge_id");
    if (code == null || code.isBlank()) {
      return Future.failedFuture(AuthException.validation("Code must not be empty"));
    }
    if (rawChallenge == null || rawChallenge.isBlank()) {
      return Future.failedFuture(AuthException.validation("challenge_id is required"));
    }
    UUID challengeId = Inputs.uuidOrNull(rawChallenge);
    OffsetDateTime now = Rows.now(clock);
    Future<Verification> checked = pool.withTransaction(conn -> {
      MfaRepository factors = new MfaRepository(conn);
      return (factorId == null ? Future.<Row>succeededFuture(null) : factors.lock(factorId, userId)).compose(factor -> {
        if (factor == null || expiredUnverified(factor, now)) {
          return Future.succeededFuture(new Verification(Outcome.FACTOR_NOT_FOUND, null));
        }
        return (challengeId == null ? Future.<Row>succeededFuture(null) : factors.lockChallenge(challengeId, factorId))
          .compose(challenge -> check(factors, factor, challenge, code.trim(), ip, now));
      });
    });
    return checked.compose(result -> switch (result.outcome()) {
      case ACCEPTED -> events.emit(VERIFIED, userId, sessionId, ip, userAgent)
        .compose(done -> bus.request(Addresses.SESSIONS_UPGRADE, new JsonObject()
          .put("user_id", userId.toString())
          .put("session_id", sessionId.toString())
          .put("method", "totp")
          .put("factor_id", factorId.toString()), ip, userAgent));
      case WRONG_CODE -> events.emit(FAILED, userId, sessionId, ip, userAgent)
        .compose(done -> Future.failedFuture(new AuthException(ErrorCode.MFA_VERIFICATION_FAILED,
          "Invalid TOTP code entered")));
      case FACTOR_NOT_FOUND -> Future.failedFuture(factorNotFound());
      case CHALLENGE_NOT_FOUND -> Future.failedFuture(AuthException.withStatus(ErrorCode.MFA_FACTOR_NOT_FOUND, 422,
        "MFA factor with the provided challenge ID not found"));
      case EXPIRED -> Future.failedFuture(new AuthException(ErrorCode.MFA_CHALLENGE_EXPIRED,
        "MFA challenge has expired, verify against another challenge or create a new challenge."));
      case IP_MISMATCH -> Future.failedFuture(new AuthException(ErrorCode.MFA_IP_ADDRESS_MISMATCH,
        "Challenge and verify IP addresses mismatch."));
    });
  }

  private Future<Verification> check(MfaRepository factors, Row factor, Row challenge, String code, String ip,
                                     OffsetDateTime now) {
    if (challenge == null) {
      return Future.succeededFuture(new Verification(Outcome.CHALLENGE_NOT_FOUND, factor));
    }
    UUID challengeId = challenge.getUUID("id");
    if (!now.isBefore(challenge.getOffsetDateTime("created_at").plusSeconds(CHALLENGE_EXPIRY_SECONDS))
      || challenge.getInteger("attempts") >= MAX_ATTEMPTS) {
      return Future.succeededFuture(new Verification(Outcome.EXPIRED, factor));
    }
    if (!java.util.Objects.equals(challenge.getString("ip"), ip)) {
      return Future.succeededFuture(new Verification(Outcome.IP_MISMATCH, factor));
    }
    byte[] key;
    try {
      key = Base32.decode(secret(factor));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    Long last = factor.getLong("last_step");
    long step = code.length() == Totp.DIGITS
      ? Totp.matchingStep(key, code, Totp.step(now.toInstant()), last == null ? Long.MIN_VALUE : last)
      : -1;
    if (step < 0) {
      // Committed with the failed answer: the fifth wrong code ends the challenge.
      return factors.failedAttempt(challengeId).map(new Verification(Outcome.WRONG_CODE, factor));
    }
    return factors.deleteChallenge(challengeId)
      .compose(done -> factors.accepted(factor, step, now))
      .map(new Verification(Outcome.ACCEPTED, factor));
  }

  /**
   * {@code {user_id, session_id, factor_id}} → {@code {id}}. A verified factor can only be removed from an aal2
   * session (422 insufficient_aal, as GoTrue); sessions it raised fall back to aal1, and with the last verified
   * factor the recovery codes go too.
   */
  public Future<JsonObject> unenroll(JsonObject body, String ip, String userAgent) {
    UUID userId = Fields.uuid(body, "user_id");
    UUID sessionId = Fields.uuid(body, "session_id");
    UUID factorId = Fields.uuid(body, "factor_id");
    if (factorId == null) {
      return Future.failedFuture(factorNotFound());
    }
    return new MfaRepository(pool).find(factorId, userId)
      .compose(factor -> {
        if (factor == null) {
          return Future.failedFuture(factorNotFound());
        }
        return "verified".equals(factor.getString("status"))
          ? requireAal2(sessionId, userId, 422)
          : Future.<Void>succeededFuture();
      })
      .compose(ok -> remove(factorId, userId))
      .compose(removed -> events.emit(UNENROLLED, userId, sessionId, ip, userAgent)
        .map(done -> new JsonObject().put("id", factorId.toString())));
  }

  /** {@code {user_id}} → {@code {factors:[...]}}, every factor of the user (admin). */
  public Future<JsonObject> list(JsonObject body) {
    UUID userId = Fields.uuid(body, "user_id");
    return new MfaRepository(pool).list(userId).map(rows -> {
      JsonArray factors = new JsonArray();
      rows.forEach(row -> factors.add(MfaRepository.json(row)));
      return new JsonObject().put("factors", factors);
    });
  }

  /** {@code {user_id, factor_id, actor_id?}} → the deleted factor (admin; no aal needed). */
  public Future<JsonObject> adminDelete(JsonObject body, String ip, String userAgent) {
    UUID userId = Fields.uuid(body, "user_id");
    UUID factorId = Fields.uuid(body, "factor_id");
    if (factorId == null) {
      return Future.failedFuture(factorNotFound());
    }
    return remove(factorId, userId).compose(removed -> events.emit(UNENROLLED, userId, null, ip, userAgent,
        Fields.uuid(body, "actor_id"))
      .map(done -> MfaRepository.json(removed)));
  }

  private Future<Row> remove(UUID factorId, UUID userId) {
    return pool.withTransaction(conn -> new MfaRepository(conn).delete(factorId, userId).compose(removed -> removed == null
      ? Future.failedFuture(factorNotFound())
      : sessions.downgrade(conn, factorId)
        .compose(done -> new MfaRepository(conn).counts(userId))
        .compose(counts -> counts[1] == 0 ? RecoveryCodes.deleteAll(conn, userId) : Future.<Void>succeededFuture())
        .map(removed)));
  }

  /**
   * {@code {user_id, session_id}} → {@code {}} when a change of email or password may go ahead: the user has no
   * verified factor, or the session is aal2. Else 401 insufficient_aal, as GoTrue answers {@code PUT /user}.
   */
  public Future<JsonObject> requireAalForCredentialChange(JsonObject body) {
    UUID userId = Fields.uuid(body, "user_id");
    UUID sessionId = Fields.uuid(body, "session_id");
    return new MfaRepository(pool).counts(userId).compose(counts -> counts[1] == 0
      ? Future.succeededFuture(new JsonObject())
      : requireAal2(sessionId, userId, 401).map(new JsonObject()));
  }

  /** Fails with insufficient_aal (answered with {@code status}) unless the session is aal2. */
  Future<Void> requireAal2(UUID sessionId, UUID userId, int status) {
    return sessions.aalOf(sessionId, userId).compose(aal -> "aal2".equals(aal)
      ? Future.<Void>succeededFuture()
      : Future.failedFuture(AuthException.withStatus(ErrorCode.INSUFFICIENT_AAL, status,
        "AAL2 required to perform this action")));
  }

  private String secret(Row factor) {
    String stored = factor.getString("secret");
    if (!KeyCipher.isEncrypted(stored)) {
      return stored;
    }
    if (cipher == null) {
      throw new IllegalStateException("An MFA secret is encrypted but jwt.keys_encryption_key is not set");
    }
    return cipher.decrypt(stored, factor.getUUID("id").toString());
  }

  private static boolean expiredUnverified(Row factor, OffsetDateTime now) {
    return "unverified".equals(factor.getString("status"))
      && !now.isBefore(factor.getOffsetDateTime("created_at").plusSeconds(UNVERIFIED_FACTOR_EXPIRY_SECONDS));
  }

  static AuthException factorNotFound() {
    return new AuthException(ErrorCode.MFA_FACTOR_NOT_FOUND, "Factor not found");
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
