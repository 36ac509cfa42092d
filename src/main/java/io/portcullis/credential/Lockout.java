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
 *
 * <p>Every password check first takes a reservation: one atomic upsert that counts the attempt as a failure and,
 * when it is the {@code failures}-th, sets the lock right away. Guesses sent in parallel therefore cannot all be
 * checked before the first failures are written: at most {@code failures} checks run before the lock applies,
 * on any number of instances. A check that succeeds releases its reservation by clearing the count.
 */
public final class Lockout {

  /** For an unknown email: the same kind of round trip as a reservation, matching no row. */
  private static final String NOTHING = "UPDATE login_failures SET failures = failures WHERE user_id = $1 "
    + "RETURNING failures, locked_until";
  /** The count after this attempt: restarts at 1 after a quiet period. */
  private static final String NEXT = "(CASE WHEN f.last_failure_at < $3 THEN 1 ELSE f.failures + 1 END)";
  /**
   * Counts the attempt and sets the lock it earns, unless a lock holds: then no row is returned (the row lock of
   * ON CONFLICT serializes concurrent attempts on one account).
   */
  private static final String RESERVE = "INSERT INTO login_failures AS f (user_id, failures, last_failure_at, locked_until) "
    + "VALUES ($1, 1, $2, " + lockUntil("1") + ") ON CONFLICT (user_id) DO UPDATE SET "
    + "failures = " + NEXT + ", last_failure_at = $2, locked_until = " + lockUntil(NEXT) + " "
    + "WHERE f.locked_until IS NULL OR f.locked_until <= $2 "
    + "RETURNING failures, locked_until";
  private static final String CLEAR = "DELETE FROM login_failures WHERE user_id = $1";

  /** Whether a password may be checked, and whether this attempt set the lock (if it fails, a lockout). */
  public record Reservation(boolean admitted, boolean locks) {
    static final Reservation FREE = new Reservation(true, false);
    static final Reservation LOCKED = new Reservation(false, false);
  }

  private final Config.Lockout config;
  private final AuthMetrics metrics;

  public Lockout(Config.Lockout config, AuthMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
  }

  private static String lockUntil(String count) {
    return "CASE WHEN " + count + " >= $4::int THEN $2::timestamptz + "
      + "LEAST($5::int * (" + count + " - $4::int + 1), $6::int) * interval '1 second' END";
  }

  /**
   * Reserves one password check for {@code userId}, before the hash is computed. For an unknown email
   * ({@code userId} null) it makes the same kind of round trip (an update that matches nothing), so that the
   * answer's timing does not tell known accounts apart.
   */
  public Future<Reservation> reserve(SqlClient client, UUID userId, OffsetDateTime now) {
    if (!config.enabled()) {
      return Future.succeededFuture(Reservation.FREE);
    }
    if (userId == null) {
      return client.preparedQuery(NOTHING).execute(Tuple.of(UUID.randomUUID())).map(rows -> Reservation.FREE);
    }
    OffsetDateTime quietSince = now.minusSeconds(config.resetAfterSeconds());
    return client.preparedQuery(RESERVE)
      .execute(Tuple.of(userId, now, quietSince, config.failures(), config.waitIncrementSeconds(),
        config.maxWaitSeconds()))
      .map(rows -> {
        if (rows.rowCount() == 0) {
          return Reservation.LOCKED;
        }
        return new Reservation(true, rows.iterator().next().getOffsetDateTime("locked_until") != null);
      });
  }

  /** The password was wrong: the reservation stays as the failure; a lock it set is now a lockout. */
  public void failed(Reservation reservation) {
    if (reservation.locks()) {
      metrics.lockout();
    }
  }

  /** The password was right: the count starts again. */
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
