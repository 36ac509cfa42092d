package io.portcullis.db;

import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** What every repository needs of PostgreSQL's answers: the first row, unique violations, and the time it stores. */
public final class Rows {

  private static final String UNIQUE_VIOLATION = "23505";

  private Rows() {
  }

  /** The first row, or null when there is none. */
  public static Row first(RowSet<Row> rows) {
    var it = rows.iterator();
    return it.hasNext() ? it.next() : null;
  }

  /** SQLSTATE 23505: a unique index refused the write (an email already taken, say). */
  public static boolean uniqueViolation(Throwable e) {
    return e instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState());
  }

  /** Now by the injected clock, in UTC, as {@code timestamptz} columns are written and compared. */
  public static OffsetDateTime now(Clock clock) {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
