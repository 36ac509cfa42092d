package io.portcullis.app;

import io.portcullis.it.TempDirs;
import io.portcullis.it.PrometheusText;
import io.portcullis.it.ServerProcess;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Graceful shutdown: a request in flight when the service stops still gets its answer and
 * its effect is committed; new connections are refused; SIGTERM stops the process and its embedded PostgreSQL;
 * a restart on the same data finds what was acknowledged.
 */
class ShutdownTest {

  /** Hashes slow enough (~0.5-2 s on 2 shared cores) that a sign-up is reliably in flight when the stop begins. */
  private static final Map<String, String> SLOW_HASHING = Map.of(
    "PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB", "65536",
    "PORTCULLIS_PASSWORD_ARGON2_ITERATIONS", "8");
  private static final String QUEUE_WAIT = "portcullis_password_hash_queue_wait_seconds_count";
  /**
   * HTTP/1.1, as browsers and supabase-js speak plain http. With its default upgrade to HTTP/2 (h2c), the JDK's
   * client before 17.0.17 fails every open stream on the server's graceful GOAWAY ("GOAWAY received",
   * JDK-8335181) though the server still answers them.
   */
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();

  /** What a poller saw on a fresh connection while the service stopped. */
  private record Seen(String what, boolean signUpAnswered) {
  }

  @Test
  void aSignUpInFlightWhenTheServerStopsIsAnsweredRefusesNewConnectionsAndIsThereAfterRestart() throws Exception {
    Path dataDir = TempDirs.create("portcullis-shutdown");
    String email = TestApp.uniqueEmail();
    String password = "pw-" + UUID.randomUUID();
    TestApp app = TestApp.start(dataDir, SLOW_HASHING);
    int port = app.port;
    CompletableFuture<Void> stopped = null;
    try {
      double waitsBefore = scrape(app).sum(QUEUE_WAIT);
      CompletableFuture<HttpResponse<String>> signUp = HTTP.sendAsync(HttpRequest.newBuilder(URI.create(app.url(BASE + "/signup")))
        .timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("email", email).put("password", password).encode()))
        .build(), HttpResponse.BodyHandlers.ofString());
      awaitHashingBegun(signUp, () -> scrape(app).sum(QUEUE_WAIT) > waitsBefore);

      // What the SIGTERM hook does: Server.stop (readiness, HTTP drain, Vert.x), then the database.
      stopped = CompletableFuture.runAsync(app::close);
      List<Seen> seen = new ArrayList<>();
      while (!stopped.isDone()) {
        seen.add(new Seen(ready(port), signUp.isDone()));
        try {
          stopped.get(5, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          // still stopping: look again
        }
      }
      stopped.get();

      HttpResponse<String> answered = signUp.get(10, TimeUnit.SECONDS);
      assertEquals(200, answered.statusCode(), answered.body());
      assertNotNull(new JsonObject(answered.body()).getString("access_token"));
      // The first looks may come before the stopping thread has begun (it is started, not yet running): a 200 is
      // fine until the stop has shown, never after.
      List<Seen> afterStopShown = seen.stream().dropWhile(s -> s.what().equals("200 ready")).toList();
      for (Seen s : afterStopShown) {
        assertTrue(List.of("refused", "closed", "503 shutting_down").contains(s.what()), "while stopping: " + seen);
      }
      assertTrue(seen.stream().anyMatch(s -> s.what().equals("refused") && !s.signUpAnswered()),
        "new connections refused while the sign-up was still in flight: " + seen);
      assertEquals("refused", ready(port), "after the stop");
      assertFalse(Files.exists(dataDir.resolve("pg").resolve("postmaster.pid")), "embedded PostgreSQL stopped");
    } finally {
      if (stopped == null) {
        app.close();
      }
    }

