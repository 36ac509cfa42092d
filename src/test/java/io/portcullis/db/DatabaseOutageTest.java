package io.portcullis.db;

import io.portcullis.it.TempDirs;
import io.portcullis.bus.Addresses;
import io.portcullis.it.ErrorShapes;
import io.portcullis.it.ServerProcess;
import io.portcullis.it.TestApp;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.util.LinuxUtils;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The database going away under the running service (its PostgreSQL stopped with {@code pg_ctl stop -m immediate},
 * as a crash or a fail-over does): every route that needs it answers 503 {@code service_unavailable} with a
 * {@code Retry-After}, on HTTP and on the bus, promptly; once the database is back, requests succeed again. And
 * start-up with the database down: it waits for it (up to {@code db.connect_timeout_seconds}), then gives up
 * with a clear message and a non-zero exit.
 */
class DatabaseOutageTest {

  private static final String PASSWORD = "password123";

  @Test
  void whileTheDatabaseIsDownEveryDatabaseRouteAnswers503WithRetryAfterAndRecoversWhenItIsBack() throws Exception {
    try (TestApp app = TestApp.startDurable()) {
      String email = TestApp.uniqueEmail();
      JsonObject session = app.signUp(email, PASSWORD);
      String access = session.getString("access_token");
      String refresh = session.getString("refresh_token");
      EmbeddedServer pg = EmbeddedServer.of(app);

      pg.stopImmediately();
      try {
        assertUnavailable(headers -> app.postJson(BASE + "/token?grant_type=password",
          new JsonObject().put("email", email).put("password", PASSWORD), headers));
        assertUnavailable(headers -> app.postJson(BASE + "/signup",
          new JsonObject().put("email", TestApp.uniqueEmail()).put("password", PASSWORD), headers));
        assertUnavailable(headers -> app.postJson(BASE + "/token?grant_type=refresh_token",
          new JsonObject().put("refresh_token", refresh), headers));
        assertUnavailable(headers -> app.get(BASE + "/user", concat(bearer(access), headers)));
        assertEquals(503, app.get("/ready").status());

        assertBusUnavailable(app, Addresses.TOKENS_PASSWORD, new JsonObject().put("email", email).put("password", PASSWORD));
        assertBusUnavailable(app, Addresses.USERS_GET, new JsonObject().put("email", email));
      } finally {
        pg.start();
      }

      awaitStatus(200, () -> app.postJson(BASE + "/token?grant_type=password",
        new JsonObject().put("email", email).put("password", PASSWORD)));
      assertEquals(200, app.get(BASE + "/user", bearer(access)).status());
      assertEquals(200, app.refresh(refresh).status());
      assertEquals(200, app.get("/ready").status());
    }
  }

  @Test
  void startUpWaitsForADatabaseThatIsNotUpYet() throws Exception {
    try (TestApp database = TestApp.startDurable()) {
      EmbeddedServer pg = EmbeddedServer.of(database);
      pg.stopImmediately();
      Map<String, String> settings = Map.of(
        "PORTCULLIS_DB_URL", "postgres://postgres@127.0.0.1:" + pg.port + "/postgres",
        "PORTCULLIS_DB_CONNECT_TIMEOUT_SECONDS", "120",
        "PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB", "64", "PORTCULLIS_PASSWORD_ARGON2_ITERATIONS", "1");
      try (ServerProcess server = ServerProcess.start(TempDirs.create("portcullis-wait"), settings)) {
        awaitOutput(server, "not accepting connections (attempt 2");
        assertTrue(server.process.isAlive(), server.output());
        pg.start();
        server.awaitReady(Duration.ofSeconds(120));
        TestApp.Response signUp = server.postJson(BASE + "/signup",
          new JsonObject().put("email", TestApp.uniqueEmail()).put("password", "pw-" + java.util.UUID.randomUUID()));
        assertEquals(200, signUp.status(), signUp.raw());
        server.process.destroy();
        assertTrue(server.process.waitFor(40, TimeUnit.SECONDS), server.output());
      }
    }
  }

