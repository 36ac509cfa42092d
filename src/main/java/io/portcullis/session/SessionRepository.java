package io.portcullis.session;

import io.portcullis.config.Config;
import io.portcullis.db.Rows;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** All SQL about sessions and refresh tokens, including the rotation and reuse rules (README, "Sessions and refresh tokens"). */
public final class SessionRepository {

  private static final String INSERT_SESSION = "INSERT INTO sessions (id, user_id, amr_method, amr_at, refresh_counter, "
    + "created_at, updated_at, refreshed_at, ip, user_agent, not_after) VALUES ($1, $2, $3, $4, 1, $4, $4, $4, $5, $6, $7)";
  private static final String END_OTHERS_OF = "DELETE FROM sessions WHERE user_id = $1 AND id <> $2";
  private static final String INSERT_TOKEN = "INSERT INTO refresh_tokens (token_hash, session_id, counter, parent_id, "
    + "created_at) VALUES ($1, $2, $3, $4, $5)";
  private static final String FIND_TOKEN = "SELECT id, session_id FROM refresh_tokens WHERE token_hash = $1";
  private static final String LOCK_SESSION = "SELECT id, user_id, amr_method, amr_at, refresh_counter, refreshed_at, "
    + "not_after, mfa_method, mfa_at FROM sessions WHERE id = $1 FOR UPDATE";
  private static final String TOKEN_STATE = "SELECT revoked_at FROM refresh_tokens WHERE id = $1";
  private static final String ACTIVE_TOKEN = "SELECT id, counter, parent_id FROM refresh_tokens "
    + "WHERE session_id = $1 AND revoked_at IS NULL ORDER BY id DESC LIMIT 1";
  private static final String REVOKE = "UPDATE refresh_tokens SET revoked_at = $2 WHERE id = $1";
  private static final String ROTATED = "UPDATE sessions SET refresh_counter = $2, refreshed_at = $3, updated_at = $3 "
    + "WHERE id = $1";
  /** A refresh token that would refresh now: not revoked, its session alive (session limits checked in Java). */
  private static final String ACTIVE_REFRESH = "SELECT t.session_id, s.user_id, t.created_at, s.not_after, "
    + "s.refreshed_at FROM refresh_tokens t "
    + "JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL";
  private static final String SESSION_OF_TOKEN = "SELECT session_id FROM refresh_tokens WHERE token_hash = $1";
  private static final String DELETE_ONE = "DELETE FROM sessions WHERE id = $1 RETURNING user_id";
  private static final String DELETE_ONE_OF_USER = "DELETE FROM sessions WHERE id = $1 AND user_id = $2 RETURNING user_id";
  private static final String DELETE_ALL = "DELETE FROM sessions WHERE user_id = $1 RETURNING user_id";
  private static final String DELETE_OTHERS = "DELETE FROM sessions WHERE user_id = $1 AND id <> $2 RETURNING user_id";
  private static final String AAL_OF = "SELECT aal FROM sessions WHERE id = $1 AND user_id = $2";
  private static final String CREATED_AT = "SELECT created_at FROM sessions WHERE id = $1 AND user_id = $2";
  private static final String LOCK_OWN_SESSION = "SELECT id, refresh_counter FROM sessions WHERE id = $1 AND user_id = $2 "
    + "FOR UPDATE";
  private static final String UPGRADE = "UPDATE sessions SET aal = 'aal2', mfa_method = $2, mfa_at = $3, factor_id = $4, "
    + "refresh_counter = $5, refreshed_at = $3, updated_at = $3 WHERE id = $1 "
    + "RETURNING user_id, amr_method, amr_at";
  private static final String DROP_TOKENS = "DELETE FROM refresh_tokens WHERE session_id = $1";
  private static final String END_LOWER_AAL = "DELETE FROM sessions WHERE user_id = $1 AND id <> $2 AND aal = 'aal1'";
  private static final String DOWNGRADE = "UPDATE sessions SET aal = 'aal1', mfa_method = NULL, mfa_at = NULL, "
    + "factor_id = NULL WHERE factor_id = $1";
  private static final String LIST_OF_USER = "SELECT id, aal, created_at, refreshed_at, not_after, ip, user_agent "
    + "FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id";

