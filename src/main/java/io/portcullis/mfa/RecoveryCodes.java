package io.portcullis.mfa;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.db.Rows;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * Recovery codes: ten single-use codes that stand in for the user's TOTP factor. Generated from an aal2 session
 * (each set replaces the last, shown once, stored as hashes); one of them raises an aal1 session to aal2.
 */
public final class RecoveryCodes {

  public static final int COUNT = 10;
  public static final String GENERATED = "mfa.recovery_codes_generated";
  public static final String USED = "mfa.recovery_code_used";
  public static final String FAILED = "mfa.recovery_code_failed";
  private static final String ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";

  private static final String DELETE_ALL = "DELETE FROM mfa_recovery_codes WHERE user_id = $1";
  private static final String INSERT = "INSERT INTO mfa_recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)";
  private static final String SPEND = "UPDATE mfa_recovery_codes SET used_at = $3 WHERE id = (SELECT id "
    + "FROM mfa_recovery_codes WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL LIMIT 1 FOR UPDATE) "
    + "RETURNING id";

  private final Pool pool;
  private final Clock clock;
  private final SecureRandom random;
  private final MfaService mfa;
  private final AuthBus bus;
  private final Events events;

  public RecoveryCodes(Pool pool, Clock clock, SecureRandom random, MfaService mfa, AuthBus bus, Events events) {
    this.pool = pool;
    this.clock = clock;
    this.random = random;
    this.mfa = mfa;
    this.bus = bus;
    this.events = events;
  }

  /** Every recovery code of the user is gone (in the caller's transaction). */
  static Future<Void> deleteAll(SqlClient client, UUID userId) {
    return client.preparedQuery(DELETE_ALL).execute(Tuple.of(userId)).mapEmpty();
  }

  /**
   * {@code {user_id, session_id}} → {@code {codes:[10 codes]}}. Needs an aal2 session (403 insufficient_aal), which
   * only a user with a verified factor can have.
   */
  public Future<JsonObject> generate(JsonObject body, String ip, String userAgent) {
    UUID userId = Fields.uuid(body, "user_id");
    UUID sessionId = Fields.uuid(body, "session_id");
    OffsetDateTime now = Rows.now(clock);
    List<String> codes = new ArrayList<>();
    for (int i = 0; i < COUNT; i++) {
      codes.add(code());
    }
    return mfa.requireAal2(sessionId, userId, 403)
      .compose(ok -> pool.withTransaction(conn -> {
        Future<Void> written = deleteAll(conn, userId);
        for (String code : codes) {
          written = written.compose(done -> conn.preparedQuery(INSERT)
            .execute(Tuple.of(userId, Buffer.buffer(hash(code)), now)).mapEmpty());
        }
        return written;
      }))
      .compose(done -> events.emit(GENERATED, userId, sessionId, ip, userAgent))
      .map(done -> new JsonObject().put("codes", new JsonArray(codes)));
  }

  /**
   * {@code {user_id, session_id, code}} → the session raised to aal2 (amr {@code recovery_code}); the code is spent.
   * A wrong or spent code is 422 mfa_verification_failed.
   */
  public Future<JsonObject> verify(JsonObject body, String ip, String userAgent) {
    UUID userId = Fields.uuid(body, "user_id");
    UUID sessionId = Fields.uuid(body, "session_id");
    String code = Fields.string(body, "code");
    if (code == null || code.isBlank()) {
      return Future.failedFuture(AuthException.validation("Code must not be empty"));
    }
    return pool.preparedQuery(SPEND).execute(Tuple.of(userId, Buffer.buffer(hash(normalize(code))), Rows.now(clock)))
      .compose(spent -> spent.rowCount() == 0
        ? events.emit(FAILED, userId, sessionId, ip, userAgent).compose(done -> Future.<JsonObject>failedFuture(
          new AuthException(ErrorCode.MFA_VERIFICATION_FAILED, "Invalid recovery code entered")))
        : events.emit(USED, userId, sessionId, ip, userAgent).compose(done -> bus.request(Addresses.SESSIONS_UPGRADE,
          new JsonObject()
            .put("user_id", userId.toString())
            .put("session_id", sessionId.toString())
            .put("method", "recovery_code"), ip, userAgent)));
  }

  /** Ten characters of an unambiguous alphabet (50 bits), shown as two groups of five. */
  private String code() {
    StringBuilder out = new StringBuilder(11);
    for (int i = 0; i < 10; i++) {
      if (i == 5) {
        out.append('-');
      }
      out.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return out.toString();
  }

  /** What the user types: any case, with or without the dash and spaces. */
  private static String normalize(String code) {
    String bare = code.toLowerCase(Locale.ROOT).replaceAll("[\\s-]", "");
    return bare.length() == 10 ? bare.substring(0, 5) + "-" + bare.substring(5) : bare;
  }

  private static byte[] hash(String code) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(code.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
