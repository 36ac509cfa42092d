package io.portcullis.db;

import io.vertx.core.VertxException;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which failures mean "the database cannot be reached" (503) and which stay unexpected (500); whose server is ours. */
class DatabaseUnavailableTest {

  @Test
  void connectionLevelFailuresAreUnavailability() {
    assertTrue(DatabaseUnavailable.is(new ConnectException("Connection refused")));
    assertTrue(DatabaseUnavailable.is(ClosedConnectionException.INSTANCE));
    assertTrue(DatabaseUnavailable.is(new VertxException("Timeout waiting for connection", true)));
    assertTrue(DatabaseUnavailable.is(new PgException("terminating connection due to administrator command",
      "FATAL", "57P01", null)));
    assertTrue(DatabaseUnavailable.is(new PgException("the database system is starting up", "FATAL", "57P03", null)));
    assertTrue(DatabaseUnavailable.is(new SQLException("Connection refused", "08001")));
    assertTrue(DatabaseUnavailable.is(new IllegalStateException("wrapped", new ConnectException("refused"))));
  }

  @Test
  void otherDatabaseErrorsAreNot() {
    assertFalse(DatabaseUnavailable.is(new PgException("duplicate key", "ERROR", "23505", null)));
    assertFalse(DatabaseUnavailable.is(new PgException("password authentication failed", "FATAL", "28P01", null)));
    assertFalse(DatabaseUnavailable.is(new SQLException("database \"x\" does not exist", "3D000")));
    assertFalse(DatabaseUnavailable.is(new IllegalStateException("a bug")));
  }

  @Test
  void onlyAPostmasterStartedOnThisDirectoryIsOurs() {
    Path dir = Path.of("/data/pg");
    assertTrue(OrphanedPostmaster.isPostmasterOf(List.of("/tmp/embedded-pg/PG-1/bin/postgres", "-D", "/data/pg",
      "-p", "5432"), dir));
    assertFalse(OrphanedPostmaster.isPostmasterOf(List.of("/tmp/embedded-pg/PG-1/bin/postgres", "-D", "/data/other"),
      dir));
    assertFalse(OrphanedPostmaster.isPostmasterOf(List.of("postgres: checkpointer "), dir));
    assertFalse(OrphanedPostmaster.isPostmasterOf(List.of("/usr/bin/java", "-D", "/data/pg"), dir));
  }
}