  /**
   * What a refresh did. {@code counter} names the refresh token the answer carries; {@code mfaMethod} is the second
   * factor of an aal2 session (null at aal1).
   */
  public enum Kind { ROTATED, REPLAYED, REUSE_DETECTED, EXPIRED, NOT_FOUND }

  public record Refresh(Kind kind, UUID sessionId, UUID userId, long counter, String amrMethod, OffsetDateTime amrAt,
                        String mfaMethod, OffsetDateTime mfaAt) {
    static final Refresh NOT_FOUND = new Refresh(Kind.NOT_FOUND, null, null, 0, null, null, null, null);
  }

  private final Pool pool;
  private final RefreshTokens tokens;

  private final Config.Sessions limits;

  /** {@code limits}: the optional session limits (time-box, inactivity, one session per user). */
  public SessionRepository(Pool pool, RefreshTokens tokens, Config.Sessions limits) {
    this.pool = pool;
    this.tokens = tokens;
    this.limits = limits;
  }

  /** A new session with its first refresh token (counter 1), in the caller's transaction. */
  public Future<Void> create(SqlConnection conn, UUID sessionId, UUID userId, String amrMethod, OffsetDateTime now,
                             String ip, String userAgent) {
    byte[] firstTokenHash = RefreshTokens.hash(tokens.token(sessionId, 1));
    OffsetDateTime notAfter = limits.timeboxSeconds() > 0 ? now.plusSeconds(limits.timeboxSeconds()) : null;
    return conn.preparedQuery(INSERT_SESSION)
      .execute(Tuple.from(java.util.Arrays.asList(sessionId, userId, amrMethod, now, ip, userAgent, notAfter)))
      .compose(done -> conn.preparedQuery(INSERT_TOKEN)
        .execute(Tuple.of(Buffer.buffer(firstTokenHash), sessionId, 1L, null, now)))
      .compose(done -> limits.singlePerUser()
        ? conn.preparedQuery(END_OTHERS_OF).execute(Tuple.of(userId, sessionId)).mapEmpty()
        : Future.<Void>succeededFuture())
      .mapEmpty();
  }

  /**
   * Rotates the presented token under a lock on its session row. A revoked token is answered with the session's
   * active token when it is that token's parent or was revoked within the reuse interval; otherwise the whole
   * session ends (committed before the caller reports {@code refresh_token_already_used}).
   */
  public Future<Refresh> refresh(byte[] presentedHash, OffsetDateTime now, Duration reuseInterval) {
    return pool.withTransaction(conn -> conn.preparedQuery(FIND_TOKEN).execute(Tuple.of(Buffer.buffer(presentedHash)))
      .compose(found -> {
        Row token = Rows.first(found);
        if (token == null) {
          return Future.succeededFuture(Refresh.NOT_FOUND);
        }
        long tokenId = token.getLong("id");
        return conn.preparedQuery(LOCK_SESSION).execute(Tuple.of(token.getUUID("session_id")))
          .compose(locked -> {
            Row session = Rows.first(locked);
            if (session == null) {
              return Future.succeededFuture(Refresh.NOT_FOUND);
            }
            if (expired(session, now)) {
              return conn.preparedQuery(DELETE_ONE).execute(Tuple.of(session.getUUID("id")))
                .map(done -> refresh(Kind.EXPIRED, session, 0));
            }
            // Re-read after the lock: a concurrent refresh may have rotated this token while we waited.
            return conn.preparedQuery(TOKEN_STATE).execute(Tuple.of(tokenId)).compose(state -> {
              OffsetDateTime revokedAt = Rows.first(state).getOffsetDateTime("revoked_at");
              return revokedAt == null
                ? rotate(conn, session, tokenId, now)
                : replay(conn, session, tokenId, revokedAt, now, reuseInterval);
            });
          });
      }));
  }

