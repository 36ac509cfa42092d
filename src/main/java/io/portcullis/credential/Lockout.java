package io.portcullis.credential;

import io.portcullis.config.Config;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * Per-account brute-force protection after Keycloak's: from the {@code failures}-th consecutive failure on, each
 * further failure locks sign-in for {@code wait_increment × (n − failures + 1)} seconds, at most
 * {@code max_wait}; a quiet period of {@code reset_after} forgets the count; a success or an admin unlock clears
 * it. State lives in PostgreSQL, so every instance sees it and it survives restarts.
 */
public final class Lockout {

  private static final String STATE = "SELECT failures, last_failure_at, locked_until FROM login_failures WHERE user_id = $1";
  private static final String RECORD = "INSERT INTO login_failures AS f (user_id, failures, last_failure_at, locked_until) "
    + "VALUES ($1, 1, $2, $4) ON CONFLICT (user_id) DO UPDATE SET "
    + "failures = CASE WHEN f.last_failure_at < $3 THEN 1 ELSE f.failures + 1 END, last_failure_at = $2 "
    + "RETURNING failures";
  private static final String LOCK = "UPDATE login_failures SET locked_until = $2 WHERE user_id = $1";
  private static final String CLEAR = "DELETE FROM login_failures WHERE user_id = $1";

  private final Config.Lockout config;

  public Lockout(Config.Lockout config) {
    this.config = config;
  }

  public boolean enabled() {
    return config.enabled();
  }

  /** True while the account is locked. */
  public Future<Boolean> locked(SqlClient client, UUID userId, OffsetDateTime now) {
    if (!config.enabled()) {
      return Future.succeededFuture(false);
    }
    return client.preparedQuery(STATE).execute(Tuple.of(userId)).map(rows -> {
      if (rows.size() == 0) {
        return false;
      }
      Row row = rows.iterator().next();
      OffsetDateTime until = row.getOffsetDateTime("locked_until");
      return until != null && until.isAfter(now);
    });
  }

  public Future<Void> failed(SqlClient client, UUID userId, OffsetDateTime now) {
    if (!config.enabled()) {
      return Future.succeededFuture();
    }
    OffsetDateTime quietSince = now.minusSeconds(config.resetAfterSeconds());
    return client.preparedQuery(RECORD).execute(Tuple.of(userId, now, quietSince, null)).compose(rows -> {
      int failures = rows.iterator().next().getInteger("failures");
      if (failures < config.failures()) {
        return Future.succeededFuture();
      }
      long wait = Math.min((long) config.waitIncrementSeconds() * (failures - config.failures() + 1),
        config.maxWaitSeconds());
      return client.preparedQuery(LOCK).execute(Tuple.of(userId, now.plusSeconds(wait))).mapEmpty();
    });
  }

  public Future<Void> clear(SqlClient client, UUID userId) {
    if (!config.enabled()) {
      return Future.succeededFuture();
    }
    return client.preparedQuery(CLEAR).execute(Tuple.of(userId)).mapEmpty();
  }

  /** For the admin unlock: clears whatever the configuration. */
  public static Future<Void> unlock(SqlClient client, UUID userId) {
    return client.preparedQuery(CLEAR).execute(Tuple.of(userId)).mapEmpty();
  }
}
