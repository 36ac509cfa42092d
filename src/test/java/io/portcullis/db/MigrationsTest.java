package io.portcullis.db;

import io.portcullis.config.ConfigLoader;
import io.portcullis.it.DbRows;
import io.portcullis.it.ServerProcess;
import io.portcullis.it.TempDirs;
import io.portcullis.it.TestApp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Migrations at start-up: Liquibase runs on a fresh or older schema and on anything it would check (a changed
 * checksum still fails the start as Liquibase fails it), and is skipped, lock and all, only when
 * {@code databasechangelog} holds exactly the bundled changesets with their build-time checksums. Each test works
 * on a database of its own in one embedded PostgreSQL.
 */
class MigrationsTest {

  private static final Map<String, String> CHEAP = Map.of(
    "PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB", "64", "PORTCULLIS_PASSWORD_ARGON2_ITERATIONS", "1");

  private static TestApp app;

  @BeforeAll
  static void startPostgres() {
    app = TestApp.start();
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void aFreshDatabaseIsMigratedByLiquibaseAndTheNextStartSkipsIt() throws SQLException {
    Database db = newDatabase();
    assertEquals(Migrations.Outcome.LIQUIBASE, Migrations.run(db));
    assertEquals("users", query(db, "SELECT to_regclass('users')::text"));
    assertEquals("16", query(db, "SELECT count(*) FROM databasechangelog"));

    assertEquals(Migrations.Outcome.CURRENT, Migrations.run(db));
  }

  @Test
  void aRestartOnACurrentSchemaLoadsNoLiquibaseClass() throws Exception {
    Path dataDir = TempDirs.create("portcullis-migrations");
    Path classes = Files.createTempFile("portcullis-classes", ".log");
    try (ServerProcess first = ServerProcess.start(dataDir, CHEAP)) {
      first.awaitReady(Duration.ofSeconds(120));
      stop(first);
    }
    try (ServerProcess restarted = ServerProcess.start(dataDir, CHEAP,
      List.of("-Xlog:class+load=info:file=" + classes))) {
      restarted.awaitReady(Duration.ofSeconds(120));
      assertTrue(restarted.output().contains("Database schema current (16 changesets applied, checksums match)"),
        restarted.output());
      stop(restarted);
    }
    List<String> liquibase = Files.readAllLines(classes).stream().filter(line -> line.contains(" liquibase.")).toList();
    assertEquals(List.of(), liquibase);
  }

  @Test
  void aCurrentSchemaStartsWithoutLiquibaseOrItsLock() throws SQLException {
    Database db = migrated();
    // A lock left by another instance: Liquibase would wait for it (five minutes by default) before checking.
    execute(db, "UPDATE databasechangeloglock SET locked = true, lockgranted = now(), lockedby = 'another instance'");

    Migrations.Outcome outcome = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> Migrations.run(db));

    assertEquals(Migrations.Outcome.CURRENT, outcome);
  }

  @Test
  void anOlderSchemaIsMigrated() throws SQLException {
    Database db = migrated();
    // As a database left by the release before the newest changeset.
    execute(db, "DROP TABLE identities");
    execute(db, "DELETE FROM databasechangelog WHERE id = '" + Migrations.LATEST + "'");

    assertEquals(Migrations.Outcome.LIQUIBASE, Migrations.run(db));

    assertEquals("identities", query(db, "SELECT to_regclass('identities')::text"));
    assertEquals("1", query(db, "SELECT count(*) FROM databasechangelog WHERE id = '" + Migrations.LATEST + "'"));
    assertEquals(Migrations.Outcome.CURRENT, Migrations.run(db));
  }

  @Test
  void aChangedChecksumFailsTheStartAsLiquibaseDoes() throws SQLException {
    Database db = migrated();
    execute(db, "UPDATE databasechangelog SET md5sum = '9:00000000000000000000000000000000' WHERE id = '001-users'");

    IllegalStateException failed = assertThrows(IllegalStateException.class, () -> Migrations.run(db));

    assertTrue(failed.getMessage().contains("Database migration failed"), failed.getMessage());
    assertTrue(failed.getMessage().contains("check sum"), failed.getMessage());
    assertTrue(failed.getMessage().contains("001-users"), failed.getMessage());
  }

