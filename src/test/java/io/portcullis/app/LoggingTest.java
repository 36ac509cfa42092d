package io.portcullis.app;

import io.portcullis.it.DbRows;
import io.portcullis.it.TestApp;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.OutputStreamAppender;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URL;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Logs: an access-log event per request with its request id (also in X-Request-Id and in
 * 5xx bodies), no query string, never a secret; the production configuration writes JSON lines.
 */
class LoggingTest {

  private static final String ACCESS = "io.portcullis.access";
  private static final String PASSWORD = "password123";
  private static final Pattern SANE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  static TestApp app;
  static Captured logs;

  @BeforeAll
  static void start() {
    logs = Captured.attach();
    app = TestApp.start();
  }

  @AfterAll
  static void stop() {
    try {
      app.close();
    } finally {
      logs.detach();
    }
  }

  // ---- access log and request ids ----

  @Test
  void eachRequestGetsOneAccessLogEventWithItsRequestIdMethodPathStatusDurationAndIp() {
    String id = "it-" + UUID.randomUUID();

    TestApp.Response response = app.get("/health", "X-Request-Id", id);

    assertEquals(200, response.status(), response.raw());
    assertEquals(id, response.header("X-Request-Id"));
    ILoggingEvent event = logs.await(accessLogOf(id));
    Map<String, Object> kv = keyValues(event);
    assertEquals(Level.INFO, event.getLevel());
    assertEquals("GET", kv.get("method"));
    assertEquals("/health", kv.get("path"));
    assertEquals(200, kv.get("status"));
    assertInstanceOf(Number.class, kv.get("duration_ms"));
    assertTrue(((Number) kv.get("duration_ms")).doubleValue() >= 0);
    assertEquals("127.0.0.1", kv.get("ip"));
    // One event, not one per handler or per route: a later request's event came, this one's did not again.
    String next = "it-" + UUID.randomUUID();
    app.get("/health", "X-Request-Id", next);
    logs.await(accessLogOf(next));
    assertEquals(1, logs.matching(accessLogOf(id)).size());
  }

  @Test
  void errorAnswersAreAccessLoggedWithTheirStatus() {
    String id = "it-" + UUID.randomUUID();

    TestApp.Response response = app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", TestApp.uniqueEmail()).put("password", "whatever-it-is"), "X-Request-Id", id);

    assertEquals(400, response.status(), response.raw());
    assertEquals("invalid_credentials", response.errorCode());
    assertEquals(id, response.header("X-Request-Id"));
    Map<String, Object> kv = keyValues(logs.await(accessLogOf(id)));
    assertEquals("POST", kv.get("method"));
    assertEquals(BASE + "/token", kv.get("path"));
    assertEquals(400, kv.get("status"));
  }

  @Test
  void aRequestWithoutAnIdGetsAFreshOneInHeaderAndLog() {
    TestApp.Response first = app.get("/health");
    TestApp.Response second = app.get("/health");

    String id = first.header("X-Request-Id");
    assertNotNull(id);
    assertTrue(SANE_ID.matcher(id).matches(), id);
    assertNotEquals(id, second.header("X-Request-Id"));
    assertEquals("/health", keyValues(logs.await(accessLogOf(id))).get("path"));
  }

  @Test
  void anInsaneRequestIdIsReplacedInHeaderAndLog() {
    for (String insane : List.of("x".repeat(65), "has space", "semi;colon", "quote\"d", "<script>", "ümlaut")) {
      TestApp.Response response = app.get("/health", "X-Request-Id", insane);

      assertEquals(200, response.status(), response.raw());
      String id = response.header("X-Request-Id");
      assertNotEquals(insane, id);
      assertTrue(SANE_ID.matcher(id).matches(), id);
      logs.await(accessLogOf(id));
      assertTrue(logs.matching(e -> everything(e).contains(insane)).isEmpty(), "the insane id is not logged: " + insane);
    }
  }

