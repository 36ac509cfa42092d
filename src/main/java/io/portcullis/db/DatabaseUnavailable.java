package io.portcullis.db;

import io.vertx.core.VertxException;
import io.vertx.sqlclient.ClosedConnectionException;
import io.vertx.sqlclient.DatabaseException;

import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.sql.SQLException;
import java.util.concurrent.TimeoutException;

/**
 * Tells a failure of the database connection (the server down, restarting or unreachable) from every other
 * failure, in one place: callers answer those with 503 {@code service_unavailable} and a {@code Retry-After},
 * because retrying will work once the database is back, while anything else stays a 500.
 */
public final class DatabaseUnavailable {

  /** What a client should wait before retrying; the pool reconnects on the first request after the outage. */
  public static final int RETRY_AFTER_SECONDS = 2;

  private DatabaseUnavailable() {
  }

  /** True when {@code error}, or a cause of it, says the database cannot be reached or is going away. */
  public static boolean is(Throwable error) {
    for (Throwable e = error; e != null; e = e.getCause() == e ? null : e.getCause()) {
      if (e instanceof ClosedConnectionException || e instanceof ConnectException
        || e instanceof ClosedChannelException || e instanceof TimeoutException) {
        return true; // TimeoutException: waiting for a pool connection (the pool's own acquisition timeout)
      }
      if (e instanceof DatabaseException db && unavailableState(db.getSqlState())) {
        return true;
      }
      if (e instanceof SQLException sql && unavailableState(sql.getSQLState())) {
        return true;
      }
      if (e instanceof VertxException && e.getMessage() != null
        && e.getMessage().startsWith("Timeout waiting for connection")) {
        return true; // the SQL pool's query timeout while no connection can be made
      }
    }
    return false;
  }

  /**
   * Class 08: connection exceptions; 57P01-57P03: the server shuts down, crashed or is still starting; 53300:
   * too many connections (another instance's pool filled them).
   */
  private static boolean unavailableState(String state) {
    return state != null && (state.startsWith("08") || state.startsWith("57P0") || state.equals("53300"));
  }
}
