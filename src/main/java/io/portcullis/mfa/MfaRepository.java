package io.portcullis.mfa;

import io.portcullis.db.Rows;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.user.UserJson;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/** All SQL about MFA factors and their challenges. */
public final class MfaRepository {

  private static final String FACTOR_COLUMNS = "id, user_id, friendly_name, factor_type, status, secret, last_step, "
    + "created_at, updated_at, last_challenged_at";
  private static final String PURGE_UNVERIFIED = "DELETE FROM mfa_factors WHERE user_id = $1 AND status = 'unverified' "
    + "AND created_at <= $2";
  private static final String COUNTS = "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'verified') AS verified "
    + "FROM mfa_factors WHERE user_id = $1";
  private static final String INSERT = "INSERT INTO mfa_factors (id, user_id, friendly_name, factor_type, status, secret, "
    + "created_at, updated_at) VALUES ($1, $2, $3, $4, 'unverified', $5, $6, $6)";
  private static final String FIND = "SELECT " + FACTOR_COLUMNS + " FROM mfa_factors WHERE id = $1 AND user_id = $2";
  private static final String LOCK = FIND + " FOR UPDATE";
  private static final String LIST = "SELECT " + FACTOR_COLUMNS + " FROM mfa_factors WHERE user_id = $1 "
    + "ORDER BY created_at, id";
  private static final String CHALLENGED = "UPDATE mfa_factors SET last_challenged_at = $2 WHERE id = $1";
  private static final String INSERT_CHALLENGE = "INSERT INTO mfa_challenges (id, factor_id, ip, created_at) "
    + "VALUES ($1, $2, $3, $4)";
  private static final String LOCK_CHALLENGE = "SELECT id, ip, attempts, created_at FROM mfa_challenges "
    + "WHERE id = $1 AND factor_id = $2 FOR UPDATE";
  private static final String FAILED_ATTEMPT = "UPDATE mfa_challenges SET attempts = attempts + 1 WHERE id = $1";
  private static final String DELETE_CHALLENGE = "DELETE FROM mfa_challenges WHERE id = $1";
  private static final String ACCEPTED = "UPDATE mfa_factors SET status = 'verified', last_step = $2, updated_at = $3 "
    + "WHERE id = $1";
  private static final String DROP_OTHER_UNVERIFIED = "DELETE FROM mfa_factors WHERE user_id = $1 AND id <> $2 "
    + "AND status = 'unverified' AND factor_type = $3";
  private static final String DELETE = "DELETE FROM mfa_factors WHERE id = $1 AND user_id = $2 RETURNING " + FACTOR_COLUMNS;

  private final SqlClient client;

  public MfaRepository(SqlClient client) {
    this.client = client;
  }

  /** Unverified factors created at or before {@code cutoff} are gone (an enrolment never finished). */
  public Future<Void> purgeUnverified(UUID userId, OffsetDateTime cutoff) {
    return client.preparedQuery(PURGE_UNVERIFIED).execute(Tuple.of(userId, cutoff)).mapEmpty();
  }

  /** {@code [all factors, verified factors]} of the user. */
  public Future<long[]> counts(UUID userId) {
    return client.preparedQuery(COUNTS).execute(Tuple.of(userId)).map(rows -> {
      Row row = rows.iterator().next();
      return new long[] {row.getLong("total"), row.getLong("verified")};
    });
  }

  public Future<Void> insert(UUID id, UUID userId, String friendlyName, String type, String secret, OffsetDateTime now) {
    return client.preparedQuery(INSERT)
      .execute(Tuple.from(Arrays.asList(id, userId, friendlyName, type, secret, now)))
      .<Void>mapEmpty()
      .recover(e -> Future.failedFuture(Rows.uniqueViolation(e)
        ? new AuthException(ErrorCode.MFA_FACTOR_NAME_CONFLICT,
          "A factor with the friendly name \"" + friendlyName + "\" for this user already exists")
        : e));
  }

  /** The user's factor, or null (another user's factor is null too). */
  public Future<Row> find(UUID factorId, UUID userId) {
    return client.preparedQuery(FIND).execute(Tuple.of(factorId, userId)).map(Rows::first);
  }

  /** As {@link #find}, locking the row for the caller's transaction (one verification at a time per factor). */
  public Future<Row> lock(UUID factorId, UUID userId) {
    return client.preparedQuery(LOCK).execute(Tuple.of(factorId, userId)).map(Rows::first);
  }

  public Future<List<Row>> list(UUID userId) {
    return client.preparedQuery(LIST).execute(Tuple.of(userId)).map(rows -> {
      List<Row> all = new ArrayList<>();
      rows.forEach(all::add);
      return all;
    });
  }

  public Future<Void> challenge(UUID challengeId, UUID factorId, String ip, OffsetDateTime now) {
    return client.preparedQuery(INSERT_CHALLENGE).execute(Tuple.of(challengeId, factorId, ip, now))
      .compose(done -> client.preparedQuery(CHALLENGED).execute(Tuple.of(factorId, now)))
      .mapEmpty();
  }

  public Future<Row> lockChallenge(UUID challengeId, UUID factorId) {
    return client.preparedQuery(LOCK_CHALLENGE).execute(Tuple.of(challengeId, factorId)).map(Rows::first);
  }

  public Future<Void> failedAttempt(UUID challengeId) {
    return client.preparedQuery(FAILED_ATTEMPT).execute(Tuple.of(challengeId)).mapEmpty();
  }

  public Future<Void> deleteChallenge(UUID challengeId) {
    return client.preparedQuery(DELETE_CHALLENGE).execute(Tuple.of(challengeId)).mapEmpty();
  }

  /** The factor is verified and {@code step} is the last one whose code it accepted. */
  public Future<Void> accepted(Row factor, long step, OffsetDateTime now) {
    UUID id = factor.getUUID("id");
    return client.preparedQuery(ACCEPTED).execute(Tuple.of(id, step, now))
      .compose(done -> client.preparedQuery(DROP_OTHER_UNVERIFIED)
        .execute(Tuple.of(factor.getUUID("user_id"), id, factor.getString("factor_type"))))
      .mapEmpty();
  }

  /** Deletes the user's factor and answers its last state, or null when it was not theirs. */
  public Future<Row> delete(UUID factorId, UUID userId) {
    return client.preparedQuery(DELETE).execute(Tuple.of(factorId, userId)).map(Rows::first);
  }

  /** The factor object of GoTrue's wire (never the secret). */
  public static JsonObject json(Row row) {
    JsonObject factor = new JsonObject()
      .put("id", row.getUUID("id").toString())
      .put("created_at", UserJson.time(row.getOffsetDateTime("created_at")))
      .put("updated_at", UserJson.time(row.getOffsetDateTime("updated_at")))
      .put("status", row.getString("status"));
    if (row.getString("friendly_name") != null) {
      factor.put("friendly_name", row.getString("friendly_name"));
    }
    factor.put("factor_type", row.getString("factor_type"));
    if (row.getOffsetDateTime("last_challenged_at") != null) {
      factor.put("last_challenged_at", UserJson.time(row.getOffsetDateTime("last_challenged_at")));
    }
    return factor;
  }
}
