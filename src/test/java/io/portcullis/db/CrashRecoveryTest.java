package io.portcullis.db;

import io.portcullis.it.TempDirs;
import io.portcullis.it.ServerProcess;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A crash of the real process on the embedded PostgreSQL: {@code kill -9} of the JVM alone (its watchdog stops
 * the server), of the JVM and the watchdog (the server is orphaned), or of everything at once (a container kill).
 * A plain {@code serve} on the same data then starts without a manual step, and every sign-up that was answered
 * 200 is still there.
 */
class CrashRecoveryTest {

  private static final Map<String, String> CHEAP = Map.of(
    "PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB", "64", "PORTCULLIS_PASSWORD_ARGON2_ITERATIONS", "1",
    "PORTCULLIS_RATE_LIMITS", "off");
  private static final String PASSWORD = "pw-" + UUID.randomUUID();

  @Test
  void aJvmKilledAloneTakesItsPostgresWithItAndAServeOnTheSameDataStarts() throws Exception {
    Path dataDir = TempDirs.create("portcullis-crash");
    String email = TestApp.uniqueEmail();
    try (ServerProcess crashed = ServerProcess.start(dataDir, CHEAP)) {
      crashed.awaitReady(Duration.ofSeconds(120));
      assertEquals(200, signUp(crashed, email).status());

      crashed.process.destroyForcibly(); // SIGKILL: no shutdown hook runs
      assertTrue(crashed.process.waitFor(30, TimeUnit.SECONDS));
      awaitNoPostgres(crashed);

      assertRestartSignsIn(dataDir, email);
    }
  }

  @Test
  void aServeStopsAnOrphanedPostgresOfItsDataDirectoryAndStarts() throws Exception {
    Path dataDir = TempDirs.create("portcullis-orphan");
    String email = TestApp.uniqueEmail();
    try (ServerProcess crashed = ServerProcess.start(dataDir, CHEAP)) {
      crashed.awaitReady(Duration.ofSeconds(120));
      assertEquals(200, signUp(crashed, email).status());

      // The JVM and everything it started except the server (which pg_ctl detached): the watchdog too.
      List<ProcessHandle> children = crashed.process.descendants().toList();
      crashed.process.destroyForcibly();
      children.forEach(ProcessHandle::destroyForcibly);
      assertTrue(crashed.process.waitFor(30, TimeUnit.SECONDS));
      Thread.sleep(1_000);
      assertEquals(1, postmasters(crashed).size(), "the killed JVM's PostgreSQL outlives it (the case under test)");

      assertRestartSignsIn(dataDir, email);
    }
  }

  /** A plain serve on the data starts, finds the user, runs one server, and leaves none behind when stopped. */
  private static void assertRestartSignsIn(Path dataDir, String email) throws Exception {
    try (ServerProcess restarted = ServerProcess.start(dataDir, CHEAP)) {
      restarted.awaitReady(Duration.ofSeconds(120));
      assertEquals(200, signIn(restarted, email).status(), restarted.output());
      assertEquals(1, postmasters(restarted).size(), "one PostgreSQL server on the data directory");

      restarted.process.destroy();
      assertTrue(restarted.process.waitFor(40, TimeUnit.SECONDS), restarted.output());
      assertEquals(List.of(), restarted.postgresProcesses());
    }
  }

  private static void awaitNoPostgres(ServerProcess server) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!server.postgresProcesses().isEmpty()) {
      if (System.nanoTime() > deadline) {
        fail("PostgreSQL outlives its killed JVM: " + server.postgresProcesses().stream()
          .map(p -> p.info().commandLine().orElse("?")).toList());
      }
      Thread.sleep(100);
    }
  }

  @Test
  void signUpsAnsweredBeforeTheJvmAndItsPostgresWereKilledTogetherAreThereAfterARestart() throws Exception {
    Path dataDir = TempDirs.create("portcullis-kill-all");
    ConcurrentLinkedQueue<String> acknowledged = new ConcurrentLinkedQueue<>();
    try (ServerProcess crashed = ServerProcess.start(dataDir, CHEAP)) {
      crashed.awaitReady(Duration.ofSeconds(120));
      assertEquals(List.of("on", "on", "on"), settings(crashed, "fsync", "synchronous_commit", "full_page_writes"),
        "the embedded PostgreSQL's durability settings");

      long stopAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
      List<Thread> clients = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Thread client = new Thread(() -> {
          while (System.nanoTime() < stopAt) {
            String email = TestApp.uniqueEmail();
            try {
              if (signUp(crashed, email).status() == 200) {
                acknowledged.add(email);
              }
            } catch (RuntimeException e) {
              return; // the server is gone
            }
          }
        });
        client.start();
        clients.add(client);
      }
      Thread.sleep(2_500); // mid-stream: sign-ups are being committed when everything dies
      List<ProcessHandle> postmasters = postmasters(crashed);
      crashed.process.destroyForcibly();
      postmasters.forEach(ProcessHandle::destroyForcibly);
      for (Thread client : clients) {
        client.join(60_000);
      }
      assertTrue(crashed.process.waitFor(30, TimeUnit.SECONDS));
    }
    assertFalse(acknowledged.isEmpty());

    try (ServerProcess restarted = ServerProcess.start(dataDir, CHEAP)) {
      restarted.awaitReady(Duration.ofSeconds(120));
      List<String> lost = acknowledged.stream().filter(email -> signIn(restarted, email).status() != 200).toList();
      assertEquals(List.of(), lost, "of " + acknowledged.size() + " acknowledged sign-ups");
      restarted.process.destroy();
      assertTrue(restarted.process.waitFor(40, TimeUnit.SECONDS), restarted.output());
    }
  }

  private static TestApp.Response signUp(ServerProcess server, String email) {
    return server.postJson(BASE + "/signup", new JsonObject().put("email", email).put("password", PASSWORD));
  }

  private static TestApp.Response signIn(ServerProcess server, String email) {
    return server.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", PASSWORD));
  }

  /** The postmaster: the one process on the data directory that is not a backend ("postgres: ..."). */
  private static List<ProcessHandle> postmasters(ServerProcess server) {
    return server.postgresProcesses().stream()
      .filter(p -> p.info().commandLine().map(line -> line.contains(" -D ") && !line.contains("postgres:")).orElse(false))
      .toList();
  }

  /** The running server's settings, asked over JDBC on the port its {@code postmaster.pid} names. */
  private static List<String> settings(ServerProcess server, String... names) throws Exception {
    List<String> pid = Files.readAllLines(server.pgDir().resolve("postmaster.pid"));
    String url = "jdbc:postgresql://127.0.0.1:" + pid.get(3).trim() + "/postgres?user=postgres";
    List<String> values = new ArrayList<>();
    try (Connection connection = DriverManager.getConnection(url); Statement statement = connection.createStatement()) {
      for (String name : names) {
        try (ResultSet rows = statement.executeQuery("SHOW " + name)) {
          rows.next();
          values.add(rows.getString(1));
        }
      }
    }
    return values;
  }
}
