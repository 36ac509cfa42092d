package io.portcullis.user;

import io.portcullis.db.Rows;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * All SQL about users and their roles ({@code users}, {@code user_roles}). Emails arrive here already normalized
 * (trimmed, lower-cased). Works on a pool or, for a caller's transaction, on its connection.
 */
public final class UserRepository {

  /** The roles of a user, as vertx-auth-sql-client's authorization reads them (its user name is the user id). */
  public static final String ROLES_QUERY = "SELECT role FROM user_roles WHERE user_id = $1::text::uuid";

  private static final String COLUMNS = UserJson.COLUMNS;
  private static final String BY_ID = "SELECT " + COLUMNS + " FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL";
  private static final String BY_EMAIL = "SELECT " + COLUMNS
    + " FROM users u WHERE u.email = $1 AND u.deleted_at IS NULL";
  private static final String INSERT = "INSERT INTO users AS u (id, email, encrypted_password, email_confirmed_at, "
    + "user_metadata, created_at, updated_at, role) VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING " + COLUMNS;
  private static final String INSERT_PASSWORDLESS = "INSERT INTO users (id, email, user_metadata, created_at, "
    + "updated_at) VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING";
  private static final String INSERT_FULL = "INSERT INTO users (id, email, encrypted_password, email_confirmed_at, "
    + "role, user_metadata, app_metadata, banned_until, created_at, updated_at) "
    + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";
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
    + "WHERE u.id = $1 AND u.deleted_at IS NULL RETURNING " + COLUMNS;
  private static final String ADMIN_UPDATE = "UPDATE users AS u SET "
    + "email = COALESCE($2, u.email), "
    + "encrypted_password = COALESCE($3, u.encrypted_password), "
    + "email_confirmed_at = CASE WHEN $4 THEN COALESCE(u.email_confirmed_at, $9) ELSE u.email_confirmed_at END, "
    + "role = COALESCE($5, u.role), "
    + "user_metadata = (u.user_metadata || $6::jsonb) - $7::text[], "
    + "app_metadata = (u.app_metadata || $8::jsonb) - $10::text[], "
    + "banned_until = CASE WHEN $11 THEN $12 ELSE u.banned_until END, "
    + "updated_at = $9 "
    + "WHERE u.id = $1 AND u.deleted_at IS NULL";
  /** A user with the liveness of one of their sessions: the check behind every Bearer route. */
  private static final String WITH_SESSION = "SELECT " + COLUMNS + ", "
    + "EXISTS (SELECT 1 FROM sessions s WHERE s.id = $2 AND s.user_id = u.id "
    + "AND (s.not_after IS NULL OR s.not_after > $3)) AS session_alive "
    + "FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL";
  private static final String LIST = "SELECT " + COLUMNS + " FROM users u WHERE u.deleted_at IS NULL "
    + "ORDER BY u.created_at DESC, u.id LIMIT $1 OFFSET $2";
  private static final String COUNT = "SELECT count(*) FROM users WHERE deleted_at IS NULL";
  private static final String CONFIRM_EMAIL = "UPDATE users SET email_confirmed_at = COALESCE(email_confirmed_at, $2), "
    + "updated_at = $2 WHERE id = $1";
  private static final String RECOVERY_SENT = "UPDATE users SET recovery_sent_at = $2 WHERE id = $1";
  private static final String CONFIRMATION_SENT = "UPDATE users SET confirmation_sent_at = $2 WHERE id = $1";
  private static final String EMAIL_CHANGE_SENT = "UPDATE users SET email_change_sent_at = $2 WHERE id = $1";
  private static final String EMAIL_CHANGE_REQUESTED = "UPDATE users SET new_email = $2, email_change_sent_at = $3 "
    + "WHERE id = $1";
  private static final String APPLY_EMAIL_CHANGE = "UPDATE users SET email = new_email, new_email = NULL, "
    + "email_change_sent_at = NULL, email_confirmed_at = $2, is_anonymous = false, updated_at = $2 "
    + "WHERE id = $1 AND new_email IS NOT NULL";
  private static final String HARD_DELETE = "DELETE FROM users WHERE id = $1";
  private static final String SOFT_DELETE = "UPDATE users SET deleted_at = $2, email = NULL, phone = NULL, "
    + "encrypted_password = NULL, new_email = NULL, updated_at = $2 WHERE id = $1";
  private static final String DELETE_ROLES = "DELETE FROM user_roles WHERE user_id = $1";
  private static final String INSERT_ROLE = "INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING";

