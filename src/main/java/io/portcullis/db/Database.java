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
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Where the data lives: an external PostgreSQL named by {@code db.url}, or the embedded PostgreSQL whose data
 * directory is {@code data_dir/pg}. When another Portcullis process already runs the embedded server on that
 * directory, this one connects to it instead of starting a second server, so the command-line tools work
 * beside a running {@code serve}. A server left running by a Portcullis that crashed is stopped first (see
 * {@link OrphanedPostmaster}); one started here runs with production durability and a
 * {@link PostmasterWatchdog}. Opened before anything deploys (it blocks), closed last.
 */
public final class Database implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Database.class);
  private static final String EMBEDDED_USER = "postgres";
  private static final String EMBEDDED_DB = "postgres";
  /**
   * TEST-ONLY, UNSAFE: a JVM system property that runs the embedded PostgreSQL without fsync and with
   * asynchronous commit, as the test suite does for speed. Acknowledged writes are lost on a crash.
   */
  public static final String UNSAFE_TEST_ONLY_NO_FSYNC = "portcullis.test-only.unsafe-embedded-no-fsync";

  private final PgConnectOptions connectOptions;
  private final EmbeddedPostgres embedded;
  /** Held for the life of the server: it acts when this JVM dies without closing it. */
  private final PostmasterWatchdog watchdog;
  private final Thread stopAtExit;

  private Database(PgConnectOptions connectOptions, EmbeddedPostgres embedded, PostmasterWatchdog watchdog) {
    this.connectOptions = connectOptions;
    this.embedded = embedded;
    this.watchdog = watchdog;
    this.stopAtExit = embedded == null ? null : new Thread(this::close, "portcullis-embedded-postgres-stop");
    if (stopAtExit != null) {
      Runtime.getRuntime().addShutdownHook(stopAtExit);
    }
  }

  public static Database open(Config config) {
    if (!config.db().embedded()) {
      PgConnectOptions options = PgConnectOptions.fromUri(config.db().url());
      LOG.info("Using external PostgreSQL at {}:{}/{}", options.getHost(), options.getPort(), options.getDatabase());
      return new Database(options, null, null);
    }
    return openEmbedded(config);
  }

  /**
   * Serialized (within the JVM by {@code synchronized}, between processes by {@code pg-start.lock} beside the
   * data directory), so that two processes starting at once never both clear and start: the second one finds
   * the first one's server.
   */
  private static synchronized Database openEmbedded(Config config) {
    Path dir = config.dataDir().resolve("pg").toAbsolutePath().normalize();
    try {
      Files.createDirectories(dir);
      try (FileChannel startLock = FileChannel.open(dir.resolveSibling("pg-start.lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock held = startLock.lock()) {
        Integer runningPort = portOfRunningServer(dir);
        if (runningPort != null) {
          LOG.info("Embedded PostgreSQL in {} is already run by another process; connecting to port {}", dir, runningPort);
          return new Database(embeddedOptions(runningPort), null, null);
        }
        OrphanedPostmaster.clear(dir);
        EmbeddedPostgres pg = durability(EmbeddedPostgres.builder())
          .setDataDirectory(dir)
          .setCleanDataDirectory(false)
          // Its own hook would stop the server at JVM exit at the same time as every other hook: see stopAtExit.
          .setRegisterShutdownHook(false)
          // Crash recovery after a hard stop replays the WAL before the server accepts connections.
          .setPGStartupWait(Duration.ofSeconds(Math.max(60, config.db().connectTimeoutSeconds())))
          .setPort(config.db().embeddedPort() == 0 ? freePort() : config.db().embeddedPort())
          .setServerConfig("listen_addresses", "127.0.0.1")
          .setServerConfig("max_connections", "200")
          .start();
        LOG.info("Embedded PostgreSQL started in {} on 127.0.0.1:{}", dir, pg.getPort());
        return new Database(embeddedOptions(pg.getPort()), pg, PostmasterWatchdog.start(dir));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot start the embedded PostgreSQL in " + dir, e);
    }
  }

  /**
   * The library's defaults suit throw-away test databases (it passes {@code -F}, fsync off, and sets
   * {@code synchronous_commit=off}): a commit would be acknowledged before it is on disk, and a crash of the
   * server or the machine would lose it. Settings given here come after {@code -F} on the command line and win.
   * Only {@link #UNSAFE_TEST_ONLY_NO_FSYNC} keeps the fast settings, for the test suite.
   */
  private static EmbeddedPostgres.Builder durability(EmbeddedPostgres.Builder builder) {
    if (Boolean.getBoolean(UNSAFE_TEST_ONLY_NO_FSYNC)) {
      LOG.warn("System property {} is set: the embedded PostgreSQL runs without fsync and loses acknowledged "
        + "writes on a crash. Never use it outside tests.", UNSAFE_TEST_ONLY_NO_FSYNC);
      return builder.setServerConfig("fsync", "off").setServerConfig("synchronous_commit", "off")
        .setServerConfig("full_page_writes", "off");
    }
    return builder.setServerConfig("fsync", "on").setServerConfig("synchronous_commit", "on")
      .setServerConfig("full_page_writes", "on");
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

  /**
   * Blocks until the database accepts a JDBC connection, retrying with backoff (0.5 s doubling to 5 s, a log
   * line per attempt) for up to {@code timeoutSeconds}: a service started together with its database (compose,
   * a reboot) waits for it instead of exiting at once. Errors that retrying cannot fix (a wrong password, an
   * unknown database) fail at once.
   */
  public void awaitAccepting(int timeoutSeconds) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    long delayMs = 500;
    for (int attempt = 1; ; attempt++) {
      try (Connection connection = DriverManager.getConnection(jdbcUrl(), jdbcProperties())) {
        if (attempt > 1) {
          LOG.info("Database at {} accepts connections (attempt {})", where(), attempt);
        }
        return;
      } catch (SQLException e) {
        if (!DatabaseUnavailable.is(e)) {
          throw new IllegalStateException("Cannot connect to the database at " + where() + ": " + e.getMessage(), e);
        }
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          throw new IllegalStateException("The database at " + where() + " did not accept connections within "
            + timeoutSeconds + " s (db.connect_timeout_seconds); last error: " + e.getMessage(), e);
        }
        long wait = Math.min(delayMs, left);
        LOG.warn("Database at {} not accepting connections (attempt {}: {}); retrying in {} ms, giving up in {} s",
          where(), attempt, e.getMessage(), wait, TimeUnit.MILLISECONDS.toSeconds(left));
        try {
          Thread.sleep(wait);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("Interrupted while waiting for the database", interrupted);
        }
        delayMs = Math.min(delayMs * 2, 5_000);
      }
    }
  }

  /** For JDBC (migrations, the start-up wait): bounded connect and login times. */
  public Properties jdbcProperties() {
    Properties props = new Properties();
    props.setProperty("user", user());
    if (password() != null) {
      props.setProperty("password", password());
    }
    props.setProperty("connectTimeout", "5");
    props.setProperty("loginTimeout", "10");
    return props;
  }

  private String where() {
    return connectOptions.getHost() + ":" + connectOptions.getPort() + "/" + connectOptions.getDatabase();
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
      if (watchdog != null) {
        watchdog.close();
      }
    }
  }
}