  @Test
  void theAccessLogNamesThePathWithoutItsQueryString() {
    String secret = "secret-" + UUID.randomUUID();
    String id = "it-" + UUID.randomUUID();

    TestApp.Response response = app.get(BASE + "/verify?token=" + secret + "&type=recovery&redirect_to="
      + URI.create(app.url("/")).toString(), "X-Request-Id", id);

    assertEquals(303, response.status(), response.raw());
    assertTrue(response.header("Location").contains("error_code=otp_expired"), response.header("Location"));
    Map<String, Object> kv = keyValues(logs.await(accessLogOf(id)));
    assertEquals(BASE + "/verify", kv.get("path"));
    assertEquals(303, kv.get("status"));
    assertEquals(List.of(), logs.matching(e -> everything(e).contains(secret)), "the token is logged nowhere");
  }

  @Test
  void noLogEventCarriesAPasswordOrTokenAcrossSignUpSignInRefreshAndRecovery() {
    String email = TestApp.uniqueEmail();
    String password = "pw-" + UUID.randomUUID();
    String wrongPassword = "wrong-" + UUID.randomUUID();
    List<String> secrets = new ArrayList<>(List.of(password, wrongPassword));

    JsonObject signedUp = app.signUp(email, password);
    secrets.add(signedUp.getString("access_token"));
    secrets.add(signedUp.getString("refresh_token"));
    TestApp.Response wrong = app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", wrongPassword));
    assertEquals(400, wrong.status(), wrong.raw());
    assertEquals("invalid_credentials", wrong.errorCode());
    JsonObject signedIn = app.signIn(email, password);
    secrets.add(signedIn.getString("access_token"));
    secrets.add(signedIn.getString("refresh_token"));
    TestApp.Response form = app.postForm(BASE + "/token", "grant_type=password&username="
      + email.replace("@", "%40") + "&password=" + password);
    assertEquals(200, form.status(), form.raw());
    secrets.add(form.json().getString("access_token"));
    secrets.add(form.json().getString("refresh_token"));
    TestApp.Response refreshed = app.refresh(signedIn.getString("refresh_token"));
    assertEquals(200, refreshed.status(), refreshed.raw());
    secrets.add(refreshed.json().getString("access_token"));
    secrets.add(refreshed.json().getString("refresh_token"));
    TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(refreshed.json().getString("access_token")));
    assertEquals(200, me.status(), me.raw());
    String newPassword = "new-pw-" + UUID.randomUUID();
    secrets.add(newPassword);
    TestApp.Response changed = app.putJson(BASE + "/user", new JsonObject().put("password", newPassword),
      TestApp.bearer(refreshed.json().getString("access_token")));
    assertEquals(200, changed.status(), changed.raw());

    // Recovery: without SMTP the mail, link token and code included, is written to the log on purpose (the
    // zero-install default); the session the link then gives must not be.
    TestApp.Response recover = app.postJson(BASE + "/recover", new JsonObject().put("email", email));
    assertEquals(200, recover.status(), recover.raw());
    ILoggingEvent mail = logs.await(e -> e.getFormattedMessage().startsWith("Mail (no SMTP configured) to " + email));
    Matcher link = Pattern.compile("/auth/v1/verify\\?token=([^&\\s]+)&type=recovery").matcher(mail.getFormattedMessage());
    assertTrue(link.find(), mail.getFormattedMessage());
    String linkToken = link.group(1);
    String verifyId = "it-" + UUID.randomUUID();
    TestApp.Response verified = app.get(BASE + "/verify?token=" + linkToken + "&type=recovery", "X-Request-Id", verifyId);
    assertEquals(303, verified.status(), verified.raw());
    Map<String, String> fragment = fragment(verified.header("Location"));
    assertNotNull(fragment.get("access_token"), verified.header("Location"));
    secrets.add(fragment.get("access_token"));
    secrets.add(fragment.get("refresh_token"));
    String lastId = "it-" + UUID.randomUUID();
    app.get("/health", "X-Request-Id", lastId);
    logs.await(accessLogOf(verifyId));
    logs.await(accessLogOf(lastId));

