package io.portcullis.cluster;

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

import io.portcullis.it.CommandLine;
import io.portcullis.it.NodeHarness;
import io.portcullis.it.Processes;
import io.portcullis.it.ServerProcess;
import io.portcullis.it.TempDirs;
import io.portcullis.it.TestApp;

import static io.portcullis.it.ErrorShapes.assertLegacy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
  Process consumer;
  int consumerPort;
  Path consumerLog;

  @BeforeAll
  void startCluster() throws Exception {
    postgres = EmbeddedPostgres.builder().setDataDirectory(TempDirs.create("portcullis-cluster-pg"))
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
    // Served by the consumer process (ConsumerApp).
    common.put("PORTCULLIS_HOOKS_CUSTOM_ACCESS_TOKEN_ENABLED", "true");
    common.put("PORTCULLIS_HOOKS_BEFORE_USER_CREATED_ENABLED", "true");
    common.put("PORTCULLIS_HOOKS_TIMEOUT_MS", "1000");
    for (int i = 0; i < 3; i++) {
      instances.add(startInstance(i));
    }
    for (ServerProcess instance : instances) {
      instance.awaitReady(Duration.ofSeconds(90));
    }
    consumer = startConsumer();
    Map<String, String> env = new HashMap<>(common);
    env.put("PORTCULLIS_DATA_DIR", TempDirs.create("portcullis-cluster-cli").toString());
    env.remove("PORTCULLIS_CLUSTER_ENABLED");
    CommandLine.Run run = CommandLine.capture(env, "service-key");
    assertEquals(0, run.exit(), run.err());
    awaitConsumer();
    serviceKey = run.out().lines().map(String::trim).filter(line -> line.matches("[\\w-]+\\.[\\w-]+\\.[\\w-]+"))
      .findFirst().orElseThrow();
  }

  ServerProcess startInstance(int index) throws IOException {
    Map<String, String> env = new HashMap<>(common);
    env.put("PORTCULLIS_CLUSTER_PORT", Integer.toString(clusterPorts.get(index)));
    return ServerProcess.start(TempDirs.create("portcullis-cluster-" + index), env);
  }

  /**
   * {@link ConsumerApp} in a JVM of its own, with the client's classes alone of Portcullis's (copied as the client
   * jar holds them): a client class that reached into the service would fail there.
   */
  Process startConsumer() throws IOException {
    Path classes = Path.of("target/classes");
    Path clientOnly = TempDirs.create("portcullis-client-classes");
    try (var files = Files.walk(classes)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        String relative = classes.relativize(file).toString();
        if (relative.startsWith("io/portcullis/client/") || relative.equals("io/portcullis/bus/Addresses.class")) {
          Files.createDirectories(clientOnly.resolve(relative).getParent());
          Files.copy(file, clientOnly.resolve(relative));
        }
      }
    }
    String classPath = java.util.stream.Stream.concat(java.util.stream.Stream.of(clientOnly.toString()),
        java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
          .filter(entry -> !Path.of(entry).toAbsolutePath().equals(classes.toAbsolutePath())))
      .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    consumerPort = freePort();
    consumerLog = TempDirs.create("portcullis-consumer").resolve("consumer.log");
    Files.createFile(consumerLog);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classPath,
      ConsumerApp.class.getName(), common.get("PORTCULLIS_CLUSTER_NAME"), common.get("PORTCULLIS_CLUSTER_MEMBERS"),
      Integer.toString(consumerPort), Integer.toString(freePort()))
      .redirectErrorStream(true).redirectOutput(consumerLog.toFile()).start();
  }

  void awaitConsumer() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!Files.readString(consumerLog).contains("consumer ready")) {
      if (!consumer.isAlive() || System.nanoTime() > deadline) {
        fail("the consumer did not start:\n" + Files.readString(consumerLog));
      }
      Thread.sleep(200);
    }
  }

  /** {@code POST /call/<method>} on the consumer: a PortcullisClient call made in its JVM. */
  TestApp.Response call(String method, JsonObject body) {
    return consumerRequest("POST", "/call/" + method, body);
  }

  TestApp.Response consumerRequest(String method, String path, JsonObject body, String... headers) {
    try {
      java.net.http.HttpRequest.Builder builder = java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://127.0.0.1:" + consumerPort + path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
          : java.net.http.HttpRequest.BodyPublishers.ofString(body.encode()));
      if (body != null) {
        builder.header("Content-Type", "application/json");
      }
      for (int i = 0; i + 1 < headers.length; i += 2) {
        builder.header(headers[i], headers[i + 1]);
      }
      var response = CONSUMER_HTTP.send(builder.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      return new TestApp.Response(response.statusCode(), response.headers(), response.body());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static final java.net.http.HttpClient CONSUMER_HTTP = java.net.http.HttpClient.newBuilder()
    .version(java.net.http.HttpClient.Version.HTTP_1_1).build();

  @AfterAll
  void stopCluster() throws IOException {
    if (consumer != null) {
      consumer.destroyForcibly();
    }
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

  @Test
  @Order(5)
  void anotherJvmSignsUpSignsInRefreshesVerifiesReadsAndEndsSessionsThroughTheClient() {
    String email = email();
    TestApp.Response signedUp = call("signUp", new JsonObject().put("email", email).put("password", PASSWORD)
      .put("data", new JsonObject().put("plan", "pro")));
    assertEquals(200, signedUp.status(), signedUp.raw());
    String userId = signedUp.json().getJsonObject("user").getString("id");

    TestApp.Response signedIn = call("signIn", new JsonObject().put("email", email).put("password", PASSWORD));
    assertEquals(200, signedIn.status(), signedIn.raw());
    TestApp.Response refreshed = call("refresh", new JsonObject()
      .put("refresh_token", signedIn.json().getString("refresh_token")));
    assertEquals(200, refreshed.status(), refreshed.raw());
    String token = refreshed.json().getString("access_token");
    TestApp.Response verified = call("verify", new JsonObject().put("token", token));
    assertEquals(200, verified.status(), verified.raw());
    assertEquals(userId, verified.json().getString("user_id"));
    String sessionId = verified.json().getString("session_id");
    TestApp.Response user = call("user", new JsonObject().put("id", userId));
    assertEquals(email, user.json().getString("email"), user.raw());
    assertEquals("pro", user.json().getJsonObject("user_metadata").getString("plan"), user.raw());
    assertEquals(userId, call("userByEmail", new JsonObject().put("email", email)).json().getString("id"));
    assertTrue(call("jwks", new JsonObject()).json().getJsonArray("keys").size() >= 1);

    TestApp.Response listed = call("sessions", new JsonObject().put("user_id", userId));
    assertEquals(200, listed.status(), listed.raw());
    assertTrue(listed.json().getJsonArray("sessions").stream()
      .anyMatch(s -> sessionId.equals(((JsonObject) s).getString("id"))), listed.raw());

    TestApp.Response ended = call("endSession", new JsonObject().put("session_id", sessionId));

    assertEquals(1, ended.json().getInteger("ended"), ended.raw());
    assertConsumerError(call("verify", new JsonObject().put("token", token)), 403, "session_not_found");
    assertConsumerError(call("signIn", new JsonObject().put("email", email).put("password", "wrong-" + PASSWORD)),
      400, "invalid_credentials");
    assertConsumerError(call("user", new JsonObject().put("id", UUID.randomUUID().toString())), 404, "user_not_found");
    assertEquals(1, call("endSessions", new JsonObject().put("user_id", userId)).json().getInteger("ended"));
  }

  static void assertConsumerError(TestApp.Response r, int status, String errorCode) {
    assertEquals(status, r.status(), r.raw());
    assertEquals(status, r.json().getInteger("status"), r.raw());
    assertEquals(errorCode, r.json().getString("error_code"), r.raw());
  }

  @Test
  @Order(6)
  void theHandlerOfAnotherJvmRefusesATokenWithinASecondOfItsSignOutOnAnInstance() throws InterruptedException {
    String ip = clientIp();
    JsonObject session = signUp(a(), ip);
    String bearer = "Bearer " + session.getString("access_token");
    TestApp.Response mine = consumerRequest("GET", "/mine", null, "Authorization", bearer);
    assertEquals(200, mine.status(), mine.raw());
    assertEquals(session.getJsonObject("user").getString("id"), mine.json().getString("sub"));
    assertEquals(401, consumerRequest("GET", "/mine", null).status());
    assertEquals(401, consumerRequest("GET", "/mine", null, "Authorization", bearer + "x").status());

    TestApp.Response out = b().request("POST", BASE + "/logout?scope=local", null, "Authorization", bearer,
      "X-Forwarded-For", ip);
    assertEquals(204, out.status(), out.raw());

    assertRefusedWithinASecond(bearer);
  }

  @Test
  @Order(7)
  void theHandlerRefusesTokensOfAUserWhoseSessionsAllEnded() throws InterruptedException {
    String ip = clientIp();
    JsonObject session = signUp(c(), ip);
    String bearer = "Bearer " + session.getString("access_token");
    assertEquals(200, consumerRequest("GET", "/mine", null, "Authorization", bearer).status());
    JsonObject other = c().request("POST", BASE + "/token?grant_type=password", new JsonObject()
      .put("email", session.getJsonObject("user").getString("email")).put("password", PASSWORD),
      "X-Forwarded-For", ip).json();

    TestApp.Response ended = call("endSessions", new JsonObject().put("user_id", session.getJsonObject("user").getString("id")));
    assertEquals(2, ended.json().getInteger("ended"), ended.raw());

    assertRefusedWithinASecond(bearer);
    assertRefusedWithinASecond("Bearer " + other.getString("access_token"));
  }

  void assertRefusedWithinASecond(String bearer) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    while (consumerRequest("GET", "/mine", null, "Authorization", bearer).status() != 401) {
      if (System.nanoTime() > deadline) {
        fail("the consumer's route still accepts the token 1 s after its session ended");
      }
      Thread.sleep(20);
    }
  }

  @Test
  @Order(8)
  void hooksServedByAnotherJvmAddClaimsAndRefuseSignUps() {
    String ip = clientIp();
    JsonObject session = signUp(a(), ip);
    JsonObject claims = claims(session.getString("access_token"));
    assertEquals("gold", claims.getString("plan"), claims.encode());
    assertEquals("password", claims.getString("hooked_method"), claims.encode());
    TestApp.Response refreshed = b().request("POST", BASE + "/token?grant_type=refresh_token",
      new JsonObject().put("refresh_token", session.getString("refresh_token")), "X-Forwarded-For", ip);
    assertEquals(200, refreshed.status(), refreshed.raw());
    assertEquals("token_refresh", claims(refreshed.json().getString("access_token")).getString("hooked_method"));
    assertEquals(200, getUser(c(), refreshed.json(), ip).status(), "a hooked token is a valid token");

    String blocked = "blocked-" + email();
    TestApp.Response refused = c().request("POST", BASE + "/signup",
      new JsonObject().put("email", blocked).put("password", PASSWORD), "X-Forwarded-For", ip);
    assertEquals("Not on the guest list", assertLegacy(refused, 403, "hook_rejected").getString("msg"));
    assertConsumerError(call("userByEmail", new JsonObject().put("email", blocked)), 404, "user_not_found");

    // Fail closed: no token without its required claims, none when the hook does not answer.
    assertLegacy(a().request("POST", BASE + "/signup", new JsonObject().put("email", "strip-" + email())
      .put("password", PASSWORD), "X-Forwarded-For", ip), 500, "hook_failed");
    long start = System.nanoTime();
    assertLegacy(b().request("POST", BASE + "/signup", new JsonObject().put("email", "slow-" + email())
      .put("password", PASSWORD), "X-Forwarded-For", ip), 500, "hook_failed");
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "the hook's time-out bounds the wait");
  }

  @Test
  @Order(9)
  void supabaseJsSeesTheClaimTheOtherJvmsHookAddedInGetClaims() throws Exception {
    NodeHarness node = new NodeHarness("supabase-e2e", "supabase-js", "@supabase/supabase-js", "2.109.0", "ws");
    assumeTrue(node.present(), "node and npm are not both on PATH (" + node.describe() + ")");
    node.install();
    Processes.Outcome outcome = node.runScript("e2e.mjs", Map.of("PORTCULLIS_URL", b().url(""),
      "E2E_FLOW", "hook-claims", "E2E_CLAIM", "plan", "E2E_CLAIM_VALUE", "gold"), Duration.ofSeconds(120));
    assertEquals(0, outcome.exitCode(), outcome.output());
    assertTrue(outcome.output().contains("\"ok\": true"), outcome.output());
    assertTrue(outcome.output().contains("\"flow\": \"hook-claims\""), outcome.output());
  }

  static JsonObject claims(String jwt) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1])));
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
    // The consumer's bus calls are spread over every member serving the address, the dying one included.
    List<String> busFailures = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicLong busCalls = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong busSlowest = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicBoolean busAfterDrop = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicLong busOkAfterDrop = new java.util.concurrent.atomic.AtomicLong();
    ExecutorService busLoad = Executors.newSingleThreadExecutor();
    Future<?> busWorker = busLoad.submit(() -> {
      while (running.get()) {
        long start = System.nanoTime();
        TestApp.Response r = call("verify", new JsonObject().put("token", session.getString("access_token")));
        busSlowest.accumulateAndGet(System.nanoTime() - start, Math::max);
        busCalls.incrementAndGet();
        if (r.status() != 200) {
          if (r.status() != 503 || !"service_unavailable".equals(r.json().getString("error_code"))) {
            throw new AssertionError("bus call answered " + r.status() + " " + r.raw());
          }
          busFailures.add(r.raw());
        } else if (busAfterDrop.get()) {
          busOkAfterDrop.incrementAndGet();
        }
      }
      return null;
    });
    Thread.sleep(500);
    c().process.destroyForcibly();
    assertTrue(c().process.waitFor(10, TimeUnit.SECONDS));
    // Past Hazelcast's failure detection (5 s without heartbeat): the survivors have dropped the member by now.
    Thread.sleep(6_000);
    busAfterDrop.set(true);
    Thread.sleep(1_000);
    running.set(false);
    busWorker.get(30, TimeUnit.SECONDS);
    busLoad.shutdown();
    // Calls that went the dead member's way failed fast, within the client's 3 s timeout, never a hang.
    assertTrue(busSlowest.get() < TimeUnit.MILLISECONDS.toNanos(3_500), "slowest bus call " + busSlowest.get() / 1_000_000 + " ms");
    assertTrue(busOkAfterDrop.get() > 0, "bus calls after the member was dropped: " + busCalls + ", failures " + busFailures);
    for (Future<long[]> worker : workers) {
      long[] result = worker.get(30, TimeUnit.SECONDS);
      assertTrue(result[0] > 10, "requests answered: " + result[0]);
      assertTrue(result[1] < TimeUnit.SECONDS.toNanos(2), "slowest answer " + result[1] / 1_000_000 + " ms");
    }
    load.shutdown();

    // Three instances and the consumer.
    long fullBefore = count(a(), "Members {size:4");
    ServerProcess back = startInstance(2);
    instances.set(2, back);
    back.awaitReady(Duration.ofSeconds(90));
    awaitLog(a(), "Members {size:4", fullBefore + 1, Duration.ofSeconds(30));
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
}
