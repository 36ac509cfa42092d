package io.portcullis.db;

import io.portcullis.config.Config;
import io.vertx.pgclient.PgConnectOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Where the data lives: an external PostgreSQL named by {@code db.url}, or the embedded PostgreSQL whose data
 * directory is {@code data_dir/pg}. When another Portcullis process already runs the embedded server on that
 * directory, this one connects to it instead of starting a second server, so the command-line tools work
 * beside a running {@code serve}. Opened before anything deploys (it blocks), closed last.
 */
public final class Database implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Database.class);
  private static final String EMBEDDED_USER = "postgres";
  private static final String EMBEDDED_DB = "postgres";

  private final PgConnectOptions connectOptions;
  private final EmbeddedPostgres embedded;
  private final Thread stopAtExit;

  private Database(PgConnectOptions connectOptions, EmbeddedPostgres embedded) {
    this.connectOptions = connectOptions;
    this.embedded = embedded;
    this.stopAtExit = embedded == null ? null : new Thread(this::close, "portcullis-embedded-postgres-stop");
    if (stopAtExit != null) {
      Runtime.getRuntime().addShutdownHook(stopAtExit);
    }
  }

  public static Database open(Config config) {
    if (!config.db().embedded()) {
      PgConnectOptions options = PgConnectOptions.fromUri(config.db().url());
      LOG.info("Using external PostgreSQL at {}:{}/{}", options.getHost(), options.getPort(), options.getDatabase());
      return new Database(options, null);
    }
    Path dir = config.dataDir().resolve("pg").toAbsolutePath().normalize();
    Integer runningPort = portOfRunningServer(dir);
    if (runningPort != null) {
      LOG.info("Embedded PostgreSQL in {} is already run by another process; connecting to port {}", dir, runningPort);
      return new Database(embeddedOptions(runningPort), null);
    }
    try {
      Files.createDirectories(dir);
      EmbeddedPostgres pg = EmbeddedPostgres.builder()
        .setDataDirectory(dir)
        .setCleanDataDirectory(false)
        // Its own hook would stop the server at JVM exit at the same time as every other hook: see stopAtExit.
        .setRegisterShutdownHook(false)
        .setPort(config.db().embeddedPort() == 0 ? freePort() : config.db().embeddedPort())
        .setServerConfig("listen_addresses", "127.0.0.1")
        .setServerConfig("max_connections", "200")
        .start();
      LOG.info("Embedded PostgreSQL started in {} on 127.0.0.1:{}", dir, pg.getPort());
      return new Database(embeddedOptions(pg.getPort()), pg);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot start the embedded PostgreSQL in " + dir, e);
    }
  }

  private static PgConnectOptions embeddedOptions(int port) {
    return new PgConnectOptions()
      .setHost("127.0.0.1")
      .setPort(port)
      .setUser(EMBEDDED_USER)
      .setPassword("")
      .setDatabase(EMBEDDED_DB);
  }

  /**
   * The embedded server holds {@code epg-lock} while it runs; when that lock is taken, {@code postmaster.pid}
   * (line 4) tells the port it listens on.
   */
  private static Integer portOfRunningServer(Path dir) {
    Path lockFile = dir.resolve("epg-lock");
    Path pidFile = dir.resolve("postmaster.pid");
    if (!Files.exists(lockFile) || !Files.exists(pidFile)) {
      return null;
    }
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // held by this very JVM (tests run several apps in one process)
      }
      if (lock != null) {
        lock.release();
        return null;
      }
      List<String> lines = Files.readAllLines(pidFile);
      return lines.size() > 3 ? Integer.parseInt(lines.get(3).trim()) : null;
    } catch (IOException | NumberFormatException e) {
      LOG.warn("Cannot tell whether an embedded PostgreSQL already runs in {}: {}", dir, e.toString());
      return null;
    }
  }

  private static int freePort() throws IOException {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  public PgConnectOptions connectOptions() {
    return new PgConnectOptions(connectOptions);
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://" + connectOptions.getHost() + ":" + connectOptions.getPort() + "/"
      + connectOptions.getDatabase();
  }

  public String user() {
    return connectOptions.getUser();
  }

  public String password() {
    return connectOptions.getPassword();
  }

  public boolean embeddedHere() {
    return embedded != null;
  }

  /**
   * An embedded server started here stops at JVM exit in a shutdown hook of its own, which runs at the same time
   * as every other hook. A caller whose own hook still serves requests that need the database (serve on
   * SIGTERM) takes that over with this, and closes the database at the end of its hook.
   */
  public void closeInCallersShutdownHook() {
    removeStopAtExit();
  }

  private void removeStopAtExit() {
    if (stopAtExit != null && Thread.currentThread() != stopAtExit) {
      try {
        Runtime.getRuntime().removeShutdownHook(stopAtExit);
      } catch (IllegalStateException e) {
        // The JVM is shutting down: the hook runs or has run; close() is idempotent.
      }
    }
  }

  @Override
  public void close() {
    removeStopAtExit();
    if (embedded != null) {
      try {
        embedded.close();
        LOG.info("Embedded PostgreSQL stopped");
      } catch (IOException e) {
        LOG.warn("Embedded PostgreSQL did not stop cleanly: {}", e.toString());
      }
    }
  }
}
