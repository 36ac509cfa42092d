package io.portcullis.external;

import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.UUID;

/** All SQL about {@code identities}: a user's accounts at external providers. */
public final class IdentityRepository {

  private static final String FIND = "SELECT id, user_id FROM identities WHERE provider = $1 AND provider_id = $2 "
    + "FOR UPDATE";
  private static final String INSERT = "INSERT INTO identities (id, user_id, provider, provider_id, identity_data, "
    + "email, last_sign_in_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)";
  private static final String TOUCH = "UPDATE identities SET identity_data = $2, email = $3, last_sign_in_at = $4, "
    + "updated_at = $4 WHERE id = $1";
  private static final String OF_USER = "SELECT id, provider FROM identities WHERE user_id = $1 FOR UPDATE";
  private static final String DELETE = "DELETE FROM identities WHERE id = $1 AND user_id = $2 RETURNING provider";

  private final SqlClient client;

  public IdentityRepository(SqlClient client) {
    this.client = client;
  }

  /** The identity row ({@code id, user_id}), locked; null when this provider account is not known. */
  public Future<Row> find(String provider, String providerId) {
    return client.preparedQuery(FIND).execute(Tuple.of(provider, providerId)).map(IdentityRepository::first);
  }

  public Future<Void> insert(UUID userId, ProviderIdentity identity, OffsetDateTime now) {
    return client.preparedQuery(INSERT).execute(Tuple.of(UUID.randomUUID(), userId, identity.provider(),
        identity.subject(), identity.data(), identity.email(), now))
      .<Void>mapEmpty()
      .recover(e -> Future.failedFuture(e instanceof PgException pg && "23505".equals(pg.getSqlState())
        ? new AuthException(ErrorCode.IDENTITY_ALREADY_EXISTS, "Identity is already linked to another user")
        : e));
  }

  public Future<Void> touch(UUID id, ProviderIdentity identity, OffsetDateTime now) {
    return client.preparedQuery(TOUCH).execute(Tuple.of(id, identity.data(), identity.email(), now)).mapEmpty();
  }

  /** The user's identities ({@code id, provider}), locked. */
  public Future<RowSet<Row>> ofUser(UUID userId) {
    return client.preparedQuery(OF_USER).execute(Tuple.of(userId));
  }

  /** Deletes one of the user's identities; answers its provider, or null when the user has no such identity. */
  public Future<String> delete(UUID id, UUID userId) {
    return client.preparedQuery(DELETE).execute(Tuple.of(id, userId))
      .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString("provider"));
  }

  private static Row first(RowSet<Row> rows) {
    var it = rows.iterator();
    return it.hasNext() ? it.next() : null;
  }
}
