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
import java.util.Map;

/**
 * Liquibase's update of the bundled changelog over one JDBC connection. A class of its own so that a start on a
 * current schema never loads Liquibase (some 900 classes): only {@link Migrations} touches it, and only when the
 * database is not known to be current.
 */
final class LiquibaseUpdate {

  private LiquibaseUpdate() {
  }

  static void run(Connection connection, String changelog) throws Exception {
    System.setProperty("liquibase.analytics.enabled", "false");
    System.setProperty("liquibase.showBanner", "false");
    var database = DatabaseFactory.getInstance().findCorrectDatabaseImplementation(new JdbcConnection(connection));
    // Liquibase's progress and summary go to the log (WARN and above by default), not to standard output.
    Map<String, Object> scope = Map.of(
      Scope.Attr.ui.name(), new LoggerUIService(),
      Scope.Attr.resourceAccessor.name(), new ClassLoaderResourceAccessor());
    Scope.child(scope, () -> new CommandScope(UpdateCommandStep.COMMAND_NAME)
      .addArgumentValue(DbUrlConnectionArgumentsCommandStep.DATABASE_ARG, database)
      .addArgumentValue(UpdateCommandStep.CHANGELOG_FILE_ARG, changelog)
      .addArgumentValue(ShowSummaryArgument.SHOW_SUMMARY_OUTPUT, UpdateSummaryOutputEnum.LOG)
      .setOutput(OutputStream.nullOutputStream())
      .execute());
  }
}
