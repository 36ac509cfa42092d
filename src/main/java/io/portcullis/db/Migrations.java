package io.portcullis.db;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DriverManager;
import java.util.Optional;

/**
 * Brings the database to the bundled changelog before any verticle deploys (blocking is fine here). When
 * {@code databasechangelog} already holds exactly the bundled changesets with the checksums this build's Liquibase
 * computes (see {@link ChangelogManifest}), there is nothing to apply and nothing Liquibase would reject, so the
 * start skips Liquibase altogether (its classes and its lock, about a second of a start); in every other case
 * Liquibase runs as always: it applies what is missing and fails on a changed checksum.
 */
public final class Migrations {

  public static final String CHANGELOG = "db/changelog/db.changelog-master.xml";
  /** The id of the newest changeset: /ready reports migrations applied when the database has it. */
  public static final String LATEST = "020-identities";

  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);
  private static final long MIGRATION_LOCK = 0x706f7274_6d6967L; // "port" "mig"

  /** What a run did. */
  public enum Outcome {
    /** The schema was current: Liquibase was not loaded. */
    CURRENT,
    /** Liquibase checked the changelog and applied what was missing. */
    LIQUIBASE
  }

  private Migrations() {
  }

  public static Outcome run(Database db) {
    try (Connection connection = DriverManager.getConnection(db.jdbcUrl(), db.jdbcProperties())) {
      StringBuilder whyNot = new StringBuilder();
      Optional<ChangelogManifest> manifest = ChangelogManifest.bundled(CHANGELOG, Migrations.class.getClassLoader(),
        whyNot);
      if (manifest.isEmpty()) {
        LOG.warn("Every start runs Liquibase: {}", whyNot);
      } else if (manifest.get().appliedIn(connection)) {
        LOG.info("Database schema current ({} changesets applied, checksums match); Liquibase not run",
          manifest.get().entries().size());
        return Outcome.CURRENT;
      }
      // Instances starting together on a fresh database would race to create Liquibase's own tables (its lock
      // table only guards the changesets): one migrates at a time; the session's lock ends with the connection.
      try (var lock = connection.createStatement()) {
        lock.execute("SELECT pg_advisory_lock(" + MIGRATION_LOCK + ")");
      }
      LiquibaseUpdate.run(connection, CHANGELOG);
      LOG.info("Database schema brought to the changelog by Liquibase");
      return Outcome.LIQUIBASE;
    } catch (Exception e) {
      throw new IllegalStateException("Database migration failed: " + e.getMessage(), e);
    }
  }
}
