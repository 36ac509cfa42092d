package io.portcullis.it;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.portcullis.app.Server;
import io.portcullis.config.Config;
import io.portcullis.config.ConfigLoader;
import io.portcullis.db.Database;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The whole service as tests use it: embedded PostgreSQL in a fresh data directory (or a given one, for restart
 * tests), cheap argon2id parameters, a movable clock, a free port, and the blocked-thread checker tightened so
 * that any event-loop stall over 1 s (half Vert.x's default; tighter trips on class loading when two cores are
 * shared by several JVMs) fails the test at {@link #close()}.
 */
public final class TestApp implements AutoCloseable {

  public static final String BASE = "/auth/v1";
  private static final java.util.concurrent.atomic.AtomicBoolean WARMED_UP = new java.util.concurrent.atomic.AtomicBoolean();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static {
    // Netty's first adaptive-pool allocation registers a JFR event class, which initializes Flight Recorder's
    // metadata once per JVM (200-300 ms on a busy machine). Pay it here, on the test thread, rather than on the
    // first event loop that talks to PostgreSQL, where it trips the blocked-thread guard.
    new AdaptiveByteBufAllocator().directBuffer(1024).release();
    // Speed over durability for the in-process apps (TEST-ONLY, loses acknowledged writes on a crash); the
    // separate processes of ServerProcess run the production settings.
    System.setProperty(Database.UNSAFE_TEST_ONLY_NO_FSYNC, "true");
  }

  public final Vertx vertx;
  public final Server server;
  public final Database database;
  public final Config config;
  public final MutableClock clock;
  public final Path dataDir;
  public final int port;
  /** Whether {@link #dataDir} was made for this app alone (removed on close), not handed in to be reused. */
  private boolean ownsDataDir;

  private TestApp(Vertx vertx, Server server, Database database, Config config, MutableClock clock, Path dataDir,
                  int port) {
    this.vertx = vertx;
    this.server = server;
    this.database = database;
    this.config = config;
    this.clock = clock;
    this.dataDir = dataDir;
    this.port = port;
  }

  public static TestApp start() {
    return start(Map.of());
  }

  /** Starts with settings overridden as environment variables would ({@code PORTCULLIS_JWT_EXP} → "60"). */
  public static TestApp start(Map<String, String> overrides) {
    try {
      TestApp app = start(TempDirs.create("portcullis-test"), overrides);
      // Removed when the app closes, rather than only when the JVM exits: a suite run starts hundreds.
      app.ownsDataDir = true;
      return app;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Like {@link #start()}, with the embedded PostgreSQL's production durability: for tests that stop the database
   * hard and then expect what was acknowledged (tests run one at a time, so the switch is safe to flip).
   */
  public static TestApp startDurable() {
    System.setProperty(Database.UNSAFE_TEST_ONLY_NO_FSYNC, "false");
    try {
      return start();
    } finally {
      System.setProperty(Database.UNSAFE_TEST_ONLY_NO_FSYNC, "true");
    }
  }

  public static TestApp start(Path dataDir, Map<String, String> overrides) {
    int port = freePort();
    Map<String, String> env = new HashMap<>();
    env.put("PORTCULLIS_DATA_DIR", dataDir.toString());
    // The defaults as built with these classes (not the working copy's conf/config.json, which may be mid-edit).
    env.put("PORTCULLIS_CONFIG", "target/classes/portcullis/config.json");
    env.put("PORTCULLIS_HTTP_PORT", Integer.toString(port));
    env.put("PORTCULLIS_HTTP_HOST", "127.0.0.1");
    env.put("PORTCULLIS_EXTERNAL_URL", "http://127.0.0.1:" + port);
    env.put("PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB", "64");
    env.put("PORTCULLIS_PASSWORD_ARGON2_ITERATIONS", "1");
    env.put("PORTCULLIS_HTTP_INSTANCES", "2");
    // Abuse limits would trip over the many requests tests send from one address to a few accounts; the tests of
    // those limits switch them back on.
    env.put("PORTCULLIS_RATE_LIMITS", "off");
    env.put("PORTCULLIS_LOCKOUT_ENABLED", "false");
    // Tests use short memorable passwords; the policy tests switch the common-password check back on.
    env.put("PORTCULLIS_PASSWORD_REJECT_COMMON", "false");
    // Tests change rows behind the service's back (bans, deletions by JDBC); SessionCacheTest turns the cache on.
    env.put("PORTCULLIS_SESSIONS_CACHE_TTL_MS", "0");
    env.put("PORTCULLIS_SHUTDOWN_UNREADY_DELAY_MS", "0");
    env.putAll(overrides);
    Config config = ConfigLoader.load(env);
    Database database = Server.prepareDatabase(config);
    VertxOptions options = Server.vertxOptions(config)
      .setEventLoopPoolSize(2)
      .setBlockedThreadCheckInterval(100)
      .setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS)
      .setMaxEventLoopExecuteTime(1000)
      .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS);
    Vertx vertx = Vertx.vertx(options);
    MutableClock clock = new MutableClock();
    try {
      Server server = Server.start(config, database, vertx, options, clock)
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      if (!WARMED_UP.getAndSet(true)) {
        // The first start in a JVM loads Netty, the pg client and JFR classes on the event loop; on two busy cores
        // that can stall it once. That is JVM warm-up, not Portcullis: forgive it, and only it.
        BlockedThreadGuard.drain().forEach(w -> System.err.println("Ignored during JVM warm-up: " + w));
      }
      return new TestApp(vertx, server, database, config, clock, dataDir, port);
    } catch (Exception e) {
      vertx.close();
      database.close();
      throw new IllegalStateException("Portcullis did not start", e);
    }
  }

  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops the service and fails if any event loop was blocked while it ran. */
  @Override
  public void close() {
    try {
      server.stop(Duration.ofSeconds(30));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      database.close();
      if (ownsDataDir) {
        deleteQuietly(dataDir);
      }
    }
    List<String> blocked = BlockedThreadGuard.drain();
    assertEquals(List.of(), blocked, "Vert.x reported blocked threads");
  }

  /**
   * Removes a data directory this app made for itself (an embedded PostgreSQL of some 40 MB): a suite run starts
   * hundreds, and left behind they filled the shared /tmp.
   */
  private static void deleteQuietly(Path dir) {
    try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      System.err.println("Test data directory " + dir + " not removed: " + e);
    }
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  /** A random alphanumeric secret, as an operator would set one. */
  public static String randomSecret(int length) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    java.security.SecureRandom random = new java.security.SecureRandom();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < length; i++) {
      out.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return out.toString();
  }

  public static String uniqueEmail() {
    return "user-" + UUID.randomUUID() + "@example.com";
  }

  // ---- HTTP helpers ----

  /** A response: status, headers and the body parsed as JSON (null when empty). */
  public record Response(int status, java.net.http.HttpHeaders headers, String raw) {
    public JsonObject json() {
      return raw == null || raw.isEmpty() ? null : new JsonObject(raw);
    }

    public String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    /** The error code in either error shape. */
    public String errorCode() {
      JsonObject body = json();
      if (body == null) {
        return null;
      }
      return body.getValue("code") instanceof String s ? s : body.getString("error_code");
    }
  }

  public Response request(String method, String path, String contentType, String body, String... headers) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(30));
    if (contentType != null) {
      builder.header("Content-Type", contentType);
    }
    for (int i = 0; i < headers.length; i += 2) {
      builder.header(headers[i], headers[i + 1]);
    }
    builder.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    try {
      HttpResponse<String> response = HTTP.send(builder.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(response.statusCode(), response.headers(), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public Response get(String path, String... headers) {
    return request("GET", path, null, null, headers);
  }

  public Response postJson(String path, JsonObject body, String... headers) {
    return request("POST", path, "application/json", body == null ? null : body.encode(), headers);
  }

  public Response putJson(String path, JsonObject body, String... headers) {
    return request("PUT", path, "application/json", body.encode(), headers);
  }

  public Response postForm(String path, String form, String... headers) {
    return request("POST", path, "application/x-www-form-urlencoded", form, headers);
  }

  public static String[] bearer(String token) {
    return new String[] {"Authorization", "Bearer " + token};
  }

  // ---- flows ----

  /** Signs a fresh user up (autoconfirm) and answers the session. */
  public JsonObject signUp(String email, String password) {
    Response r = postJson(BASE + "/signup", new JsonObject().put("email", email).put("password", password));
    assertEquals(200, r.status(), r.raw());
    return r.json();
  }

  public JsonObject signIn(String email, String password) {
    Response r = postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", password));
    assertEquals(200, r.status(), r.raw());
    return r.json();
  }

  public Response refresh(String refreshToken) {
    return postJson(BASE + "/token?grant_type=refresh_token", new JsonObject().put("refresh_token", refreshToken));
  }
}
