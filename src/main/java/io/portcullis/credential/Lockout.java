package io.portcullis.credential;

import io.portcullis.config.Config;
import io.portcullis.metrics.AuthMetrics;
import io.vertx.core.Future;
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

  private static final String NOTHING = "UPDATE login_failures SET failures = failures WHERE user_id = $1";
  private static final String RECORD = "INSERT INTO login_failures AS f (user_id, failures, last_failure_at, locked_until) "
    + "VALUES ($1, 1, $2, $4) ON CONFLICT (user_id) DO UPDATE SET "
    + "failures = CASE WHEN f.last_failure_at < $3 THEN 1 ELSE f.failures + 1 END, last_failure_at = $2 "
    + "RETURNING failures";
  private static final String LOCK = "UPDATE login_failures SET locked_until = $2 WHERE user_id = $1";
  private static final String CLEAR = "DELETE FROM login_failures WHERE user_id = $1";

  private final Config.Lockout config;
  private final AuthMetrics metrics;

  public Lockout(Config.Lockout config, AuthMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
  }

  public boolean enabled() {
    return config.enabled();
  }

  /** Whether a lock that ends at {@code lockedUntil} (read with the user) still holds. */
  public boolean locked(OffsetDateTime lockedUntil, OffsetDateTime now) {
    return config.enabled() && lockedUntil != null && lockedUntil.isAfter(now);
  }

  /**
   * Records a failed sign-in. For an unknown email ({@code userId} null) it makes the same kind of round trip
   * (an update that matches nothing), so that the answer's timing does not tell known accounts apart.
   */
  public Future<Void> failed(SqlClient client, UUID userId, OffsetDateTime now) {
    if (!config.enabled()) {
      return Future.succeededFuture();
    }
    if (userId == null) {
      return client.preparedQuery(NOTHING).execute(Tuple.of(UUID.randomUUID())).mapEmpty();
    }
    OffsetDateTime quietSince = now.minusSeconds(config.resetAfterSeconds());
    return client.preparedQuery(RECORD).execute(Tuple.of(userId, now, quietSince, null)).compose(rows -> {
      int failures = rows.iterator().next().getInteger("failures");
      if (failures < config.failures()) {
        return Future.succeededFuture();
      }
      long wait = Math.min((long) config.waitIncrementSeconds() * (failures - config.failures() + 1),
        config.maxWaitSeconds());
      return client.preparedQuery(LOCK).execute(Tuple.of(userId, now.plusSeconds(wait)))
        .onSuccess(done -> metrics.lockout())
        .mapEmpty();
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
