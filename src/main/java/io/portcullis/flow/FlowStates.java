package io.portcullis.flow;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.UUID;

/** All SQL about {@code flow_state}: sign-ins in progress and the single-use auth codes they end in. */
public final class FlowStates {

  /** How long a flow may take from its start to the provider's callback, and an auth code may wait for exchange. */
  public static final Duration LIFETIME = Duration.ofSeconds(300);

  private static final String COLUMNS = "id, user_id, code_challenge, code_challenge_method, authentication_method, "
    + "provider, redirect_to, nonce, provider_verifier, link_user_id, provider_access_token, provider_refresh_token, "
    + "auth_code_issued_at, callback_at, created_at";
  private static final String INSERT = "INSERT INTO flow_state (id, code_challenge, code_challenge_method, "
    + "authentication_method, provider, redirect_to, nonce, provider_verifier, link_user_id, created_at) "
    + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
  private static final String FOR_CALLBACK = "SELECT " + COLUMNS + " FROM flow_state WHERE id = $1 FOR UPDATE";
  private static final String MARK_CALLBACK = "UPDATE flow_state SET callback_at = $2 WHERE id = $1";
  private static final String ISSUE_CODE = "UPDATE flow_state SET user_id = $2, auth_code_hash = $3, "
    + "auth_code_issued_at = $4, provider_access_token = $5, provider_refresh_token = $6 WHERE id = $1";
  private static final String BY_CODE = "SELECT " + COLUMNS + " FROM flow_state WHERE auth_code_hash = $1 FOR UPDATE";
  private static final String DELETE = "DELETE FROM flow_state WHERE id = $1";
  /** Abandoned flows: nothing can finish them any more. */
  private static final String PURGE = "DELETE FROM flow_state WHERE created_at < $1";

  /** A flow as stored. {@code codeChallenge} null means implicit (no PKCE towards the app). */
  public record FlowState(UUID id, UUID userId, String codeChallenge, String codeChallengeMethod,
                          String authenticationMethod, String provider, String redirectTo, String nonce,
                          String providerVerifier, UUID linkUserId, String providerAccessToken,
                          String providerRefreshToken, OffsetDateTime authCodeIssuedAt, OffsetDateTime callbackAt,
                          OffsetDateTime createdAt) {

    public boolean pkce() {
      return codeChallenge != null;
    }

    static FlowState of(Row row) {
      return new FlowState(row.getUUID("id"), row.getUUID("user_id"), row.getString("code_challenge"),
        row.getString("code_challenge_method"), row.getString("authentication_method"), row.getString("provider"),
        row.getString("redirect_to"), row.getString("nonce"), row.getString("provider_verifier"),
        row.getUUID("link_user_id"), row.getString("provider_access_token"), row.getString("provider_refresh_token"),
        row.getOffsetDateTime("auth_code_issued_at"), row.getOffsetDateTime("callback_at"),
        row.getOffsetDateTime("created_at"));
    }
  }

  private FlowStates() {
  }

  /** Starts a flow; {@code challenge} null for an implicit flow. Answers its id. */
  public static Future<UUID> create(SqlClient client, Pkce.Challenge challenge, String authenticationMethod,
                                    String provider, String redirectTo, String nonce, String providerVerifier,
                                    UUID linkUserId, OffsetDateTime now) {
    UUID id = UUID.randomUUID();
    return client.preparedQuery(INSERT).execute(Tuple.from(new Object[] {id,
        challenge == null ? null : challenge.challenge(), challenge == null ? null : challenge.method(),
        authenticationMethod, provider, redirectTo, nonce, providerVerifier, linkUserId, now}))
      .map(done -> id);
  }

  /** The flow, locked for this transaction; null when unknown. */
  public static Future<FlowState> lockForCallback(SqlClient client, UUID id) {
    return client.preparedQuery(FOR_CALLBACK).execute(Tuple.of(id)).map(FlowStates::first);
  }

  public static Future<Void> markCallback(SqlClient client, UUID id, OffsetDateTime now) {
    return client.preparedQuery(MARK_CALLBACK).execute(Tuple.of(id, now)).mapEmpty();
  }

  /** Ends the flow's sign-in in an auth code for the user; answers the code (the only copy: stored hashed). */
  public static Future<String> issueCode(SqlClient client, SecureRandom random, UUID id, UUID userId,
                                         String providerAccessToken, String providerRefreshToken,
                                         OffsetDateTime now) {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    String code = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    return client.preparedQuery(ISSUE_CODE).execute(Tuple.of(id, userId, Buffer.buffer(Pkce.sha256(code)), now,
        providerAccessToken, providerRefreshToken))
      .map(done -> code);
  }

  /** The flow holding this auth code, locked; null when unknown (or already exchanged). */
  public static Future<FlowState> lockByCode(SqlClient client, String code) {
    return client.preparedQuery(BY_CODE).execute(Tuple.of(Buffer.buffer(Pkce.sha256(code)))).map(FlowStates::first);
  }

  public static Future<Void> delete(SqlClient client, UUID id) {
    return client.preparedQuery(DELETE).execute(Tuple.of(id)).mapEmpty();
  }

  /** Deletes flows started before {@code cutoff}; answers how many. */
  public static Future<Integer> purge(SqlClient client, OffsetDateTime cutoff) {
    return client.preparedQuery(PURGE).execute(Tuple.of(cutoff)).map(RowSet::rowCount);
  }

  private static FlowState first(RowSet<Row> rows) {
    var it = rows.iterator();
    return it.hasNext() ? FlowState.of(it.next()) : null;
  }
}
