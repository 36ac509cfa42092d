package io.portcullis.account;

import io.portcullis.db.Rows;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.UUID;

/**
 * The links and 6-digit codes sent by mail: both stored only as SHA-256 hashes (the code bound to its address),
 * expiring, single use (consumed by one UPDATE), and only the latest of a kind per user is valid.
 */
public final class OneTimeTokens {

  /** Wrong codes an address may enter before its outstanding codes stop working (a new mail brings a new one). */
  public static final int MAX_CODE_ATTEMPTS = 5;
  public static final String SIGNUP = "signup";
  public static final String RECOVERY = "recovery";
  public static final String MAGICLINK = "magiclink";
  public static final String INVITE = "invite";
  public static final String EMAIL_CHANGE_NEW = "email_change_new";
  public static final String EMAIL_CHANGE_CURRENT = "email_change_current";

  private static final String SUPERSEDE = "UPDATE one_time_tokens SET used_at = $3 "
    + "WHERE user_id = $1 AND type = $2 AND used_at IS NULL";
  private static final String INSERT = "INSERT INTO one_time_tokens (user_id, type, email, link_hash, code_hash, "
    + "redirect_to, created_at, expires_at, flow_state_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
  private static final String RETURNING = " RETURNING id, user_id, type, email, redirect_to, flow_state_id";
  private static final String CONSUME_LINK = "UPDATE one_time_tokens SET used_at = $3 "
    + "WHERE link_hash = $1 AND type = ANY($2) AND used_at IS NULL AND expires_at > $3" + RETURNING;
  private static final String CONSUME_CODE = "UPDATE one_time_tokens SET used_at = $4 WHERE id = ("
    + "SELECT id FROM one_time_tokens WHERE email = $1 AND code_hash = $2 AND type = ANY($3) AND used_at IS NULL "
    + "AND expires_at > $4 AND attempts < " + MAX_CODE_ATTEMPTS + " ORDER BY id DESC LIMIT 1 FOR UPDATE)" + RETURNING;
  /** A wrong code counts against every outstanding code of the address. */
  private static final String WRONG_CODE = "UPDATE one_time_tokens SET attempts = attempts + 1 "
    + "WHERE email = $1 AND used_at IS NULL AND expires_at > $2";
  private static final String OUTSTANDING = "SELECT 1 FROM one_time_tokens WHERE user_id = $1 AND type = $2 "
    + "AND used_at IS NULL AND expires_at > $3";

  /** What goes into the mail. */
  public record Issued(String link, String code) {
  }

  private OneTimeTokens() {
  }

  /** {@code flowStateId}: the PKCE flow the link belongs to, or null. */
  public static Future<Issued> create(SqlClient client, SecureRandom random, UUID userId, String type, String email,
                                      String redirectTo, UUID flowStateId, OffsetDateTime now, Duration ttl) {
    byte[] linkBytes = new byte[32];
    random.nextBytes(linkBytes);
    String link = Base64.getUrlEncoder().withoutPadding().encodeToString(linkBytes);
    String code = String.format("%06d", random.nextInt(1_000_000));
    return client.preparedQuery(SUPERSEDE).execute(Tuple.of(userId, type, now))
      .compose(done -> client.preparedQuery(INSERT).execute(Tuple.of(userId, type, email,
        Buffer.buffer(sha256(link)), Buffer.buffer(codeHash(email, code)), redirectTo, now, now.plus(ttl),
        flowStateId)))
      .map(done -> new Issued(link, code));
  }

  /** The token row consumed by its link, or null when unknown, used, expired or of another type. */
  public static Future<Row> consumeLink(SqlClient client, String link, String[] types, OffsetDateTime now) {
    return client.preparedQuery(CONSUME_LINK).execute(Tuple.of(Buffer.buffer(sha256(link)), types, now))
      .map(Rows::first);
  }

  public static Future<Row> consumeCode(SqlClient client, String email, String code, String[] types, OffsetDateTime now) {
    return client.preparedQuery(CONSUME_CODE)
      .execute(Tuple.of(email, Buffer.buffer(codeHash(email, code)), types, now))
      .map(Rows::first)
      .compose(row -> row != null
        ? Future.succeededFuture(row)
        : client.preparedQuery(WRONG_CODE).execute(Tuple.of(email, now)).map(done -> (Row) null));
  }

  public static Future<Boolean> outstanding(SqlClient client, UUID userId, String type, OffsetDateTime now) {
    return client.preparedQuery(OUTSTANDING).execute(Tuple.of(userId, type, now)).map(rows -> rows.size() > 0);
  }

  /** The {@code amr} method a session signed in by this kind of token carries. */
  public static String amr(String tokenType) {
    switch (tokenType) {
      case RECOVERY:
        return "recovery";
      case SIGNUP:
        return "email/signup";
      case INVITE:
        return "invite";
      case EMAIL_CHANGE_NEW:
      case EMAIL_CHANGE_CURRENT:
        return "email_change";
      default:
        return "otp";
    }
  }

  private static byte[] codeHash(String email, String code) {
    return sha256(email + ":" + code);
  }

  private static byte[] sha256(String value) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