    try (TestApp restarted = TestApp.start(dataDir, SLOW_HASHING)) {
      restarted.signIn(email, password);
    }
  }

  @Test
  void readyAnswers503ShuttingDownWhileTheUnreadyDelayRuns() throws Exception {
    TestApp app = TestApp.start(Map.of("PORTCULLIS_SHUTDOWN_UNREADY_DELAY_MS", "3000"));
    try {
      assertEquals(200, app.get("/ready").status());
      Thread stopper = new Thread(() -> {
        try {
          app.server.stop(java.time.Duration.ofSeconds(30));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      stopper.start();
      TestApp.Response during = null;
      long deadline = System.nanoTime() + 2_500_000_000L;
      while (System.nanoTime() < deadline) {
        during = app.get("/ready");
        if (during.status() == 503) {
          break;
        }
      }
      assertEquals(503, during.status(), during.raw());
      assertEquals("shutting_down", during.json().getString("status"));
      assertEquals(200, app.get("/health").status(), "still serving while load balancers take it out");
      stopper.join(30_000);
    } finally {
      app.database.close();
    }
  }

  @Test
  void sigtermLetsAnInFlightSignUpFinishStopsTheEmbeddedDatabaseAndARestartSignsTheUsersIn() throws Exception {
    Path dataDir = TempDirs.create("portcullis-sigterm");
    int graceMs = 10_000;
    Map<String, String> settings = new HashMap<>(SLOW_HASHING);
    settings.put("PORTCULLIS_SHUTDOWN_GRACE_MS", Integer.toString(graceMs));
    String acknowledged = TestApp.uniqueEmail();
    String inFlight = TestApp.uniqueEmail();
    String password = "pw-" + UUID.randomUUID();
    String requestId;

    try (ServerProcess server = ServerProcess.start(dataDir, settings)) {
      server.awaitReady(Duration.ofSeconds(120));
      TestApp.Response first = server.postJson(BASE + "/signup",
        new JsonObject().put("email", acknowledged).put("password", password));
      assertEquals(200, first.status(), first.raw());
      requestId = first.header("X-Request-Id");
      double waitsBefore = PrometheusText.parse(server.get("/metrics").raw()).sum(QUEUE_WAIT);
      CompletableFuture<HttpResponse<String>> second = server.postJsonAsync(BASE + "/signup",
        new JsonObject().put("email", inFlight).put("password", password));
      awaitHashingBegun(second, () -> PrometheusText.parse(server.get("/metrics").raw()).sum(QUEUE_WAIT) > waitsBefore);

      long sigterm = System.nanoTime();
      server.process.destroy(); // SIGTERM on Linux
      boolean exited = server.process.waitFor(graceMs + 30_000L, TimeUnit.MILLISECONDS);
      long tookMs = (System.nanoTime() - sigterm) / 1_000_000;

      assertTrue(exited, "exit after SIGTERM:\n" + server.output());
      assertTrue(tookMs < graceMs + 10_000L, "exited " + tookMs + " ms after SIGTERM (grace " + graceMs + " ms)");
      HttpResponse<String> answered = second.get(10, TimeUnit.SECONDS);
      assertEquals(200, answered.statusCode(), answered.body() + "\n" + server.output());
      assertFalse(Files.exists(server.pgDir().resolve("postmaster.pid")), "postmaster.pid left:\n" + server.output());
      assertEquals(List.of(), server.postgresProcesses().stream().map(p -> p.info().commandLine().orElse("?")).toList(),
        "no PostgreSQL process of this data directory remains");

      // The production logging configuration: every line on stdout is one JSON object; the access log carries the request.
      List<String> lines = server.stdoutLines().stream().filter(line -> !line.isBlank()).toList();
      assertFalse(lines.isEmpty(), server.output());
      List<JsonObject> events = new ArrayList<>();
      for (String line : lines) {
        try {
          events.add(new JsonObject(line));
        } catch (RuntimeException e) {
          fail("not a JSON line: " + line);
        }
      }
      assertTrue(events.stream().anyMatch(e -> "io.portcullis.access".equals(e.getString("loggerName"))
        && String.valueOf(e.getValue("kvpList")).contains(requestId)), "an access-log line of request " + requestId);
      assertFalse(server.output().contains(password), "the password is in no log line");
    }

    // The same hashing settings: verifying the stored hashes takes their 64 MiB whatever is configured.
    try (ServerProcess restarted = ServerProcess.start(dataDir, SLOW_HASHING)) {
      restarted.awaitReady(Duration.ofSeconds(120));
      for (String email : List.of(acknowledged, inFlight)) {
        TestApp.Response signIn = restarted.postJson(BASE + "/token?grant_type=password",
          new JsonObject().put("email", email).put("password", password));
        assertEquals(200, signIn.status(), signIn.raw());
      }
      restarted.process.destroy();
      assertTrue(restarted.process.waitFor(40, TimeUnit.SECONDS), restarted.output());
      assertEquals(List.of(), restarted.postgresProcesses().stream().map(p -> p.info().commandLine().orElse("?")).toList());
    }
  }

  // ---- helpers ----

  private static PrometheusText scrape(TestApp app) {
    TestApp.Response metrics = app.get("/metrics");
    assertEquals(200, metrics.status(), metrics.raw());
    return PrometheusText.parse(metrics.raw());
  }

  /**
   * Waits (bounded) until a credential worker has taken the sign-up (its queue wait was recorded): from then on
   * it hashes for a while, so the request is in flight.
   */
  private static void awaitHashingBegun(CompletableFuture<HttpResponse<String>> signUp,
                                        java.util.function.BooleanSupplier begun) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!begun.getAsBoolean()) {
      if (signUp.isDone()) {
        fail("the sign-up was answered before its hashing was seen: " + signUp.get().statusCode());
      }
      if (System.nanoTime() > deadline) {
        fail("the sign-up's hashing never began");
      }
      try {
        signUp.get(10, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        // not answered yet: look again
      }
    }
    assertFalse(signUp.isDone(), "the sign-up is still in flight");
  }

  /**
   * GET /ready on a fresh connection: "refused" when nothing accepts it, "closed" when it is accepted and closed
   * without an answer, else the status and readiness ("200 ready", "503 shutting_down").
   */
  private static String ready(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      out.write("GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      String status = in.readLine();
      if (status == null) {
        return "closed";
      }
      StringBuilder rest = new StringBuilder();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        rest.append(line).append('\n');
      }
      String body = rest.substring(rest.indexOf("\n\n") + 2).trim();
      return status.split(" ")[1] + " " + new JsonObject(body).getString("status");
    } catch (ConnectException e) {
      return "refused";
    } catch (IOException e) {
      return "closed";
    }
  }
}
