package io.portcullis.it;

import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.portcullis.it.ErrorShapes.assertLegacy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three Portcullis processes clustered on Hazelcast (loopback, a cluster name of their own) over one PostgreSQL
 * (embedded, started here): they behave as one service. Each test sends from a client address of its own
 * (X-Forwarded-For from a trusted loopback proxy), so that rate limits only meet where a test means them to.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {

  static final String BASE = "/auth/v1";
  static final String PASSWORD = "cluster-Passw0rd!";
  /** The one URL clients use (a balancer in front): the issuer every instance signs and verifies. */
  static final String EXTERNAL_URL = "http://127.0.0.1:9";

  EmbeddedPostgres postgres;
  Map<String, String> common;
  final List<Integer> clusterPorts = new ArrayList<>();
  final List<ServerProcess> instances = new ArrayList<>();
  String serviceKey;

  @BeforeAll
  void startCluster() throws Exception {
    postgres = EmbeddedPostgres.builder().setDataDirectory(Files.createTempDirectory("portcullis-cluster-pg"))
      .setCleanDataDirectory(true).start();
    String dbUrl = "postgres://postgres@127.0.0.1:" + postgres.getPort() + "/postgres";
    for (int i = 0; i < 3; i++) {
      clusterPorts.add(freePort());
    }
    common = new HashMap<>();
    common.put("PORTCULLIS_DB_URL", dbUrl);
    common.put("PORTCULLIS_CLUSTER_ENABLED", "true");
    common.put("PORTCULLIS_CLUSTER_NAME", "portcullis-test-" + UUID.randomUUID());
    common.put("PORTCULLIS_CLUSTER_HOST", "127.0.0.1");
    common.put("PORTCULLIS_CLUSTER_MEMBERS", String.join(",", clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList()));
    common.put("PORTCULLIS_EXTERNAL_URL", EXTERNAL_URL);
    common.put("PORTCULLIS_HTTP_TRUSTED_PROXIES", "127.0.0.1");
    common.put("PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB", "64");
    common.put("PORTCULLIS_PASSWORD_ARGON2_ITERATIONS", "1");
    common.put("PORTCULLIS_PASSWORD_REJECT_COMMON", "false");
    common.put("PORTCULLIS_PASSWORD_HASH_WORKERS", "1");
    common.put("PORTCULLIS_HTTP_INSTANCES", "1");
    common.put("PORTCULLIS_DB_POOL_SIZE", "4");
    common.put("PORTCULLIS_JWT_ROTATION_DELAY_SECONDS", "0");
    common.put("PORTCULLIS_RATE_LIMIT_BURST", "4");
    common.put("PORTCULLIS_RATE_LIMIT_SIGNUP", "36");
    common.put("PORTCULLIS_SHUTDOWN_UNREADY_DELAY_MS", "0");
    common.put("PORTCULLIS_LOG_FORMAT", "TEXT");
    for (int i = 0; i < 3; i++) {
      instances.add(startInstance(i));
    }
    for (ServerProcess instance : instances) {
      instance.awaitReady(Duration.ofSeconds(90));
    }
    Map<String, String> env = new HashMap<>(common);
    env.put("PORTCULLIS_DATA_DIR", Files.createTempDirectory("portcullis-cluster-cli").toString());
    env.remove("PORTCULLIS_CLUSTER_ENABLED");
    CommandLine.Run run = CommandLine.run(env, "service-key");
    assertEquals(0, run.exit(), run.err());
    serviceKey = run.out().lines().map(String::trim).filter(line -> line.matches("[\\w-]+\\.[\\w-]+\\.[\\w-]+"))
      .findFirst().orElseThrow();
  }

  ServerProcess startInstance(int index) throws IOException {
    Map<String, String> env = new HashMap<>(common);
    env.put("PORTCULLIS_CLUSTER_PORT", Integer.toString(clusterPorts.get(index)));
    return ServerProcess.start(Files.createTempDirectory("portcullis-cluster-" + index), env);
  }

  @AfterAll
  void stopCluster() throws IOException {
    instances.forEach(ServerProcess::close);
    if (postgres != null) {
      postgres.close();
    }
  }

  ServerProcess a() {
    return instances.get(0);
  }

  ServerProcess b() {
    return instances.get(1);
  }

  ServerProcess c() {
    return instances.get(2);
  }

  static String clientIp() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return "10." + r.nextInt(256) + "." + r.nextInt(256) + "." + (1 + r.nextInt(254));
  }

  static String email() {
    return "cluster-" + UUID.randomUUID() + "@example.com";
  }

  /** A new user's session (sign-ups are confirmed at once), from {@code instance}. */
  static JsonObject signUp(ServerProcess instance, String ip) {
    TestApp.Response r = instance.request("POST", BASE + "/signup",
      new JsonObject().put("email", email()).put("password", PASSWORD), "X-Forwarded-For", ip);
    assertEquals(200, r.status(), r.raw());
    return r.json();
  }

  static TestApp.Response getUser(ServerProcess instance, JsonObject session, String ip) {
    return instance.request("GET", BASE + "/user", null, "Authorization", "Bearer " + session.getString("access_token"),
      "X-Forwarded-For", ip);
  }

  @Test
  @Order(1)
  void signOutOnOneInstanceIsRefusedByTheOthersAtOnce() {
    String ip = clientIp();
    JsonObject session = signUp(a(), ip);
    for (ServerProcess instance : instances) {
      assertEquals(200, getUser(instance, session, ip).status());
    }

    TestApp.Response out = a().request("POST", BASE + "/logout", null,
      "Authorization", "Bearer " + session.getString("access_token"), "X-Forwarded-For", ip);

    assertEquals(204, out.status(), out.raw());
    assertLegacy(getUser(b(), session, ip), 403, "session_not_found");
    assertLegacy(getUser(c(), session, ip), 403, "session_not_found");
  }

  @Test
  @Order(2)
  void banOnOneInstanceIsRefusedByTheOthersAtOnce() {
    String ip = clientIp();
    JsonObject session = signUp(b(), ip);
    assertEquals(200, getUser(c(), session, ip).status());
    String id = session.getJsonObject("user").getString("id");

    TestApp.Response banned = a().request("PUT", BASE + "/admin/users/" + id, new JsonObject().put("ban_duration", "1h"),
      "Authorization", "Bearer " + serviceKey, "X-Forwarded-For", ip);

    assertEquals(200, banned.status(), banned.raw());
    assertLegacy(getUser(b(), session, ip), 403, "session_not_found");
    assertLegacy(getUser(c(), session, ip), 403, "session_not_found");
    TestApp.Response signIn = c().request("POST", BASE + "/token?grant_type=password",
      new JsonObject().put("email", session.getJsonObject("user").getString("email")).put("password", PASSWORD),
      "X-Forwarded-For", ip);
    assertLegacy(signIn, 400, "user_banned");
  }

  @Test
  @Order(3)
  void aClientAlternatingBetweenInstancesGetsOneRateLimitBudget() {
    String ip = clientIp();
    int granted = 0;
    TestApp.Response last = null;
    for (int i = 0; i < 8; i++) {
      ServerProcess instance = instances.get(i % 2);
      last = instance.request("POST", BASE + "/signup", new JsonObject().put("email", email()).put("password", PASSWORD),
        "X-Forwarded-For", ip);
      if (last.status() == 200) {
        granted++;
      } else {
        assertLegacy(last, 429, "over_request_rate_limit");
        assertTrue(Long.parseLong(last.header("Retry-After")) >= 1, last.headers().toString());
      }
    }
    // A burst of 4 for the client, whichever instance it calls (two budgets would have granted all 8).
    assertEquals(4, granted);
  }

  @Test
  @Order(4)
  void aKeyRotationOnOneInstanceIsUsedByAllWithinASecond() throws InterruptedException {
    String ip = clientIp();
    JsonObject session = signUp(c(), ip);
    TestApp.Response rotated = a().request("POST", BASE + "/admin/keys/rotate", null,
      "Authorization", "Bearer " + serviceKey, "X-Forwarded-For", ip);
    assertEquals(200, rotated.status(), rotated.raw());
    String kid = rotated.json().getString("kid");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);

    for (ServerProcess instance : List.of(b(), c())) {
      while (true) {
        boolean published = instance.get(BASE + "/.well-known/jwks.json").json().getJsonArray("keys").stream()
          .anyMatch(key -> kid.equals(((JsonObject) key).getString("kid")));
        TestApp.Response refreshed = instance.request("POST", BASE + "/token?grant_type=refresh_token",
          new JsonObject().put("refresh_token", session.getString("refresh_token")), "X-Forwarded-For", ip);
        assertEquals(200, refreshed.status(), refreshed.raw());
        session = refreshed.json();
        if (published && kid.equals(kid(session.getString("access_token")))) {
          break;
        }
        if (System.nanoTime() > deadline) {
          fail("instance on port " + instance.port + " does not sign with the rotated key " + kid + " after 1 s");
        }
        Thread.sleep(50);
      }
    }
    // And every instance accepts what another signed with it.
    assertEquals(200, getUser(a(), session, ip).status());
  }

  static String kid(String jwt) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(jwt.substring(0, jwt.indexOf('.')))))
      .getString("kid");
  }

  @Test
  @Order(100)
  void aKilledMemberDoesNotStopTheOthersAndRejoinsWhenItComesBack() throws Exception {
    String ip = clientIp();
    JsonObject session = signUp(a(), ip);
    AtomicBoolean running = new AtomicBoolean(true);
    ExecutorService load = Executors.newFixedThreadPool(2);
    List<Future<long[]>> workers = new ArrayList<>();
    for (ServerProcess instance : List.of(a(), b())) {
      workers.add(load.submit(() -> {
        long requests = 0;
        long slowest = 0;
        while (running.get()) {
          long start = System.nanoTime();
          TestApp.Response r = getUser(instance, session, ip);
          slowest = Math.max(slowest, System.nanoTime() - start);
          if (r.status() != 200) {
            throw new AssertionError("instance on port " + instance.port + " answered " + r.status() + " " + r.raw());
          }
          requests++;
        }
        return new long[] {requests, slowest};
      }));
    }
    Thread.sleep(500);
    c().process.destroyForcibly();
    assertTrue(c().process.waitFor(10, TimeUnit.SECONDS));
    // Past Hazelcast's failure detection (5 s without heartbeat): the survivors have dropped the member by now.
    Thread.sleep(6_000);
    running.set(false);
    for (Future<long[]> worker : workers) {
      long[] result = worker.get(30, TimeUnit.SECONDS);
      assertTrue(result[0] > 10, "requests answered: " + result[0]);
      assertTrue(result[1] < TimeUnit.SECONDS.toNanos(2), "slowest answer " + result[1] / 1_000_000 + " ms");
    }
    load.shutdown();

    long fullBefore = count(a(), "Members {size:3");
    ServerProcess back = startInstance(2);
    instances.set(2, back);
    back.awaitReady(Duration.ofSeconds(90));
    awaitLog(a(), "Members {size:3", fullBefore + 1, Duration.ofSeconds(30));
    assertEquals(200, getUser(back, session, ip).status());
  }

  static long count(ServerProcess instance, String text) throws IOException {
    return instance.stdoutLines().stream().filter(line -> line.contains(text)).count();
  }

  /** Waits until the instance has logged {@code times} lines containing {@code text}. */
  static void awaitLog(ServerProcess instance, String text, long times, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (count(instance, text) >= times) {
        return;
      }
      Thread.sleep(200);
    }
    fail("no '" + text + "' logged within " + timeout + ":\n" + instance.output());
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  static Path tempDir(String prefix) throws IOException {
    return Files.createTempDirectory(prefix);
  }
}