  private static final String INSERT_ANONYMOUS = "INSERT INTO users AS u (id, is_anonymous, user_metadata, created_at, "
    + "updated_at) VALUES ($1, true, $2, $3, $3) RETURNING " + COLUMNS;

  /** Anonymous users created before $1 with no session active since (created or refreshed at or after $1). */
  private static final String STALE_ANONYMOUS = "FROM users u WHERE u.is_anonymous AND u.deleted_at IS NULL "
    + "AND u.created_at < $1 AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id "
    + "AND COALESCE(s.refreshed_at, s.created_at) >= $1)";
  private static final String LIST_STALE_ANONYMOUS = "SELECT " + UserJson.COLUMNS + " " + STALE_ANONYMOUS
    + " ORDER BY u.created_at, u.id LIMIT $2";
  private static final String DELETE_STALE_ANONYMOUS = "DELETE " + STALE_ANONYMOUS
    + " RETURNING u.id";
  // Users of external providers (sign-in through a provider, identity linking).
  private static final String INSERT_EXTERNAL = "INSERT INTO users AS u (id, email, email_confirmed_at, app_metadata, "
    + "user_metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING " + UserJson.COLUMNS;
  /** Adds a provider to app_metadata.providers (a user without any is an email user, as the user JSON shows it). */
  private static final String ADD_PROVIDER = "UPDATE users SET app_metadata = app_metadata "
    + "|| jsonb_build_object('provider', COALESCE(app_metadata->>'provider', 'email')) "
    + "|| jsonb_build_object('providers', (SELECT jsonb_agg(DISTINCT p) FROM jsonb_array_elements_text("
    + "COALESCE(app_metadata->'providers', '[\"email\"]'::jsonb) || to_jsonb($2::text)) p)), updated_at = $3 "
    + "WHERE id = $1";
  /** An anonymous user who links a provider identity becomes a permanent user of that provider. */
  private static final String CONVERT_ANONYMOUS = "UPDATE users SET is_anonymous = false, app_metadata = app_metadata "
    + "|| jsonb_build_object('provider', $2::text, 'providers', jsonb_build_array($2::text)), "
    + "email = COALESCE(email, $3), "
    + "email_confirmed_at = CASE WHEN email IS NULL AND $3::text IS NOT NULL THEN $4 ELSE email_confirmed_at END, "
    + "updated_at = $4 WHERE id = $1 AND is_anonymous";
  private static final String REMOVE_PROVIDER = "UPDATE users SET app_metadata = app_metadata "
    + "|| jsonb_build_object('providers', COALESCE((SELECT jsonb_agg(p) FROM jsonb_array_elements_text("
    + "COALESCE(app_metadata->'providers', '[\"email\"]'::jsonb)) p WHERE p <> $2), '[]'::jsonb)), updated_at = $3 "
    + "WHERE id = $1";
  /**
   * A provider vouched for the address: confirm it. A password set while it was unconfirmed is dropped, since whoever
   * set it never proved they own the address (they could otherwise sign in to the provider user's account).
   */
  private static final String CONFIRM_BY_PROVIDER = "UPDATE users SET email_confirmed_at = COALESCE(email_confirmed_at, $2), "
    + "encrypted_password = CASE WHEN email_confirmed_at IS NULL THEN NULL ELSE encrypted_password END, "
    + "updated_at = $2 WHERE id = $1";

  private final SqlClient client;

  public UserRepository(SqlClient client) {
    this.client = client;
  }

  public Future<Row> findById(UUID id) {
    return one(BY_ID, Tuple.of(id));
  }

  public Future<Row> findByEmail(String email) {
    return one(BY_EMAIL, Tuple.of(email));
  }

  /** The user row plus a boolean {@code session_alive} column; null when the user does not exist. */
  public Future<Row> findWithSession(UUID userId, UUID sessionId, OffsetDateTime now) {
    return one(WITH_SESSION, Tuple.of(userId, sessionId, now));
  }

  /** A page of users, newest first. */
  public Future<RowSet<Row>> list(int limit, long offset) {
    return client.preparedQuery(LIST).execute(Tuple.of(limit, offset));
  }

