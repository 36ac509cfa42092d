package io.portcullis.it;

import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Plain JDBC from the test thread, to set up or read state the HTTP API does not expose. */
public final class DbRows {

  private DbRows() {
  }

  /** Runs an update and answers the number of rows it changed. */
  public static int update(TestApp app, String sql, Object... params) {
    try (Connection conn = connect(app); PreparedStatement statement = prepare(conn, sql, params)) {
      return statement.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first column of the first row as a string, or null when there is no row. */
  public static String string(TestApp app, String sql, Object... params) {
    try (Connection conn = connect(app); PreparedStatement statement = prepare(conn, sql, params);
         ResultSet rows = statement.executeQuery()) {
      return rows.next() ? rows.getString(1) : null;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first column of every row, as strings. */
  public static List<String> strings(TestApp app, String sql, Object... params) {
    List<String> out = new ArrayList<>();
    try (Connection conn = connect(app); PreparedStatement statement = prepare(conn, sql, params);
         ResultSet rows = statement.executeQuery()) {
      while (rows.next()) {
        out.add(rows.getString(1));
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every row as a JSON object of its columns' text, by column label. */
  public static List<JsonObject> rows(TestApp app, String sql, Object... params) {
    List<JsonObject> out = new ArrayList<>();
    try (Connection conn = connect(app); PreparedStatement statement = prepare(conn, sql, params);
         ResultSet rows = statement.executeQuery()) {
      ResultSetMetaData meta = rows.getMetaData();
      while (rows.next()) {
        JsonObject row = new JsonObject();
        for (int i = 1; i <= meta.getColumnCount(); i++) {
          row.put(meta.getColumnLabel(i), rows.getString(i));
        }
        out.add(row);
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A count (the first column of the first row as a number). */
  public static long number(TestApp app, String sql, Object... params) {
    String value = string(app, sql, params);
    return value == null ? 0 : Long.parseLong(value);
  }

  /** A connection of its own, for a test that keeps one open; the caller closes it. */
  public static Connection connect(TestApp app) throws SQLException {
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