    for (String secret : secrets) {
      assertNotNull(secret);
      assertEquals(List.of(), logs.matching(e -> everything(e).contains(secret)).stream().map(LoggingTest::everything)
        .toList(), "a secret in the log");
    }
    assertEquals(List.of(mail), logs.matching(e -> everything(e).contains(linkToken)),
      "the link token only in the no-SMTP mail");
  }

  // ---- request id in 5xx bodies ----

  @Test
  void serverErrorBodiesCarryTheRequestIdOfTheirHeader() throws Exception {
    // One hashing slot and slow hashes: concurrent sign-ups beyond it get 503 at once.
    Map<String, String> settings = Map.of(
      "PORTCULLIS_PASSWORD_HASH_WORKERS", "1",
      "PORTCULLIS_PASSWORD_HASH_QUEUE", "0",
      "PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB", "65536",
      "PORTCULLIS_PASSWORD_ARGON2_ITERATIONS", "4");
    try (TestApp fragile = TestApp.start(settings)) {
      String email = TestApp.uniqueEmail();
      fragile.signUp(email, PASSWORD);
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      List<CompletableFuture<HttpResponse<String>>> signups = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        signups.add(client.sendAsync(HttpRequest.newBuilder(URI.create(fragile.url(BASE + "/signup")))
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json")
            .header("X-Request-Id", "it-busy-" + i)
            .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("email", TestApp.uniqueEmail())
              .put("password", PASSWORD).encode()))
            .build(), HttpResponse.BodyHandlers.ofString()));
      }
      int busy = 0;
      for (int i = 0; i < signups.size(); i++) {
        HttpResponse<String> r = signups.get(i).get(90, java.util.concurrent.TimeUnit.SECONDS);
        if (r.statusCode() == 200) {
          continue;
        }
        busy++;
        JsonObject body = new JsonObject(r.body());
        assertEquals(503, r.statusCode(), r.body());
        assertEquals("service_unavailable", body.getString("error_code"), r.body());
        assertEquals("it-busy-" + i, r.headers().firstValue("X-Request-Id").orElse(null));
        assertEquals("it-busy-" + i, body.getString("request_id"), "503 body: " + r.body());
      }
      assertTrue(busy > 0, "some of 6 concurrent sign-ups found the one hashing slot taken");

      // The schema is not what the service expects: a sign-in now fails unexpectedly (500). (A database that is
      // unreachable is not unexpected: DatabaseOutageTest shows its 503.)
      DbRows.update(fragile, "ALTER TABLE users RENAME TO users_elsewhere");
      String id = "it-" + UUID.randomUUID();
      TestApp.Response down = fragile.postJson(BASE + "/token?grant_type=password",
        new JsonObject().put("email", email).put("password", PASSWORD), "X-Request-Id", id);

      assertEquals(500, down.status(), down.raw());
      assertEquals("unexpected_failure", down.errorCode());
      assertEquals(id, down.header("X-Request-Id"));
      assertEquals(id, down.json().getString("request_id"));
      assertFalse(logs.matching(e -> e.getLevel() == Level.ERROR && everything(e).contains(id)).isEmpty(),
        "the failure is logged with the request id");
    }
  }

  // ---- the production configuration ----

  @Test
  void theProductionConfigurationWritesOneJsonObjectPerLineWithTheAccessLogKeyValues() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LoggerContext context = production(Map.of(), out);
    try {
      context.getLogger(ACCESS).atInfo()
        .addKeyValue("request_id", "abc-123")
        .addKeyValue("method", "GET")
        .addKeyValue("path", "/auth/v1/user")
        .addKeyValue("status", 200)
        .addKeyValue("duration_ms", 1.5)
        .addKeyValue("ip", "127.0.0.1")
        .log("request");
      context.getLogger("io.portcullis.app.Server").error("Request failed: request_id={}", "abc-123",
        new IllegalStateException("boom\nsecond line"));
      context.getLogger("io.portcullis.app.Server").debug("not at the default level");

      String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
      assertEquals(2, lines.length, out.toString(StandardCharsets.UTF_8));
      JsonObject access = new JsonObject(lines[0]);
      assertEquals(ACCESS, access.getString("loggerName"));
      assertEquals("INFO", access.getString("level"));
      assertEquals("request", access.getString("formattedMessage"));
      assertNotNull(access.getValue("timestamp"));
      Map<String, String> kv = kvpList(access);
      assertEquals("abc-123", kv.get("request_id"));
      assertEquals("GET", kv.get("method"));
      assertEquals("/auth/v1/user", kv.get("path"));
      assertEquals("200", kv.get("status"));
      assertEquals("1.5", kv.get("duration_ms"));
      assertEquals("127.0.0.1", kv.get("ip"));
      JsonObject error = new JsonObject(lines[1]);
      assertEquals("ERROR", error.getString("level"));
      assertEquals("Request failed: request_id=abc-123", error.getString("formattedMessage"));
      assertNotNull(error.getJsonObject("throwable"), "the exception inside the same JSON line");
    } finally {
      context.stop();
    }
  }

  @Test
  void theAccessLogLevelSettingSilencesTheAccessLogAndTextFormatIsText() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LoggerContext context = production(Map.of("PORTCULLIS_ACCESS_LOG_LEVEL", "WARN", "PORTCULLIS_LOG_FORMAT", "TEXT"), out);
    try {
      context.getLogger(ACCESS).atInfo().addKeyValue("request_id", "abc-123").log("request");
      context.getLogger("io.portcullis.app.Server").info("started");

      String text = out.toString(StandardCharsets.UTF_8);
      assertFalse(text.contains("abc-123"), text);
      assertTrue(text.contains("INFO") && text.contains("started") && !text.trim().startsWith("{"), text);
    } finally {
      context.stop();
    }
  }

  @Test
  void accessLinesAreWrittenInBatchesYetNeverAfterALaterLineNorMuchLater() throws Exception {
    PrintStream stdout = System.out;
    String run = "batched-" + UUID.randomUUID();
    CountingStdout out = new CountingStdout(run);
    System.setOut(out);
    LoggerContext context = production(Map.of());
    try {
      for (int i = 0; i < 100; i++) {
        context.getLogger(ACCESS).atInfo().addKeyValue("request_id", run + "-" + i).log("request");
      }
      context.getLogger("io.portcullis.app.Server").warn("after {}", run);

      // The other line wrote the access lines before it, in order, in a few writes rather than one per line.
      String text = out.text();
      assertTrue(text.indexOf(run + "-99") > text.indexOf(run + "-0") && text.indexOf("after " + run) > text.indexOf(run + "-99"),
        text);
      assertTrue(out.writes() <= 10, out.writes() + " writes for 101 lines");

      // An access line alone is written within a fraction of a second.
      String alone = "alone-" + UUID.randomUUID();
      context.getLogger(ACCESS).atInfo().addKeyValue("request_id", alone).log("request");
      long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
      while (!out.text().contains(alone) && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(out.text().contains(alone), "the access line was written without another line after it");
    } finally {
      context.stop();
      System.setOut(stdout);
    }
  }

  // ---- helpers ----

  private static Predicate<ILoggingEvent> accessLogOf(String requestId) {
    return e -> ACCESS.equals(e.getLoggerName()) && requestId.equals(keyValues(e).get("request_id"));
  }

  private static Map<String, Object> keyValues(ILoggingEvent event) {
    Map<String, Object> kv = new HashMap<>();
    if (event.getKeyValuePairs() != null) {
      for (KeyValuePair pair : event.getKeyValuePairs()) {
        kv.put(pair.key, pair.value);
      }
    }
    return kv;
  }

  /** Every text an appender could write for an event. */
  private static String everything(ILoggingEvent event) {
    StringBuilder text = new StringBuilder(event.getLoggerName()).append(' ').append(event.getFormattedMessage())
      .append(' ').append(event.getMessage()).append(' ').append(event.getMDCPropertyMap());
    if (event.getArgumentArray() != null) {
      for (Object argument : event.getArgumentArray()) {
        text.append(' ').append(argument);
      }
    }
    keyValues(event).forEach((k, v) -> text.append(' ').append(k).append('=').append(v));
    for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
      text.append(' ').append(t.getClassName()).append(": ").append(t.getMessage());
    }
    return text.toString();
  }

  /** The key-values of a JSON line: logback writes them as a list of one-entry objects. */
  private static Map<String, String> kvpList(JsonObject line) {
    Map<String, String> kv = new HashMap<>();
    Object list = line.getValue("kvpList");
    if (list instanceof JsonArray array) {
      for (Object entry : array) {
        ((JsonObject) entry).forEach(e -> kv.put(e.getKey(), String.valueOf(e.getValue())));
      }
    } else if (list instanceof JsonObject object) {
      object.forEach(e -> kv.put(e.getKey(), String.valueOf(e.getValue())));
    }
    return kv;
  }

  private static Map<String, String> fragment(String location) {
    Map<String, String> values = new HashMap<>();
    String fragment = location.substring(location.indexOf('#') + 1);
    for (String pair : fragment.split("&")) {
      int eq = pair.indexOf('=');
      values.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return values;
  }

  /**
   * The production configuration (LogSetup, which logback finds as a service) applied to a context of its own, its
   * environment settings given as context properties (looked up before the environment), its console appender
   * writing into {@code out}.
   */
  private static LoggerContext production(Map<String, String> settings, ByteArrayOutputStream out) throws Exception {
    LoggerContext context = production(settings);
    ((OutputStreamAppender<ILoggingEvent>) rootAppender(context)).setOutputStream(out);
    return context;
  }

  /** The production configuration applied as above, its appender writing to System.out as in production. */
  private static LoggerContext production(Map<String, String> settings) throws Exception {
    URL service = LoggingTest.class.getClassLoader()
      .getResource("META-INF/services/ch.qos.logback.classic.spi.Configurator");
    assertNotNull(service, "logback's configurator service on the class path");
    assertTrue(service.getPath().endsWith("target/classes/META-INF/services/ch.qos.logback.classic.spi.Configurator"),
      service.toString());
    try (InputStream in = service.openStream()) {
      assertEquals(LogSetup.class.getName(), new String(in.readAllBytes(), StandardCharsets.UTF_8).trim());
    }
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    settings.forEach(context::putProperty);
    LogSetup.apply(context);
    return context;
  }

  private static Appender<ILoggingEvent> rootAppender(LoggerContext context) {
    List<Appender<ILoggingEvent>> appenders = new ArrayList<>();
    Iterator<Appender<ILoggingEvent>> it = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).iteratorForAppenders();
    it.forEachRemaining(appenders::add);
    assertEquals(1, appenders.size(), "one appender on the root logger");
    return appenders.get(0);
  }

  /**
   * A System.out that keeps what is written and counts the writes that carry {@code marker} (the test JVM's own
   * log writes there too meanwhile).
   */
  private static final class CountingStdout extends PrintStream {

    private final ByteArrayOutputStream bytes;
    private final String marker;
    private int writes;

    CountingStdout(String marker) {
      this(new ByteArrayOutputStream(), marker);
    }

    private CountingStdout(ByteArrayOutputStream bytes, String marker) {
      super(bytes, true, StandardCharsets.UTF_8);
      this.bytes = bytes;
      this.marker = marker;
    }

    @Override
    public synchronized void write(byte[] buffer, int offset, int length) {
      if (new String(buffer, offset, length, StandardCharsets.UTF_8).contains(marker)) {
        writes++;
      }
      super.write(buffer, offset, length);
    }

    synchronized int writes() {
      return writes;
    }

    synchronized String text() {
      return bytes.toString(StandardCharsets.UTF_8);
    }
  }

  /** Collects every event of the test JVM's logback while attached to the root logger. */
  static final class Captured extends AppenderBase<ILoggingEvent> {

    private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();

    static Captured attach() {
      LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
      Captured captured = new Captured();
      captured.setContext(context);
      captured.setName("captured-by-LoggingTest");
      captured.start();
      context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(captured);
      return captured;
    }

    void detach() {
      ((LoggerContext) getContext()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(this);
      stop();
    }

    @Override
    protected void append(ILoggingEvent event) {
      event.prepareForDeferredProcessing();
      events.add(event);
      synchronized (this) {
        notifyAll();
      }
    }

    List<ILoggingEvent> matching(Predicate<ILoggingEvent> predicate) {
      return events.stream().filter(predicate).toList();
    }

    /** The first event matching, waiting for it up to 10 s (an access-log event follows its response). */
    synchronized ILoggingEvent await(Predicate<ILoggingEvent> predicate) {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (true) {
        for (ILoggingEvent event : events) {
          if (predicate.test(event)) {
            return event;
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          fail("no such log event within 10 s");
        }
        try {
          wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
    }
  }
}
