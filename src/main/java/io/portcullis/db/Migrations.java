package io.portcullis.db;

import liquibase.Scope;
import liquibase.UpdateSummaryOutputEnum;
import liquibase.command.CommandScope;
import liquibase.command.core.UpdateCommandStep;
import liquibase.command.core.helpers.DbUrlConnectionArgumentsCommandStep;
import liquibase.command.core.helpers.ShowSummaryArgument;
import liquibase.database.DatabaseFactory;
import liquibase.database.jvm.JdbcConnection;
import liquibase.resource.ClassLoaderResourceAccessor;
import liquibase.ui.LoggerUIService;

import java.io.OutputStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.Map;

/** Applies the Liquibase changelog over JDBC. Runs before any verticle deploys, so blocking is fine here. */
public final class Migrations {

  public static final String CHANGELOG = "db/changelog/db.changelog-master.xml";
  /** The id of the newest changeset: /ready reports migrations applied when the database has it. */
  public static final String LATEST = "020-identities";

  private static final long MIGRATION_LOCK = 0x706f7274_6d6967L; // "port" "mig"

  private Migrations() {
  }

  public static void run(Database db) {
    System.setProperty("liquibase.analytics.enabled", "false");
    System.setProperty("liquibase.showBanner", "false");
    try (Connection connection = DriverManager.getConnection(db.jdbcUrl(), db.jdbcProperties())) {
      // Instances starting together on a fresh database would race to create Liquibase's own tables (its lock
      // table only guards the changesets): one migrates at a time; the session's lock ends with the connection.
      try (var lock = connection.createStatement()) {
        lock.execute("SELECT pg_advisory_lock(" + MIGRATION_LOCK + ")");
      }
      var database = DatabaseFactory.getInstance().findCorrectDatabaseImplementation(new JdbcConnection(connection));
      // Liquibase's progress and summary go to the log (WARN and above by default), not to standard output.
      Map<String, Object> scope = Map.of(
        Scope.Attr.ui.name(), new LoggerUIService(),
        Scope.Attr.resourceAccessor.name(), new ClassLoaderResourceAccessor());
      Scope.child(scope, () -> new CommandScope(UpdateCommandStep.COMMAND_NAME)
        .addArgumentValue(DbUrlConnectionArgumentsCommandStep.DATABASE_ARG, database)
        .addArgumentValue(UpdateCommandStep.CHANGELOG_FILE_ARG, CHANGELOG)
        .addArgumentValue(ShowSummaryArgument.SHOW_SUMMARY_OUTPUT, UpdateSummaryOutputEnum.LOG)
        .setOutput(OutputStream.nullOutputStream())
        .execute());
    } catch (Exception e) {
      throw new IllegalStateException("Database migration failed: " + e.getMessage(), e);
    }
  }
}