  /** Past its time-box, or unrefreshed for longer than the inactivity timeout. */
  private boolean expired(Row session, OffsetDateTime now) {
    OffsetDateTime notAfter = session.getOffsetDateTime("not_after");
    if (notAfter != null && !now.isBefore(notAfter)) {
      return true;
    }
    OffsetDateTime refreshedAt = session.getOffsetDateTime("refreshed_at");
    return limits.inactivityTimeoutSeconds() > 0 && refreshedAt != null
      && !now.isBefore(refreshedAt.plusSeconds(limits.inactivityTimeoutSeconds()));
  }

  private Future<Refresh> rotate(SqlConnection conn, Row session, long tokenId, OffsetDateTime now) {
    UUID sessionId = session.getUUID("id");
    long counter = session.getLong("refresh_counter") + 1;
    return conn.preparedQuery(REVOKE).execute(Tuple.of(tokenId, now))
      .compose(done -> conn.preparedQuery(INSERT_TOKEN)
        .execute(Tuple.of(Buffer.buffer(RefreshTokens.hash(tokens.token(sessionId, counter))), sessionId, counter, tokenId, now)))
      .compose(done -> conn.preparedQuery(ROTATED).execute(Tuple.of(sessionId, counter, now)))
      .map(done -> refresh(Kind.ROTATED, session, counter));
  }

  private Future<Refresh> replay(SqlConnection conn, Row session, long tokenId, OffsetDateTime revokedAt,
                                 OffsetDateTime now, Duration reuseInterval) {
    UUID sessionId = session.getUUID("id");
    return conn.preparedQuery(ACTIVE_TOKEN).execute(Tuple.of(sessionId)).compose(rows -> {
      Row active = Rows.first(rows);
      boolean parentOfActive = active != null && Long.valueOf(tokenId).equals(active.getLong("parent_id"));
      boolean withinInterval = !now.isAfter(revokedAt.plus(reuseInterval));
      if (active != null && (parentOfActive || withinInterval)) {
        return Future.succeededFuture(refresh(Kind.REPLAYED, session, active.getLong("counter")));
      }
      return conn.preparedQuery(DELETE_ONE).execute(Tuple.of(sessionId))
        .map(done -> refresh(Kind.REUSE_DETECTED, session, 0));
    });
  }

  private static Refresh refresh(Kind kind, Row session, long counter) {
    return new Refresh(kind, session.getUUID("id"), session.getUUID("user_id"), counter,
      session.getString("amr_method"), session.getOffsetDateTime("amr_at"), session.getString("mfa_method"),
      session.getOffsetDateTime("mfa_at"));
  }

  /**
   * {@code session_id, user_id, created_at} of an active refresh token, or null; a token whose session is past its
   * time-box or inactivity timeout is not active (a refresh would answer session_expired).
   */
  public Future<Row> activeRefresh(byte[] tokenHash, OffsetDateTime now) {
    return pool.preparedQuery(ACTIVE_REFRESH).execute(Tuple.of(Buffer.buffer(tokenHash)))
      .map(Rows::first)
      .map(row -> row == null || expired(row, now) ? null : row);
  }

  /** The session a refresh token (revoked or not) belongs to, or null. */
  public Future<UUID> sessionOf(byte[] tokenHash) {
    return pool.preparedQuery(SESSION_OF_TOKEN).execute(Tuple.of(Buffer.buffer(tokenHash)))
      .map(rows -> {
        Row row = Rows.first(rows);
        return row == null ? null : row.getUUID("session_id");
      });
  }

  /**
   * Ends one session; with a user id, only if it belongs to that user. Answers the owner of the ended session, or
   * null when none ended (the caller needs the owner for the sign-out event when it only knew the session).
   */
  public Future<UUID> endOne(UUID sessionId, UUID userId) {
    SqlClient client = pool;
    return (userId == null
      ? client.preparedQuery(DELETE_ONE).execute(Tuple.of(sessionId))
      : client.preparedQuery(DELETE_ONE_OF_USER).execute(Tuple.of(sessionId, userId)))
      .map(rows -> {
        Row row = Rows.first(rows);
        return row == null ? null : row.getUUID("user_id");
      });
  }