  @Test
  void startUpGivesUpWithAClearMessageAfterTheConnectTimeout() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    Map<String, String> settings = Map.of(
      "PORTCULLIS_DB_URL", "postgres://postgres@127.0.0.1:" + closedPort + "/postgres",
      "PORTCULLIS_DB_CONNECT_TIMEOUT_SECONDS", "3");
    try (ServerProcess server = ServerProcess.start(TempDirs.create("portcullis-no-db"), settings)) {
      assertTrue(server.process.waitFor(60, TimeUnit.SECONDS), "serve gives up: " + server.output());
      assertEquals(1, server.process.exitValue(), server.output());
      String output = server.output();
      assertTrue(output.contains("not accepting connections (attempt 2"), output);
      assertTrue(output.contains("did not accept connections within 3 s (db.connect_timeout_seconds)"), output);
    }
  }

  // ---- helpers ----

  /** Both error shapes: 503, service_unavailable, a Retry-After in seconds, answered within the request timeout. */
  private static void assertUnavailable(Function<String[], TestApp.Response> send) {
    long started = System.nanoTime();
    ErrorShapes.Both both = ErrorShapes.assertError(503, "service_unavailable", send);
    assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(30), "answered promptly");
    for (TestApp.Response r : List.of(both.legacy(), both.versioned())) {
      String retryAfter = r.header("Retry-After");
      assertTrue(retryAfter != null && retryAfter.matches("[1-9][0-9]*"), "Retry-After: " + retryAfter);
    }
  }

  private static void assertBusUnavailable(TestApp app, String address, JsonObject body) throws Exception {
    try {
      app.vertx.eventBus().<JsonObject>request(address, body).map(Message::body)
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      fail(address + " answered while the database was down");
    } catch (ExecutionException e) {
      ReplyException failure = assertInstanceOf(ReplyException.class, e.getCause());
      assertEquals(ReplyFailure.RECIPIENT_FAILURE, failure.failureType(), failure.getMessage());
      assertEquals(503, failure.failureCode(), failure.getMessage());
      JsonObject error = new JsonObject(failure.getMessage());
      assertEquals("service_unavailable", error.getString("error_code"), failure.getMessage());
      assertEquals(503, error.getValue("code"), failure.getMessage());
    }
  }

  private static void awaitStatus(int status, java.util.function.Supplier<TestApp.Response> send)
    throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    TestApp.Response last = null;
    while (System.nanoTime() < deadline) {
      last = send.get();
      if (last.status() == status) {
        return;
      }
      Thread.sleep(100);
    }
    fail("still " + last.status() + " " + last.raw());
  }

  private static void awaitOutput(ServerProcess server, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (server.output().contains(text)) {
        return;
      }
      if (server.process.waitFor(100, TimeUnit.MILLISECONDS)) {
        fail("serve exited with " + server.process.exitValue() + ":\n" + server.output());
      }
    }
    fail("no \"" + text + "\" in:\n" + server.output());
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  /** The embedded PostgreSQL of an in-process app, stopped and started behind its back with its own pg_ctl. */
  private record EmbeddedServer(Path pgCtl, Path dir, int port) {

    static EmbeddedServer of(TestApp app) throws IOException {
      Path dir = app.dataDir.resolve("pg").toAbsolutePath().normalize();
      String pid = Files.readAllLines(dir.resolve("postmaster.pid")).get(0).trim();
      String argv0 = new String(Files.readAllBytes(Path.of("/proc", pid, "cmdline")), StandardCharsets.UTF_8)
        .split("\0")[0];
      return new EmbeddedServer(Path.of(argv0).resolveSibling("pg_ctl"), dir,
        app.database.connectOptions().getPort());
    }

    void stopImmediately() throws Exception {
      run(pgCtl.toString(), "-D", dir.toString(), "stop", "-m", "immediate", "-w");
    }

    void start() throws Exception {
      run(pgCtl.toString(), "-D", dir.toString(), "-o", "-p " + port + " -c listen_addresses=127.0.0.1", "-w",
        "-l", dir.resolveSibling("pg-restart.log").toString(), "start");
    }

    private static void run(String... command) throws Exception {
      List<String> line = new ArrayList<>();
      if (LinuxUtils.isUnshareAvailable()) {
        line.addAll(List.of("unshare", "-U")); // pg_ctl refuses root, as the embedded library knows
      }
      line.addAll(List.of(command));
      Process process = new ProcessBuilder(line).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(process.waitFor(60, TimeUnit.SECONDS), output);
      assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + output);
    }
  }
}