  public Future<Long> count() {
    return client.preparedQuery(COUNT).execute().map(rows -> rows.iterator().next().getLong(0));
  }

  /** A user signing up; a taken email is user_already_exists. */
  public Future<Row> insert(UUID id, String email, String hash, OffsetDateTime confirmedAt, JsonObject metadata,
                            OffsetDateTime now) {
    return insert(id, email, hash, confirmedAt, "authenticated", metadata, now);
  }

  /** A user with a role of their own (the command line's create-user); a taken email is user_already_exists. */
  public Future<Row> insert(UUID id, String email, String hash, OffsetDateTime confirmedAt, String role,
                            JsonObject metadata, OffsetDateTime now) {
    return one(INSERT, Tuple.of(id, email, hash, confirmedAt, metadata, now, role))
      .recover(e -> Future.failedFuture(Rows.uniqueViolation(e)
        ? new AuthException(ErrorCode.USER_ALREADY_EXISTS, "User already registered")
        : e));
  }

  /** A user without a password (a one-time code's sign-up); false when the address was taken meanwhile. */
  public Future<Boolean> insertPasswordless(UUID id, String email, JsonObject metadata, OffsetDateTime now) {
    return client.preparedQuery(INSERT_PASSWORDLESS).execute(Tuple.of(id, email, metadata, now))
      .map(rows -> rows.rowCount() > 0);
  }

  /** An admin's create, every column given (nulls allowed); a taken email is email_exists. */
  public Future<Void> insert(UUID id, String email, String hash, OffsetDateTime confirmedAt, String role,
                             JsonObject userMetadata, JsonObject appMetadata, OffsetDateTime bannedUntil,
                             OffsetDateTime now) {
    return client.preparedQuery(INSERT_FULL)
      .execute(Tuple.from(Arrays.asList(id, email, hash, confirmedAt, role, userMetadata, appMetadata, bannedUntil,
        now)))
      .recover(UserRepository::emailTaken)
      .mapEmpty();
  }

  /** A user without email, phone or password (anonymous sign-in). */
  public Future<Row> insertAnonymous(UUID id, JsonObject metadata, OffsetDateTime now) {
    return client.preparedQuery(INSERT_ANONYMOUS).execute(Tuple.of(id, metadata, now)).map(Rows::first);
  }

  /** Up to {@code limit} anonymous users inactive since {@code cutoff}, oldest first. */
  public Future<RowSet<Row>> staleAnonymous(OffsetDateTime cutoff, int limit) {
    return client.preparedQuery(LIST_STALE_ANONYMOUS).execute(Tuple.of(cutoff, limit));
  }

