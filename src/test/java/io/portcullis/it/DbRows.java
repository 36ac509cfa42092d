package io.portcullis.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Plain JDBC from the test thread, to set up or read state the HTTP API does not expose. */
final class DbRows {

  private DbRows() {
  }

  /** Runs an update and answers the number of rows it changed. */
  static int update(TestApp app, String sql, Object... params) {
    try (Connection conn = connect(app); PreparedStatement statement = prepare(conn, sql, params)) {
      return statement.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first column of the first row as a string, or null when there is no row. */
  static String string(TestApp app, String sql, Object... params) {
    try (Connection conn = connect(app); PreparedStatement statement = prepare(conn, sql, params);
         ResultSet rows = statement.executeQuery()) {
      return rows.next() ? rows.getString(1) : null;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Connection connect(TestApp app) throws SQLException {
    return DriverManager.getConnection(app.database.jdbcUrl(), app.database.user(), app.database.password());
  }

  private static PreparedStatement prepare(Connection conn, String sql, Object... params) throws SQLException {
    PreparedStatement statement = conn.prepareStatement(sql);
    for (int i = 0; i < params.length; i++) {
      statement.setObject(i + 1, params[i]);
    }
    return statement;
  }
}