  @Test
  void aChangesetThisBuildDoesNotKnowGoesThroughLiquibase() throws SQLException {
    Database db = migrated();
    // As after a newer release migrated the database and this older one starts on it.
    execute(db, "INSERT INTO databasechangelog (id, author, filename, dateexecuted, orderexecuted, exectype, md5sum)"
      + " VALUES ('999-newer', 'portcullis', 'db/changelog/changes/999-newer.sql', now(), 17, 'EXECUTED',"
      + " '9:11111111111111111111111111111111')");

    assertEquals(Migrations.Outcome.LIQUIBASE, Migrations.run(db));
  }

  @Test
  void checksumsOfAnOlderLiquibaseAreUpgradedByLiquibaseThenSkipped() throws SQLException {
    Database db = migrated();
    // Liquibase before 4.24 stored version-8 checksums; this one recomputes them when they match the file.
    execute(db, "UPDATE databasechangelog SET md5sum = NULL WHERE id = '001-keys'");

    assertEquals(Migrations.Outcome.LIQUIBASE, Migrations.run(db));

    assertTrue(query(db, "SELECT md5sum FROM databasechangelog WHERE id = '001-keys'").startsWith("9:"));
    assertEquals(Migrations.Outcome.CURRENT, Migrations.run(db));
  }

  @Test
  void aManifestNotMadeFromTheBundledChangelogIsNotUsed() throws IOException {
    Path classes = Files.createTempDirectory("portcullis-changelog");
    Path changes = Files.createDirectories(classes.resolve("db/changelog/changes"));
    ClassLoader bundled = MigrationsTest.class.getClassLoader();
    for (String file : new String[] {Migrations.CHANGELOG, ChangelogManifest.RESOURCE}) {
      try (var in = bundled.getResourceAsStream(file)) {
        Files.write(classes.resolve(file), in.readAllBytes());
      }
    }
    StringBuilder whyNot = new StringBuilder();
    try (URLClassLoader copy = new URLClassLoader(new URL[] {classes.toUri().toURL()}, null)) {
      for (var entry : ChangelogManifest.bundled(Migrations.CHANGELOG, bundled, whyNot).orElseThrow().entries()) {
        Path target = classes.resolve(entry.filename());
        if (!Files.exists(target)) {
          try (var in = bundled.getResourceAsStream(entry.filename())) {
            Files.write(target, in.readAllBytes());
          }
        }
      }
      assertTrue(ChangelogManifest.bundled(Migrations.CHANGELOG, copy, whyNot).isPresent(), whyNot.toString());

      // A changeset edited after the build step ran: the manifest's checksums may be stale.
      Path edited = changes.resolve("001-initial.sql");
      Files.writeString(edited, Files.readString(edited) + "\n-- edited\n");
      assertTrue(ChangelogManifest.bundled(Migrations.CHANGELOG, copy, whyNot).isEmpty());
      assertTrue(whyNot.toString().contains("not made from the bundled changelog"), whyNot.toString());
    }
  }

  /** SIGTERM, and the process's exit (its shutdown hook stops the embedded PostgreSQL). */
  private static void stop(ServerProcess server) throws InterruptedException {
    server.process.destroy();
    assertTrue(server.process.waitFor(60, TimeUnit.SECONDS), server.output());
  }

  /** A new, empty database in the test's PostgreSQL, as an external one. */
  private static Database newDatabase() throws SQLException {
    String name = "migrations_" + UUID.randomUUID().toString().replace("-", "");
    try (Connection connection = DbRows.connect(app); Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + name);
    }
    String url = "postgres://" + app.database.user() + "@127.0.0.1:" + app.database.connectOptions().getPort() + "/"
      + name;
    return Database.open(ConfigLoader.load(Map.of(
      "PORTCULLIS_CONFIG", "target/classes/portcullis/config.json",
      "PORTCULLIS_DB_URL", url)));
  }

  private static Database migrated() throws SQLException {
    Database db = newDatabase();
    Migrations.run(db);
    return db;
  }

  private static void execute(Database db, String sql) throws SQLException {
    try (Connection connection = DriverManager.getConnection(db.jdbcUrl(), db.jdbcProperties());
         Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private static String query(Database db, String sql) throws SQLException {
    try (Connection connection = DriverManager.getConnection(db.jdbcUrl(), db.jdbcProperties());
         Statement statement = connection.createStatement(); var rows = statement.executeQuery(sql)) {
      return rows.next() ? rows.getString(1) : null;
    }
  }
}