  /** Deletes the anonymous users inactive since {@code cutoff}; answers their ids. */
  public Future<List<UUID>> deleteStaleAnonymous(OffsetDateTime cutoff) {
    return client.preparedQuery(DELETE_STALE_ANONYMOUS).execute(Tuple.of(cutoff)).map(rows -> {
      List<UUID> ids = new ArrayList<>();
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
    return one(UPDATE, Tuple.of(id, email, hash, merge, removeKeys, now)).recover(UserRepository::emailTaken);
  }

  /** A user made by an external provider: no password, metadata from the provider. */
  public Future<Row> insertExternal(UUID id, String email, OffsetDateTime confirmedAt, JsonObject appMetadata,
                                    JsonObject userMetadata, OffsetDateTime now) {
    return client.preparedQuery(INSERT_EXTERNAL)
      .execute(Tuple.of(id, email, confirmedAt, appMetadata, userMetadata, now))
      .map(Rows::first)
      .recover(e -> Future.failedFuture(Rows.uniqueViolation(e)
        ? new AuthException(ErrorCode.EMAIL_EXISTS, "A user with this email address has already been registered")
        : e));
  }

  public Future<Void> addProvider(UUID id, String provider, OffsetDateTime now) {
    return client.preparedQuery(ADD_PROVIDER).execute(Tuple.of(id, provider, now)).mapEmpty();
  }

  /**
   * Makes an anonymous user a user of {@code provider} (with {@code verifiedEmail} when it has none); answers false
   * when the user was not anonymous.
   */
  public Future<Boolean> convertAnonymous(UUID id, String provider, String verifiedEmail, OffsetDateTime now) {
    return client.preparedQuery(CONVERT_ANONYMOUS).execute(Tuple.of(id, provider, verifiedEmail, now))
      .map(rows -> rows.rowCount() == 1)
      .recover(e -> Future.failedFuture(Rows.uniqueViolation(e)
        ? new AuthException(ErrorCode.EMAIL_EXISTS, "A user with this email address has already been registered")
        : e));
  }

  public Future<Void> removeProvider(UUID id, String provider, OffsetDateTime now) {
    return client.preparedQuery(REMOVE_PROVIDER).execute(Tuple.of(id, provider, now)).mapEmpty();
  }

  public Future<Void> confirmByProvider(UUID id, OffsetDateTime now) {
    return client.preparedQuery(CONFIRM_BY_PROVIDER).execute(Tuple.of(id, now)).mapEmpty();
  }

  /** What an admin may change of a user; null leaves a column as it is. */
  public record AdminChange(String email, String hash, boolean confirm, String role, JsonObject userMetadata,
                            String[] removedUserMetadata, JsonObject appMetadata, String[] removedAppMetadata,
                            boolean banChange, OffsetDateTime bannedUntil) {
  }

  /** Applies an admin's change; false when the user does not exist. A taken email is email_exists. */
  public Future<Boolean> update(UUID id, AdminChange change, OffsetDateTime now) {
    return client.preparedQuery(ADMIN_UPDATE)
      .execute(Tuple.from(Arrays.asList(id, change.email(), change.hash(), change.confirm(), change.role(),
        change.userMetadata(), change.removedUserMetadata(), change.appMetadata(), now, change.removedAppMetadata(),
        change.banChange(), change.bannedUntil())))
      .recover(UserRepository::emailTaken)
      .map(rows -> rows.rowCount() > 0);
  }

  public Future<Void> confirmEmail(UUID id, OffsetDateTime now) {
    return write(CONFIRM_EMAIL, Tuple.of(id, now));
  }

  public Future<Void> markRecoverySent(UUID id, OffsetDateTime now) {
    return write(RECOVERY_SENT, Tuple.of(id, now));
  }

  public Future<Void> markConfirmationSent(UUID id, OffsetDateTime now) {
    return write(CONFIRMATION_SENT, Tuple.of(id, now));
  }

  public Future<Void> markEmailChangeSent(UUID id, OffsetDateTime now) {
    return write(EMAIL_CHANGE_SENT, Tuple.of(id, now));
  }

  /** Remembers the address a user asked to change to, until its confirmation applies it. */
  public Future<Void> requestEmailChange(UUID id, String newEmail, OffsetDateTime now) {
    return write(EMAIL_CHANGE_REQUESTED, Tuple.of(id, newEmail, now));
  }

  /** Makes the requested address the user's, confirmed; email_exists when someone took it meanwhile. */
  public Future<Void> applyEmailChange(UUID id, OffsetDateTime now) {
    return write(APPLY_EMAIL_CHANGE, Tuple.of(id, now)).recover(UserRepository::emailTaken);
  }

  public Future<Void> delete(UUID id) {
    return write(HARD_DELETE, Tuple.of(id));
  }

  /** Keeps the row without its identity (email, phone, password) and without its roles. */
  public Future<Void> softDelete(UUID id, OffsetDateTime now) {
    return write(SOFT_DELETE, Tuple.of(id, now)).compose(done -> write(DELETE_ROLES, Tuple.of(id)));
  }

  /** Replaces the user's roles; use it in a transaction. */
  public Future<Void> setRoles(UUID id, List<String> roles) {
    Future<Void> chain = write(DELETE_ROLES, Tuple.of(id));
    for (String role : roles) {
      chain = chain.compose(done -> write(INSERT_ROLE, Tuple.of(id, role)));
    }
    return chain;
  }

  private Future<Row> one(String sql, Tuple args) {
    return client.preparedQuery(sql).execute(args).map(Rows::first);
  }

  private Future<Void> write(String sql, Tuple args) {
    return client.preparedQuery(sql).execute(args).mapEmpty();
  }

  private static <T> Future<T> emailTaken(Throwable e) {
    return Future.failedFuture(Rows.uniqueViolation(e)
      ? new AuthException(ErrorCode.EMAIL_EXISTS, "A user with this email address has already been registered")
      : e);
  }
}
