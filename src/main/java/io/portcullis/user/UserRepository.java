package io.portcullis.user;

import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.UUID;

/** All SQL about users. Emails arrive here already normalized (trimmed, lower-cased). */
public final class UserRepository {

  private static final String UNIQUE_VIOLATION = "23505";
  private static final String BY_ID = "SELECT " + UserJson.COLUMNS + " FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL";
  private static final String BY_EMAIL = "SELECT " + UserJson.COLUMNS
    + " FROM users u WHERE u.email = $1 AND u.deleted_at IS NULL";
  private static final String INSERT = "INSERT INTO users AS u (id, email, encrypted_password, email_confirmed_at, "
    + "user_metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING " + UserJson.COLUMNS;
  private static final String SET_HASH = "UPDATE users SET encrypted_password = $2 WHERE id = $1";
  private static final String SIGNED_IN = "UPDATE users SET last_sign_in_at = $2 WHERE id = $1";
  /** A new email applied at once (autoconfirm) is confirmed, and makes an anonymous user a permanent one. */
  private static final String UPDATE = "UPDATE users AS u SET "
    + "email = COALESCE($2, u.email), "
    + "email_confirmed_at = CASE WHEN $2::text IS NULL THEN u.email_confirmed_at "
    + "ELSE COALESCE(u.email_confirmed_at, $6) END, "
    + "is_anonymous = u.is_anonymous AND $2::text IS NULL, "
    + "encrypted_password = COALESCE($3, u.encrypted_password), "
    + "user_metadata = (u.user_metadata || $4::jsonb) - $5::text[], "
    + "updated_at = $6 "
    + "WHERE u.id = $1 AND u.deleted_at IS NULL RETURNING " + UserJson.COLUMNS;
  /** A user with the liveness of one of their sessions: the check behind every Bearer route. */
  private static final String WITH_SESSION = "SELECT " + UserJson.COLUMNS + ", "
    + "EXISTS (SELECT 1 FROM sessions s WHERE s.id = $2 AND s.user_id = u.id "
    + "AND (s.not_after IS NULL OR s.not_after > $3)) AS session_alive "
    + "FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL";

  private static final String INSERT_ANONYMOUS = "INSERT INTO users AS u (id, is_anonymous, user_metadata, created_at, "
    + "updated_at) VALUES ($1, true, $2, $3, $3) RETURNING " + UserJson.COLUMNS;

  /** Anonymous users created before $1 with no session active since (created or refreshed at or after $1). */
  private static final String STALE_ANONYMOUS = "FROM users u WHERE u.is_anonymous AND u.deleted_at IS NULL "
    + "AND u.created_at < $1 AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id "
    + "AND COALESCE(s.refreshed_at, s.created_at) >= $1)";
  private static final String LIST_STALE_ANONYMOUS = "SELECT " + UserJson.COLUMNS + " " + STALE_ANONYMOUS
    + " ORDER BY u.created_at, u.id LIMIT $2";
  private static final String DELETE_STALE_ANONYMOUS = "DELETE " + STALE_ANONYMOUS
    + " RETURNING u.id";

  private final SqlClient client;

  public UserRepository(SqlClient client) {
    this.client = client;
  }

  public Future<Row> findById(UUID id) {
    return client.preparedQuery(BY_ID).execute(Tuple.of(id)).map(UserRepository::first);
  }

  public Future<Row> findByEmail(String email) {
    return client.preparedQuery(BY_EMAIL).execute(Tuple.of(email)).map(UserRepository::first);
  }

  /** The user row plus a boolean {@code session_alive} column; null when the user does not exist. */
  public Future<Row> findWithSession(UUID userId, UUID sessionId, OffsetDateTime now) {
    return client.preparedQuery(WITH_SESSION).execute(Tuple.of(userId, sessionId, now)).map(UserRepository::first);
  }

  public Future<Row> insert(UUID id, String email, String hash, OffsetDateTime confirmedAt, JsonObject metadata,
                            OffsetDateTime now) {
    return client.preparedQuery(INSERT)
      .execute(Tuple.of(id, email, hash, confirmedAt, metadata, now))
      .map(UserRepository::first)
      .recover(e -> Future.failedFuture(isUniqueViolation(e)
        ? new AuthException(ErrorCode.USER_ALREADY_EXISTS, "User already registered")
        : e));
  }

  /** A user without email, phone or password (anonymous sign-in). */
  public Future<Row> insertAnonymous(UUID id, JsonObject metadata, OffsetDateTime now) {
    return client.preparedQuery(INSERT_ANONYMOUS).execute(Tuple.of(id, metadata, now)).map(UserRepository::first);
  }

  /** Up to {@code limit} anonymous users inactive since {@code cutoff}, oldest first. */
  public Future<RowSet<Row>> staleAnonymous(OffsetDateTime cutoff, int limit) {
    return client.preparedQuery(LIST_STALE_ANONYMOUS).execute(Tuple.of(cutoff, limit));
  }

  /** Deletes the anonymous users inactive since {@code cutoff}; answers their ids. */
  public Future<java.util.List<UUID>> deleteStaleAnonymous(OffsetDateTime cutoff) {
    return client.preparedQuery(DELETE_STALE_ANONYMOUS).execute(Tuple.of(cutoff)).map(rows -> {
      java.util.List<UUID> ids = new java.util.ArrayList<>();
      rows.forEach(row -> ids.add(row.getUUID("id")));
      return ids;
    });
  }

  public Future<Void> setHash(UUID id, String hash) {
    return client.preparedQuery(SET_HASH).execute(Tuple.of(id, hash)).mapEmpty();
  }

  public Future<Void> markSignedIn(UUID id, OffsetDateTime at) {
    return client.preparedQuery(SIGNED_IN).execute(Tuple.of(id, at)).mapEmpty();
  }

  /**
   * Applies a profile update; null arguments leave the column as it is. Metadata keys in {@code removeKeys} are
   * deleted, the others merged. Answers the updated row, or null when the user no longer exists.
   */
  public Future<Row> update(UUID id, String email, String hash, JsonObject merge, String[] removeKeys,
                            OffsetDateTime now) {
    return client.preparedQuery(UPDATE)
      .execute(Tuple.of(id, email, hash, merge, removeKeys, now))
      .map(UserRepository::first)
      .recover(e -> Future.failedFuture(isUniqueViolation(e)
        ? new AuthException(ErrorCode.EMAIL_EXISTS, "A user with this email address has already been registered")
        : e));
  }

  private static boolean isUniqueViolation(Throwable e) {
    return e instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState());
  }

  private static Row first(RowSet<Row> rows) {
    var it = rows.iterator();
    return it.hasNext() ? it.next() : null;
  }
}