  public Future<Integer> endAll(UUID userId) {
    return endAll(pool, userId);
  }

  /** Ends every session of a user in the caller's transaction; answers how many ended. */
  public static Future<Integer> endAll(SqlClient client, UUID userId) {
    return client.preparedQuery(DELETE_ALL).execute(Tuple.of(userId)).map(RowSet::rowCount);
  }

  public Future<Integer> endOthers(UUID userId, UUID keep) {
    return pool.preparedQuery(DELETE_OTHERS).execute(Tuple.of(userId, keep)).map(RowSet::rowCount);
  }

  /** A session raised to aal2: which second factor, and the refresh token it now answers with. */
  public record Upgrade(UUID userId, long counter, String amrMethod, OffsetDateTime amrAt) {
  }

  /** {@code aal1} or {@code aal2} of the user's session, or null when it is not one of theirs (or ended). */
  public Future<String> aalOf(UUID sessionId, UUID userId) {
    return pool.preparedQuery(AAL_OF).execute(Tuple.of(sessionId, userId)).map(rows -> {
      Row row = Rows.first(rows);
      return row == null ? null : row.getString("aal");
    });
  }

  /** When the user's session began (its sign-in), or null when it is not one of theirs. */
  public Future<OffsetDateTime> createdAt(UUID sessionId, UUID userId) {
    return pool.preparedQuery(CREATED_AT).execute(Tuple.of(sessionId, userId)).map(rows -> {
      Row row = Rows.first(rows);
      return row == null ? null : row.getOffsetDateTime("created_at");
    });
  }

  /**
   * Raises the user's session to aal2 in one transaction: records the method, drops every refresh token the
   * session had (an aal1 token can never mint an aal2 session; presenting one answers refresh_token_not_found),
   * issues a fresh one two counters on, and ends the user's other sessions still at aal1. Null when the session
   * is not the user's (or has ended).
   */
  public Future<Upgrade> upgrade(UUID sessionId, UUID userId, String method, UUID factorId, OffsetDateTime now) {
    return pool.withTransaction(conn -> conn.preparedQuery(LOCK_OWN_SESSION).execute(Tuple.of(sessionId, userId))
      .compose(locked -> {
        Row session = Rows.first(locked);
        if (session == null) {
          return Future.succeededFuture(null);
        }
        long counter = session.getLong("refresh_counter") + 2;
        byte[] hash = RefreshTokens.hash(tokens.token(sessionId, counter));
        return conn.preparedQuery(UPGRADE)
          .execute(Tuple.from(java.util.Arrays.asList(sessionId, method, now, factorId, counter)))
          .compose(updated -> conn.preparedQuery(DROP_TOKENS).execute(Tuple.of(sessionId))
            .compose(done -> conn.preparedQuery(INSERT_TOKEN)
              .execute(Tuple.of(Buffer.buffer(hash), sessionId, counter, null, now)))
            .compose(done -> conn.preparedQuery(END_LOWER_AAL).execute(Tuple.of(userId, sessionId)))
            .map(done -> {
              Row row = Rows.first(updated);
              return new Upgrade(userId, counter, row.getString("amr_method"), row.getOffsetDateTime("amr_at"));
            }));
      }));
  }

  /** Sessions raised to aal2 by a factor that is gone fall back to aal1 (their next refresh says so). */
  public Future<Integer> downgrade(SqlClient client, UUID factorId) {
    return client.preparedQuery(DOWNGRADE).execute(Tuple.of(factorId)).map(RowSet::rowCount);
  }

  /** The user's sessions that would still refresh now (within their limits), newest first. */
  public Future<List<Row>> listOf(UUID userId, OffsetDateTime now) {
    return pool.preparedQuery(LIST_OF_USER).execute(Tuple.of(userId)).map(rows -> {
      List<Row> alive = new ArrayList<>();
      rows.forEach(row -> {
        if (!expired(row, now)) {
          alive.add(row);
        }
      });
      return alive;
    });
  }
}
