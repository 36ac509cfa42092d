package io.portcullis.http;

import io.portcullis.it.CommandLine;
import io.portcullis.it.DbRows;
import io.portcullis.it.ErrorShapes;
import io.portcullis.it.RawHttp;
import io.portcullis.it.TestApp;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.lifecycle.BeforeProperty;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile input against every route of {@code HttpVerticle}: generated malformed bodies, fields of the
 * wrong type, odd encodings, query strings, Authorization headers, methods, paths and headers, several thousand
 * requests per run (about 5,000) against one app, sent byte for byte over a socket ({@link RawHttp}).
 *
 * <p>Every answer must be: not 5xx and within the time limit; JSON with {@code Content-Type: application/json}
 * (but a CORS preflight's 204 and a HEAD answer have none); an error (4xx) in the contract's shape, legacy
 * {@code {code:<status>, error_code, msg}} or, when the request carried an {@code X-Supabase-Api-Version} of
 * {@code 2024-01-01} or later, {@code {code:"<error_code>", message}} with the header echoed. After every try no
 * row may have been written (users, sessions, refresh_tokens, one_time_tokens, mail_outbox, audit_log,
 * email_send_log, login_failures, user_roles, signing_keys counted over JDBC) unless a request of the try
 * legitimately succeeded on a route that writes; after every property {@code /health} and {@code /ready} are 200.
 *
 * <p>Where a success (2xx, or 3xx) is legitimate, decided per route (see {@link #ROUTES}):
 * <ul>
 *   <li>signup, recover, otp, magiclink, resend: 200 when the generated body happens to be valid (a random but
 *     valid address gets {@code {}}; a valid signup a session) — these may write rows;</li>
 *   <li>GET verify: always 303 to the site URL with the error in the fragment; writes nothing;</li>
 *   <li>revoke: 200 {} for any token (random tokens match no session: nothing written);</li>
 *   <li>settings, health, jwks, openid-configuration, /health, /ready: 200 whatever the input;</li>
 *   <li>user GET, userinfo: 200 with the valid user token; PUT user: 200 with it (writes);</li>
 *   <li>admin list/audit/get/unlock, introspect: 200 with the service key (no writes); admin create, update,
 *     delete: 200 with the service key and a valid body (writes).</li>
 * </ul>
 * Never legitimate: any token grant (random credentials and refresh tokens), POST verify (random codes and
 * hashes), logout (every generated request carries an invalid {@code scope} first, so the fuzzer's own session
 * survives), key rotation (the service key is never sent there: it always succeeds and adds a key), a wrong
 * method, a token altered in any way. The property {@link #wrongTypedFieldsAreRefused} is stricter: a checked
 * field of the wrong type must be 400 {@code validation_failed}, whatever else the body holds. A request refused
 * by HTTP decoding itself (request line or headers too long, a NUL in a header) is answered before any header is
 * read: legacy shape, no echo.
 *
 * <p>A fuzzer should show everything it finds in one run: each try records its violations and goes on, and the
 * property fails after its last try with one example (request and answer) of each distinct kind, rather than
 * with the first one shrunk. {@code target/hostile-input-summary.txt} counts requests per route, status and
 * error code.
 */
class HostileInputTest {

  private static final int TIMEOUT_MS = 20_000;
  private static final int BODY_LIMIT = 16 * 1024;
  private static final String SITE_URL = "http://localhost:3000";
  private static final Pattern VERSION = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");

  // Markers replaced when a request is sent (the tokens only exist once the app runs).
  private static final String USER_TOKEN = "{user-token}";
  private static final String SERVICE_KEY = "{service-key}";
  private static final String VICTIM = "{victim}";
  private static final String[] SEGMENTS = {"{user-header}", "{user-payload}", "{user-sig}", "{key-header}",
    "{key-payload}", "{key-sig}"};

  private static TestApp app;
  private static String userToken;
  private static String serviceKey;
  private static String victimId;
  private static Connection db;
  private static long[] baseline;
  private static final Map<String, Integer> SENT = new TreeMap<>();
  private static final Map<Integer, Integer> STATUSES = new TreeMap<>();
  private static final Map<String, Integer> CODES = new TreeMap<>();
  private static final Map<String, Integer> VIOLATIONS = new TreeMap<>();
  private static final Map<String, String> EXAMPLES = new TreeMap<>();
  private static final ArrayDeque<String> RECENT = new ArrayDeque<>();
  private static int total;
  private static int tries;

  // ---------------------------------------------------------------------------------------------------------
  // The routes of HttpVerticle and what they may legitimately answer.

  enum Access { PUBLIC, USER, ADMIN }

  enum Body { NONE, IGNORED, JSON, JSON_OPTIONAL, FORM, FORM_OR_JSON }

  enum Kind { STRING, BOOL, OBJECT }

  /** A body field; {@code checked}: a value of another type must be refused (400 validation_failed). */
  record Field(String name, Kind kind, boolean checked) {
  }

  /**
   * A route. {@code query} is always sent first in the query string; {@code passes}: a 2xx/3xx is legitimate
   * when the caller has {@code access}; {@code writes}: such a success may write rows.
   */
  record Route(String name, String method, String path, String query, Body body, Access access, boolean passes,
               boolean writes, List<Field> fields) {

    String target(String extraQuery) {
      String q = query;
      if (extraQuery != null && !extraQuery.isEmpty()) {
        q = q.isEmpty() ? extraQuery : q + "&" + extraQuery;
      }
      return q.isEmpty() ? path : path + "?" + q;
    }

    boolean hasBody() {
      return body != Body.NONE;
    }

    List<Field> checked() {
      return fields.stream().filter(Field::checked).toList();
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private static List<Field> fields(String... specs) {
    List<Field> out = new ArrayList<>();
    for (String spec : specs) {
      String[] parts = spec.split(":");
      Kind kind = switch (parts[1].charAt(0)) {
        case 's' -> Kind.STRING;
        case 'b' -> Kind.BOOL;
        default -> Kind.OBJECT;
      };
      out.add(new Field(parts[0], kind, parts[1].endsWith("!")));
    }
    return out;
  }

  private static final String USERS = BASE + "/admin/users";
  private static final List<Field> ADMIN_USER_FIELDS = fields("email:s!", "password:s!", "email_confirm:b!",
    "user_metadata:o!", "app_metadata:o!", "role:s!", "ban_duration:s!", "phone:s");

  static final List<Route> ROUTES = List.of(
    new Route("signup", "POST", BASE + "/signup", "", Body.JSON, Access.PUBLIC, true, true,
      fields("email:s!", "password:s!", "data:o!", "redirect_to:s!", "phone:s")),
    new Route("token-password", "POST", BASE + "/token", "grant_type=password", Body.JSON, Access.PUBLIC, false,
      false, fields("email:s!", "password:s!", "phone:s", "grant_type:s")),
    new Route("token-refresh", "POST", BASE + "/token", "grant_type=refresh_token", Body.JSON, Access.PUBLIC, false,
      false, fields("refresh_token:s!")),
    new Route("token-form", "POST", BASE + "/token", "", Body.FORM, Access.PUBLIC, false, false,
      fields("grant_type:s", "username:s", "password:s", "refresh_token:s", "scope:s", "client_id:s",
        "client_secret:s")),
    new Route("recover", "POST", BASE + "/recover", "", Body.JSON, Access.PUBLIC, true, true,
      fields("email:s!", "redirect_to:s!")),
    new Route("otp", "POST", BASE + "/otp", "", Body.JSON, Access.PUBLIC, true, true,
      fields("email:s!", "create_user:b!", "data:o!", "redirect_to:s!")),
    new Route("magiclink", "POST", BASE + "/magiclink", "", Body.JSON, Access.PUBLIC, true, true,
      fields("email:s!", "create_user:b!", "data:o!", "redirect_to:s!")),
    new Route("resend", "POST", BASE + "/resend", "", Body.JSON, Access.PUBLIC, true, true,
      fields("type:s!", "email:s!", "redirect_to:s!")),
    new Route("verify", "POST", BASE + "/verify", "", Body.JSON, Access.PUBLIC, false, false,
      fields("type:s!", "email:s!", "token:s!", "token_hash:s!", "redirect_to:s")),
    new Route("verify-link", "GET", BASE + "/verify", "", Body.NONE, Access.PUBLIC, true, false, List.of()),
    new Route("user-get", "GET", BASE + "/user", "", Body.NONE, Access.USER, true, false, List.of()),
    new Route("user-put", "PUT", BASE + "/user", "", Body.JSON, Access.USER, true, true,
      fields("email:s!", "password:s!", "data:o!", "phone:s", "current_password:s", "nonce:s")),
    new Route("logout", "POST", BASE + "/logout", "scope=none-of-those", Body.IGNORED, Access.USER, false, false,
      List.of()),
    new Route("userinfo-get", "GET", BASE + "/userinfo", "", Body.NONE, Access.USER, true, false, List.of()),
    new Route("userinfo-post", "POST", BASE + "/userinfo", "", Body.IGNORED, Access.USER, true, false, List.of()),
    new Route("admin-list", "GET", USERS, "", Body.NONE, Access.ADMIN, true, false, List.of()),
    new Route("admin-create", "POST", USERS, "", Body.JSON, Access.ADMIN, true, true, ADMIN_USER_FIELDS),
    new Route("admin-get", "GET", USERS + "/" + VICTIM, "", Body.NONE, Access.ADMIN, true, false, List.of()),
    new Route("admin-update", "PUT", USERS + "/" + VICTIM, "", Body.JSON, Access.ADMIN, true, true,
      ADMIN_USER_FIELDS),
    new Route("admin-delete", "DELETE", USERS + "/" + VICTIM, "", Body.JSON_OPTIONAL, Access.ADMIN, true, true,
      fields("should_soft_delete:b!")),
    new Route("admin-unlock", "POST", USERS + "/" + VICTIM + "/unlock", "", Body.NONE, Access.ADMIN, true, false,
      List.of()),
    new Route("admin-audit", "GET", BASE + "/admin/audit", "", Body.NONE, Access.ADMIN, true, false, List.of()),
    new Route("admin-rotate", "POST", BASE + "/admin/keys/rotate", "", Body.NONE, Access.ADMIN, false, false,
      List.of()),
    new Route("introspect", "POST", BASE + "/oauth/introspect", "", Body.FORM_OR_JSON, Access.ADMIN, true, false,
      fields("token:s!", "token_type_hint:s")),
    new Route("revoke", "POST", BASE + "/oauth/revoke", "", Body.FORM_OR_JSON, Access.PUBLIC, true, false,
      fields("token:s!", "token_type_hint:s")),
    new Route("settings", "GET", BASE + "/settings", "", Body.NONE, Access.PUBLIC, true, false, List.of()),
    new Route("health-v1", "GET", BASE + "/health", "", Body.NONE, Access.PUBLIC, true, false, List.of()),
    new Route("jwks", "GET", BASE + "/.well-known/jwks.json", "", Body.NONE, Access.PUBLIC, true, false, List.of()),
    new Route("openid", "GET", BASE + "/.well-known/openid-configuration", "", Body.NONE, Access.PUBLIC, true,
      false, List.of()),
    new Route("health", "GET", "/health", "", Body.NONE, Access.PUBLIC, true, false, List.of()),
    new Route("ready", "GET", "/ready", "", Body.NONE, Access.PUBLIC, true, false, List.of()));

  private static final List<Route> WITH_FIELDS = ROUTES.stream().filter(r -> !r.checked().isEmpty()).toList();
  private static final List<Route> WITH_BODY = ROUTES.stream().filter(Route::hasBody).toList();

  // ---------------------------------------------------------------------------------------------------------
  // One app for the class.

  @BeforeContainer
  static void startApp() throws SQLException {
    app = TestApp.start();
    JsonObject session = app.signUp(TestApp.uniqueEmail(), "fuzzer-password-1");
    userToken = session.getString("access_token");
    serviceKey = CommandLine.serviceKey(app);
    db = DbRows.connect(app);
  }

  @AfterContainer
  static void stopApp() throws SQLException, IOException {
    String summary = summary();
    System.out.println(summary);
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target", "hostile-input-summary.txt"), summary);
    if (db != null) {
      db.close();
    }
    if (app != null) {
      app.close();
    }
  }

  /** A fresh user for the admin routes to read, update, ban, unlock and delete. */
  @BeforeProperty
  void freshVictim() {
    victimId = app.signUp(TestApp.uniqueEmail(), "victim-password-1").getJsonObject("user").getString("id");
    baseline = counts();
  }

  /** The service still answers and is ready; then every violation the property's tries recorded fails it. */
  @AfterProperty
  void serviceStillHealthy() {
    for (String path : new String[] {"/health", "/ready"}) {
      RawHttp.Reply reply = RawHttp.send(app.port, new RawHttp.Request("GET", path), TIMEOUT_MS);
      assertEquals(200, reply.status(), path + " after the property: " + reply.describe());
    }
    RawHttp.Reply me = RawHttp.send(app.port,
      new RawHttp.Request("GET", BASE + "/user").header("Authorization", "Bearer " + userToken), TIMEOUT_MS);
    assertEquals(200, me.status(), "the fuzzer's own session survives: " + me.describe());
    if (!VIOLATIONS.isEmpty()) {
      StringBuilder report = new StringBuilder(VIOLATIONS.size() + " kinds of violation:");
      VIOLATIONS.forEach((key, n) -> report.append("\n\n[").append(n).append("x] ").append(EXAMPLES.get(key)));
      VIOLATIONS.clear();
      EXAMPLES.clear();
      fail(report.toString());
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Properties.

  /** Every checked field of every route, given a value of another JSON type, the rest valid: 400 validation_failed. */
  @Property(tries = 500, edgeCases = EdgeCasesMode.NONE)
  void wrongTypedFieldsAreRefused(@ForAll("wrongTyped") Case c) {
    RawHttp.Reply reply = exchange(c);
    if (reply != null && c.request().body.length > BODY_LIMIT) {
      expect(reply.status() == 413 && "request_too_large".equals(safeErrorCode(reply)),
        "not 413 request_too_large", c, reply);
    } else if (reply != null) {
      expect(reply.status() == 400 && "validation_failed".equals(safeErrorCode(reply)),
        "not 400 validation_failed", c, reply);
    }
    checkRows(c, reply);
  }

  /** Hostile strings, numbers, arrays and objects in any field, beside valid ones, duplicate keys included. */
  @Property(tries = 700, edgeCases = EdgeCasesMode.NONE)
  void hostileFieldValues(@ForAll("hostileFields") Case c) {
    checkRows(c, exchange(c));
  }

  /** Documents that are not the expected object: bytes, truncated, invalid UTF-8, deep nesting, huge numbers. */
  @Property(tries = 700, edgeCases = EdgeCasesMode.NONE)
  void malformedDocuments(@ForAll("malformedDocuments") Case c) {
    checkRows(c, exchange(c));
  }

  /** Form bodies with odd encodings and charsets, to the form routes and to the JSON ones. */
  @Property(tries = 500, edgeCases = EdgeCasesMode.NONE)
  void formBodies(@ForAll("formBodies") Case c) {
    checkRows(c, exchange(c));
  }

  /** Random query strings on every route, beside a valid body. */
  @Property(tries = 600, edgeCases = EdgeCasesMode.NONE)
  void queryStrings(@ForAll("queryStrings") Case c) {
    checkRows(c, exchange(c));
  }

  /** Garbage, random segments, JWTs with random headers and payloads, tampered and valid tokens. */
  @Property(tries = 600, edgeCases = EdgeCasesMode.NONE)
  void authorizationHeaders(@ForAll("authorizations") Case c) {
    checkRows(c, exchange(c));
  }

  /** Methods a path does not serve, standard and invented: 404/405. */
  @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
  void methodsOnKnownPaths(@ForAll("wrongMethods") Case c) {
    RawHttp.Reply reply = exchange(c);
    if (reply != null) {
      expect(reply.status() >= 400 && reply.status() < 500, "not 4xx", c, reply);
    }
    checkRows(c, reply);
  }

  /** Odd paths next to the real ones: encodings, dot segments, NUL, long segments. */
  @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
  void oddPaths(@ForAll("oddPaths") Case c) {
    checkRows(c, exchange(c));
  }

  /** Request lines HTTP/1.1 allows or refuses: absolute and asterisk forms, other versions, odd targets. */
  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
  void oddRequestLines(@ForAll("oddRequestLines") Case c) {
    checkRows(c, exchange(c));
  }

  /** CORS preflights with odd origins, methods and header lists: 204 for an allowed one, else a JSON error. */
  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
  void corsPreflights(@ForAll("preflights") Case c) {
    checkRows(c, exchange(c));
  }

  /** Hostile headers on otherwise valid requests: versions, user agents, origins, content types, framing. */
  @Property(tries = 400, edgeCases = EdgeCasesMode.NONE)
  void hostileHeaders(@ForAll("hostileHeaders") Case c) {
    checkRows(c, exchange(c));
  }

  /** Bodies over the limit, long URLs, large headers. */
  @Property(tries = 60, edgeCases = EdgeCasesMode.NONE)
  void oversizedInput(@ForAll("oversized") Case c) {
    checkRows(c, exchange(c));
  }

  // ---------------------------------------------------------------------------------------------------------
  // A generated request and the checks every answer must pass.

  /**
   * A request to a route. {@code grants}: what the Authorization header may grant (a valid user token USER, the
   * service key ADMIN, anything else PUBLIC); {@code mayPass}: a 2xx/3xx is legitimate.
   */
  record Case(Route route, RawHttp.Request request, Access grants, boolean mayPass) {

    boolean writes() {
      return route.writes();
    }

    String describe(RawHttp.Reply reply) {
      return "\nroute " + route.name() + " (grants " + grants + ", may pass " + mayPass + ")\nrequest: "
        + request.describe() + "\nreply: " + (reply == null ? "-" : reply.describe());
    }
  }

  private static Case build(Route route, RawHttp.Request request, Access grants) {
    boolean granted = route.access() == Access.PUBLIC || route.access() == grants;
    return new Case(route, request, grants, route.passes() && granted);
  }

  private static RawHttp.Reply exchange(Case c) {
    RawHttp.Request sent = resolve(c.request());
    RawHttp.Reply reply;
    try {
      reply = RawHttp.send(app.port, sent, TIMEOUT_MS);
    } catch (RawHttp.NoReply e) {
      violation("no answer: " + e.getMessage(), c, null);
      return null;
    }
    tally(c, reply);
    checkReply(c, reply);
    return reply;
  }

  private static synchronized void tally(Case c, RawHttp.Reply reply) {
    total++;
    SENT.merge(c.route().name(), 1, Integer::sum);
    STATUSES.merge(reply.status(), 1, Integer::sum);
    String code = reply.status() >= 400 && !c.request().method.equals("HEAD") ? safeErrorCode(reply) : null;
    if (code != null) {
      CODES.merge(reply.status() + " " + code, 1, Integer::sum);
    }
    RECENT.addLast(c.route().name() + " -> " + reply.status() + ": "
      + RawHttp.abbreviate(c.request().describe().replace("\n", " | "), 300));
    if (RECENT.size() > 5) {
      RECENT.removeFirst();
    }
  }

  private static void checkReply(Case c, RawHttp.Reply reply) {
    int status = reply.status();
    if (status >= 500) {
      violation(status + " answer", c, reply);
    }
    if (status < 400) {
      if (!c.mayPass()) {
        violation("success where none is legitimate", c, reply);
      } else if (status == 204) {
        expect(c.route().name().equals("preflight"), "204 not from a CORS preflight", c, reply);
        expect(reply.body().length == 0, "204 with a body", c, reply);
        return;
      } else if (status == 303) {
        expect(c.route().path().startsWith(BASE + "/verify") && c.request().method.equals("GET"),
          "303 not from GET verify", c, reply);
      } else {
        expect(status == 200, "unexpected success status", c, reply);
      }
    }
    if (c.request().method.equals("HEAD")) {
      return;
    }
    String type = reply.header("Content-Type");
    if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      violation("Content-Type not application/json", c, reply);
      return;
    }
    Object body;
    try {
      body = Json.decodeValue(reply.text());
    } catch (DecodeException e) {
      violation("body not JSON", c, reply);
      return;
    }
    if (status < 400) {
      return;
    }
    if (!(body instanceof JsonObject error)) {
      violation("error body not an object", c, reply);
      return;
    }
    String version = c.request().header(ErrorShapes.API_VERSION);
    boolean legacy = Integer.valueOf(status).equals(error.getValue("code"))
      && error.getValue("error_code") instanceof String && error.getValue("msg") instanceof String;
    if (versioned(version) && reply.header(ErrorShapes.API_VERSION) != null) {
      expect(error.getValue("code") instanceof String && error.getValue("message") instanceof String
        && !error.containsKey("error_code"), "versioned error shape", c, reply);
      expect(blankTrimmed(version).equals(reply.header(ErrorShapes.API_VERSION)), "version header echoed", c, reply);
    } else if (versioned(version)) {
      // Only a request refused by HTTP decoding, before any header was read, gets the legacy shape without echo.
      expect(legacy && DECODER_REFUSALS.contains(error.getString("msg")) && (status == 400 || status == 414
        || status == 431), "versioned request answered without its version", c, reply);
    } else {
      expect(legacy, "legacy error shape", c, reply);
    }
  }

  /** The messages of FailureHandler.invalidRequest, which answers before any header is read. */
  private static final java.util.Set<String> DECODER_REFUSALS =
    java.util.Set.of("Malformed HTTP request", "Request line too long", "Request headers too large");

  private static void expect(boolean condition, String what, Case c, RawHttp.Reply reply) {
    if (!condition) {
      violation(what, c, reply);
    }
  }

  /**
   * Records a violation and goes on, so that one run shows every distinct kind (one example each, with its
   * request), rather than the first one found shrunk; the property fails after its last try.
   */
  private static synchronized void violation(String what, Case c, RawHttp.Reply reply) {
    String key = what + " | " + c.route().name() + " | " + (reply == null ? "-" : reply.status());
    if (VIOLATIONS.merge(key, 1, Integer::sum) == 1) {
      EXAMPLES.put(key, what + c.describe(reply));
    }
  }

  /** As FailureHandler decides it (header values reach it without surrounding blanks). */
  private static boolean versioned(String version) {
    if (version == null) {
      return false;
    }
    String v = blankTrimmed(version);
    return VERSION.matcher(v).matches() && v.compareTo("2024-01-01") >= 0;
  }

  /** Without the spaces and tabs around it, as HTTP header values arrive. */
  private static String blankTrimmed(String value) {
    int start = 0;
    int end = value.length();
    while (start < end && (value.charAt(start) == ' ' || value.charAt(start) == '\t')) {
      start++;
    }
    while (end > start && (value.charAt(end - 1) == ' ' || value.charAt(end - 1) == '\t')) {
      end--;
    }
    return value.substring(start, end);
  }

  private static String errorCode(RawHttp.Reply reply) {
    JsonObject body = new JsonObject(reply.text());
    return body.getValue("code") instanceof String s ? s : body.getString("error_code");
  }

  private static String safeErrorCode(RawHttp.Reply reply) {
    try {
      return errorCode(reply);
    } catch (RuntimeException e) {
      return "(not JSON)";
    }
  }

  /** No row written unless this request legitimately succeeded on a route that writes. */
  private static void checkRows(Case c, RawHttp.Reply reply) {
    tries++;
    long[] now = counts();
    if (reply != null && reply.status() < 400 && c.writes()) {
      baseline = now;
      return;
    }
    if (!Arrays.equals(baseline, now)) {
      long[] before = baseline;
      String recent = String.join("\n  ", RECENT);
      baseline = now;
      violation("rows written by a request that " + (reply != null && reply.status() < 400 ? "writes nothing"
        : "was refused") + ": " + TABLES + " " + Arrays.toString(before) + " -> " + Arrays.toString(now)
        + "\nlast requests:\n  " + recent, c, reply);
    }
  }

  private static final List<String> TABLES = List.of("users", "sessions", "refresh_tokens", "one_time_tokens",
    "mail_outbox", "audit_log", "email_send_log", "login_failures", "user_roles", "signing_keys");
  private static final String COUNTS = "SELECT " + TABLES.stream().map(t -> "(SELECT count(*) FROM " + t + ")")
    .collect(Collectors.joining(", "));

  private static long[] counts() {
    try (Statement statement = db.createStatement(); ResultSet rows = statement.executeQuery(COUNTS)) {
      rows.next();
      long[] out = new long[TABLES.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = rows.getLong(i + 1);
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The markers replaced by the app's real tokens and the current victim. */
  private static RawHttp.Request resolve(RawHttp.Request template) {
    RawHttp.Request out = new RawHttp.Request(template.method, substitute(template.target));
    for (String[] h : template.headers) {
      out.header(h[0], substitute(h[1]));
    }
    out.body = template.body == null ? null
      : substitute(new String(template.body, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
    out.chunked = template.chunked;
    out.host = template.host;
    return out;
  }

  private static String substitute(String s) {
    if (s.indexOf('{') < 0) {
      return s;
    }
    String[] user = userToken.split("\\.");
    String[] key = serviceKey.split("\\.");
    String[] values = {user[0], user[1], user[2], key[0], key[1], key[2]};
    String out = s.replace(USER_TOKEN, userToken).replace(SERVICE_KEY, serviceKey).replace(VICTIM, victimId);
    for (int i = 0; i < SEGMENTS.length; i++) {
      out = out.replace(SEGMENTS[i], values[i]);
    }
    return out;
  }

  private static String summary() {
    StringBuilder s = new StringBuilder("HostileInputTest: ").append(total).append(" requests in ").append(tries)
      .append(" checked tries\nper route:\n");
    SENT.forEach((route, n) -> s.append(String.format("  %-16s %5d%n", route, n)));
    s.append("per status:\n");
    STATUSES.forEach((status, n) -> s.append(String.format("  %-16s %5d%n", status, n)));
    s.append("per error code:\n");
    CODES.forEach((code, n) -> s.append(String.format("  %-36s %5d%n", code, n)));
    return s.toString();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Providers of whole cases.

  @Provide
  Arbitrary<Case> wrongTyped() {
    return Arbitraries.of(WITH_FIELDS).flatMap(route -> Arbitraries.of(route.checked()).flatMap(bad ->
      Combinators.combine(validObject(route, bad.name()), wrongType(bad.kind()), versions(), Arbitraries.just(VICTIM))
        .as((valid, wrong, version, id) -> {
          List<Map.Entry<String, Object>> entries = new ArrayList<>(valid.entries());
          entries.add(Map.entry(bad.name(), wrong));
          RawHttp.Request request = request(route, route.target(""), id, version)
            .header("Content-Type", "application/json")
            .body(json(new JObj(entries)));
          return build(route, withAuth(request, validAuth(route)), grantOf(route));
        })));
  }

  @Provide
  Arbitrary<Case> hostileFields() {
    return Arbitraries.of(WITH_FIELDS).flatMap(route -> Combinators.combine(hostileObject(route), auths(route),
        versions(), ids(), jsonContentTypes())
      .as((object, auth, version, id, type) -> {
        RawHttp.Request request = request(route, route.target(""), id, version);
        if (type != null) {
          request.header("Content-Type", type);
        }
        request.body(json(object));
        return build(route, withAuth(request, auth.header()), auth.grants());
      }));
  }

  @Provide
  Arbitrary<Case> malformedDocuments() {
    return Arbitraries.of(WITH_BODY).flatMap(route -> Combinators.combine(malformedBody(route), auths(route),
        versions(), ids(), jsonContentTypes(), Arbitraries.integers().between(0, 9))
      .as((body, auth, version, id, type, framing) -> {
        RawHttp.Request request = request(route, route.target(""), id, version);
        if (type != null) {
          request.header("Content-Type", type);
        }
        request.body(body);
        request.chunked = framing == 0;
        return build(route, withAuth(request, auth.header()), auth.grants());
      }));
  }

  @Provide
  Arbitrary<Case> formBodies() {
    return Arbitraries.of(WITH_BODY).flatMap(route -> Combinators.combine(formBody(route), formContentTypes(),
        auths(route), versions(), ids(), Arbitraries.of("", "grant_type=password", "grant_type=refresh_token",
          "grant_type=" + pct("password\0"), "grant_type=client_credentials"))
      .as((body, type, auth, version, id, query) -> {
        RawHttp.Request request = request(route, route.target(route.name().equals("token-form") ? query : ""), id,
          version);
        if (type != null) {
          request.header("Content-Type", type);
        }
        request.body(body);
        return build(route, withAuth(request, auth.header()), auth.grants());
      }));
  }

  @Provide
  Arbitrary<Case> queryStrings() {
    return Arbitraries.of(ROUTES).flatMap(route -> Combinators.combine(queryString(), validBodyOrNone(route),
        auths(route), versions(), ids())
      .as((query, body, auth, version, id) -> {
        RawHttp.Request request = request(route, route.target(query), id, version);
        if (body != null) {
          request.header("Content-Type", "application/json").body(body);
        }
        return build(route, withAuth(request, auth.header()), auth.grants());
      }));
  }

  @Provide
  Arbitrary<Case> authorizations() {
    Arbitrary<Route> routes = Arbitraries.frequencyOf(
      Tuple.of(3, Arbitraries.of(ROUTES.stream().filter(r -> r.access() != Access.PUBLIC).toList())),
      Tuple.of(1, Arbitraries.of(ROUTES)));
    return routes.flatMap(route -> Combinators.combine(authorizationHeader(route), validBodyOrNone(route),
        versions(), ids(), Arbitraries.integers().between(0, 4))
      .as((auth, body, version, id, extra) -> {
        RawHttp.Request request = request(route, route.target(""), id, version);
        if (body != null) {
          request.header("Content-Type", "application/json").body(body);
        }
        if (auth.header() != null) {
          request.header("Authorization", auth.header());
          if (extra == 0) {
            // A second Authorization header: the first one counts, the second must not confuse anything.
            request.header("Authorization", "Bearer " + SERVICE_KEY);
          }
        }
        return build(route, request, auth.grants());
      }));
  }

  @Provide
  Arbitrary<Case> wrongMethods() {
    Arbitrary<String> methods = Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE",
      "CONNECT", "PROPFIND", "MKCOL", "LOCK", "M-SEARCH", "QUERY", "get", "Post", "FOO", "X_CUSTOM",
      "A".repeat(200), "PRI", "SEARCH", "PURGE", "LINK");
    return Arbitraries.of(ROUTES).flatMap(route -> Combinators.combine(
        methods.filter(method -> !allowedMethods(route.path()).contains(method)), auths(route), versions(), ids(),
        validBodyOrNone(route))
      .as((method, auth, version, id, body) -> {
        RawHttp.Request request = new RawHttp.Request(method, withId(route.target(""), id));
        if (version != null) {
          request.header(ErrorShapes.API_VERSION, version);
        }
        if (body != null) {
          request.header("Content-Type", "application/json").body(body);
        }
        return new Case(route, withAuth(request, auth.header()), auth.grants(), false);
      }));
  }

  @Provide
  Arbitrary<Case> oddPaths() {
    Arbitrary<String> prefixes = Arbitraries.of("/auth/v1/", USERS + "/", BASE + "/admin/", BASE + "/.well-known/",
      "/", "/auth/", "//auth//v1//", BASE + "/user/", BASE + "/verify/", BASE + "/token/", USERS + "/" + VICTIM + "/",
      "/auth/v2/", "/AUTH/V1/", "/auth/v1/%2e%2e/", "/auth/v1/./");
    Arbitrary<String> methods = Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH");
    Arbitrary<Auth> auth = Arbitraries.oneOf(Arbitraries.just(new Auth(null, Access.PUBLIC)),
      garbageAuthorization());
    return Combinators.combine(prefixes, pathSegments(), methods, auth, versions(), Arbitraries.of("", "?", "?a=b",
        "#frag", ";jsessionid=x", "?" + pct("\0")))
      .as((prefix, segment, method, a, version, suffix) -> {
        Route route = new Route("odd-path", method, prefix + segment, "", Body.NONE, Access.PUBLIC,
          method.equals("GET"), false, List.of());
        RawHttp.Request request = new RawHttp.Request(method, prefix + segment + suffix);
        if (version != null) {
          request.header(ErrorShapes.API_VERSION, version);
        }
        return new Case(route, withAuth(request, a.header()), Access.PUBLIC, method.equals("GET"));
      });
  }

  @Provide
  Arbitrary<Case> oddRequestLines() {
    Arbitrary<String> targets = Arbitraries.of("http://127.0.0.1" + BASE + "/settings", "http://evil.example" + BASE
        + "/user", "*", "auth/v1/settings", "", "?", "#", BASE + "/settings#x", BASE + "/settings?a=b#c", "%2F",
      "/%2e%2e/%2e%2e/etc/passwd", "//", "/\\", "/.", "/..", "/auth/v1/../../../health", BASE + "/user\t",
      "http://127.0.0.1:1" + BASE + "/signup", "HTTP://127.0.0.1" + BASE + "/settings", "/\u00e9", "/\u0000");
    Arbitrary<String> versions = Arbitraries.of("HTTP/1.1", "HTTP/1.0", "HTTP/0.9", "HTTP/2.0", "HTTP/1.2", "http/1.1",
      "HTTP/1", "HTTP/11", "", "HTTP/1.1 x", "FOO/1.0", "HTTP/1.1\u0000");
    Arbitrary<String> methods = Arbitraries.of("GET", "POST", "OPTIONS", "DELETE", "PUT");
    Arbitrary<Auth> auth = Arbitraries.oneOf(Arbitraries.just(new Auth(null, Access.PUBLIC)),
      garbageAuthorization());
    return Combinators.combine(targets, versions, methods, auth, versions(), Arbitraries.of(true, false))
      .as((target, version, method, a, apiVersion, body) -> {
        Route route = new Route("request-line", method, target, "", Body.NONE, Access.PUBLIC, method.equals("GET"),
          false, List.of());
        RawHttp.Request request = new RawHttp.Request(method, target);
        request.version = version;
        if (apiVersion != null) {
          request.header(ErrorShapes.API_VERSION, apiVersion);
        }
        if (body) {
          request.header("Content-Type", "application/json").body("{}");
        }
        return new Case(route, withAuth(request, a.header()), Access.PUBLIC, method.equals("GET"));
      });
  }

  @Provide
  Arbitrary<Case> preflights() {
    Arbitrary<String> origins = Arbitraries.oneOf(Arbitraries.of(SITE_URL, SITE_URL, "http://evil.example", "null",
      SITE_URL + "/", "HTTP://LOCALHOST:3000", "http://localhost:3000.evil.example", ""), headerValues());
    Arbitrary<String> methods = Arbitraries.oneOf(Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD",
      "OPTIONS", "TRACE", "CONNECT", "get", "FOO", "", "GET, POST"), headerValues());
    Arbitrary<String> requestHeaders = Arbitraries.oneOf(Arbitraries.of("authorization", "content-type, apikey",
      "x-supabase-api-version", "x-evil", "", ",,,", "Authorization , X-Client-Info"), headerValues());
    return Combinators.combine(Arbitraries.of(ROUTES), origins, methods, requestHeaders, Arbitraries.integers()
        .between(0, 3), versions())
      .as((route, origin, method, headers, shape, version) -> {
        RawHttp.Request request = new RawHttp.Request("OPTIONS", route.target(""));
        if (shape != 1) {
          request.header("Origin", origin);
        }
        if (shape != 2) {
          request.header("Access-Control-Request-Method", method);
        }
        if (shape == 0) {
          request.header("Access-Control-Request-Headers", headers);
        }
        if (version != null) {
          request.header(ErrorShapes.API_VERSION, version);
        }
        Route preflight = new Route("preflight", "OPTIONS", route.path(), "", Body.NONE, Access.PUBLIC, true, false,
          List.of());
        return new Case(preflight, request, Access.PUBLIC, true);
      });
  }

  @Provide
  Arbitrary<Case> hostileHeaders() {
    return Arbitraries.of(ROUTES).flatMap(route -> Combinators.combine(headerSets(), validBodyOrNone(route),
        auths(route), ids(), Arbitraries.integers().between(0, 5))
      .as((headers, body, auth, id, framing) -> {
        RawHttp.Request request = new RawHttp.Request(route.method(), withId(route.target(""), id));
        boolean typed = false;
        for (String[] h : headers) {
          if (h[0].equals("-Host")) {
            request.host = false;
            continue;
          }
          if (h[0].equalsIgnoreCase("Host")) {
            request.host = false;
          }
          typed |= h[0].equalsIgnoreCase("Content-Type");
          request.header(h[0], h[1]);
        }
        if (body != null) {
          if (!typed) {
            request.header("Content-Type", "application/json");
          }
          request.body(body);
          request.chunked = framing == 0;
        }
        return build(route, withAuth(request, auth.header()), auth.grants());
      }));
  }

  @Provide
  Arbitrary<Case> oversized() {
    Arbitrary<Integer> sizes = Arbitraries.integers().between(16 * 1024 + 1, 80 * 1024);
    Arbitrary<Case> bodies = Combinators.combine(Arbitraries.of(WITH_BODY), sizes, Arbitraries.of(true, false),
        versions())
      .as((route, size, chunked, version) -> {
        RawHttp.Request request = request(route, route.target(""), VICTIM, version)
          .header("Content-Type", route.body() == Body.FORM ? "application/x-www-form-urlencoded" : "application/json")
          .body(bigBody(route, size));
        request.chunked = chunked;
        return build(route, withAuth(request, validAuth(route)), grantOf(route));
      });
    Arbitrary<Case> urls = Combinators.combine(Arbitraries.of(ROUTES), Arbitraries.integers().between(4000, 20000),
        versions())
      .as((route, size, version) -> build(route, request(route, route.target("x=" + "a".repeat(size)), VICTIM,
        version), Access.PUBLIC));
    Arbitrary<Case> headers = Combinators.combine(Arbitraries.of(ROUTES), Arbitraries.integers().between(8000, 40000),
        Arbitraries.of("Authorization", "User-Agent", "X-Fuzz", "Cookie", ErrorShapes.API_VERSION), versions())
      .as((route, size, name, version) -> {
        RawHttp.Request request = request(route, route.target(""), VICTIM, version);
        request.header(name, name.equals("Authorization") ? "Bearer " + "a".repeat(size) : "b".repeat(size));
        return build(route, request, Access.PUBLIC);
      });
    Arbitrary<Case> many = Combinators.combine(Arbitraries.of(ROUTES), Arbitraries.integers().between(50, 1200),
        versions())
      .as((route, n, version) -> {
        RawHttp.Request request = request(route, route.target(""), VICTIM, version);
        for (int i = 0; i < n; i++) {
          request.header("X-Fuzz-" + i, "v");
        }
        return build(route, withAuth(request, validAuth(route)), grantOf(route));
      });
    return Arbitraries.oneOf(bodies, urls, headers, many);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Building blocks: requests.

  private static RawHttp.Request request(Route route, String target, String id, String version) {
    RawHttp.Request request = new RawHttp.Request(route.method(), withId(target, id));
    if (version != null) {
      request.header(ErrorShapes.API_VERSION, version);
    }
    return request;
  }

  private static String withId(String target, String id) {
    return id.equals(VICTIM) ? target : target.replace(VICTIM, id);
  }

  private static RawHttp.Request withAuth(RawHttp.Request request, String authorization) {
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return request;
  }

  /** The credential a route needs to reach its validation; the service key never goes to key rotation. */
  private static String validAuth(Route route) {
    return switch (route.access()) {
      case USER -> "Bearer " + USER_TOKEN;
      case ADMIN -> route.name().equals("admin-rotate") ? null : "Bearer " + SERVICE_KEY;
      default -> null;
    };
  }

  private static Access grantOf(Route route) {
    return route.name().equals("admin-rotate") ? Access.PUBLIC : route.access();
  }

  private static Set<String> allowedMethods(String path) {
    return ROUTES.stream().filter(r -> r.path().equals(path)).map(Route::method)
      .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  /** An Authorization header and what it grants. */
  record Auth(String header, Access grants) {
  }

  /** Mostly the credential the route needs (so validation is reached), else none or garbage. */
  private static Arbitrary<Auth> auths(Route route) {
    Arbitrary<Auth> valid = Arbitraries.just(new Auth(validAuth(route), grantOf(route)));
    Arbitrary<Auth> other = Arbitraries.oneOf(Arbitraries.just(new Auth(null, Access.PUBLIC)),
      garbageAuthorization(), Arbitraries.just(new Auth("Bearer " + USER_TOKEN, Access.USER)),
      Arbitraries.just(new Auth(route.name().equals("admin-rotate") ? null : "Bearer " + SERVICE_KEY,
        route.name().equals("admin-rotate") ? Access.PUBLIC : Access.ADMIN)));
    return Arbitraries.frequencyOf(Tuple.of(3, valid), Tuple.of(1, other));
  }

  private static Arbitrary<Auth> garbageAuthorization() {
    return Arbitraries.oneOf(
      headerValues().map(v -> new Auth(v, Access.PUBLIC)),
      headerValues().map(v -> new Auth("Bearer " + v, Access.PUBLIC)),
      randomSegments().map(v -> new Auth("Bearer " + v, Access.PUBLIC)),
      randomJwts().map(v -> new Auth("Bearer " + v, Access.PUBLIC)));
  }

  /** Authorization headers for the Bearer-route property: every kind, the valid ones in odd spellings too. */
  private static Arbitrary<Auth> authorizationHeader(Route route) {
    String rotate = route.name().equals("admin-rotate") ? "x" : "";
    Arbitrary<Auth> userVariants = Arbitraries.of("Bearer ", "bearer ", "BEARER ", "Bearer  ", "Bearer\t", " Bearer ")
      .map(prefix -> new Auth(prefix + USER_TOKEN, Access.USER));
    Arbitrary<Auth> keyVariants = Arbitraries.of("Bearer ", "bearer ", "Bearer  ")
      .map(prefix -> new Auth(prefix + SERVICE_KEY + rotate, rotate.isEmpty() ? Access.ADMIN : Access.PUBLIC));
    Arbitrary<Auth> broken = Arbitraries.of(
      "", "Bearer", "Bearer ", "Bearer .", "Bearer ..", "Bearer ...", "Bearer a.b.c", "Token " + USER_TOKEN,
      "Basic " + Base64.getEncoder().encodeToString("user:pass".getBytes(StandardCharsets.UTF_8)), "Basic",
      "Bearer " + USER_TOKEN + "x", "Bearer " + USER_TOKEN + ".", "Bearer " + USER_TOKEN + " " + USER_TOKEN,
      "Bearer x" + USER_TOKEN, "Bearer {user-header}.{user-payload}.", "Bearer {user-header}.{user-payload}",
      "Bearer {user-header}.{key-payload}.{user-sig}", "Bearer {key-header}.{user-payload}.{key-sig}",
      "Bearer {user-header}.{user-payload}.{key-sig}", "Bearer {user-payload}.{user-header}.{user-sig}",
      "Bearer {user-header}..{user-sig}", "Bearer {user-header}.{user-payload}.{user-sig}.{user-sig}",
      "Bearer " + b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + ".{user-payload}.",
      "Bearer " + b64("{\"alg\":\"none\"}") + ".{key-payload}.",
      "Bearer " + b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + ".{key-payload}.{key-sig}",
      "Bearer " + b64("{\"alg\":\"ES256\",\"kid\":\"nope\"}") + ".{key-payload}.{key-sig}",
      "Bearer \0" + USER_TOKEN, "Bearer " + USER_TOKEN + "\0")
      .map(v -> new Auth(v, Access.PUBLIC));
    Arbitrary<Auth> tampered = Combinators.combine(Arbitraries.of("{user-header}", "{key-header}"), jwtPayloads(),
        Arbitraries.of("{user-sig}", "{key-sig}", "", "AAAA"))
      .as((header, payload, sig) -> new Auth("Bearer " + header + "." + b64(payload) + "." + sig, Access.PUBLIC));
    return Arbitraries.frequencyOf(
      Tuple.of(2, userVariants), Tuple.of(2, keyVariants), Tuple.of(3, broken), Tuple.of(3, tampered),
      Tuple.of(3, garbageAuthorization()), Tuple.of(1, Arbitraries.just(new Auth(null, Access.PUBLIC))));
  }

  private static Arbitrary<String> randomSegments() {
    Arbitrary<String> segment = Arbitraries.strings().withChars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
      + "0123456789-_=+/").ofMaxLength(120);
    return segment.list().ofMinSize(1).ofMaxSize(6).map(parts -> String.join(".", parts));
  }

  private static Arbitrary<String> randomJwts() {
    Arbitrary<String> headers = Arbitraries.oneOf(
      Arbitraries.of("{\"alg\":\"none\"}", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"alg\":\"ES256\"}",
        "{\"alg\":\"RS256\",\"kid\":\"x\"}", "{\"alg\":\"ES256\",\"jku\":\"http://127.0.0.1:1/jwks\"}",
        "{\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\"}}", "{\"alg\":\"ES256\",\"crit\":[\"b64\"],\"b64\":false}",
        "{\"alg\":\"ES256\",\"x5u\":\"http://127.0.0.1:1/x\"}", "{\"alg\":null}", "{\"alg\":[\"ES256\"]}",
        "{\"alg\":\"ES256\",\"kid\":123}", "{\"alg\":\"ES256\",\"kid\":{\"a\":1}}", "[]", "null", "\"ES256\"", "{",
        "{\"alg\":\"ES256\",\"zip\":\"DEF\"}", "{\"alg\":\"PS256\"}", "{\"alg\":\"EdDSA\"}", "{\"alg\":\"ES512\"}"),
      jsonValues(2).map(HostileInputTest::jsonText));
    Arbitrary<String> signatures = Arbitraries.oneOf(Arbitraries.of("", "{user-sig}", "{key-sig}"),
      Arbitraries.bytes().array(byte[].class).ofMaxSize(140)
        .map(b -> Base64.getUrlEncoder().withoutPadding().encodeToString(b)));
    return Combinators.combine(headers, jwtPayloads(), signatures)
      .as((h, p, s) -> b64(h) + "." + b64(p) + "." + s);
  }

  /** Claims sets with claims missing, of the wrong type, or odd values; some almost valid. */
  private static Arbitrary<String> jwtPayloads() {
    Arbitrary<Object> claimValue = Arbitraries.oneOf(jsonValues(1), Arbitraries.of(
      "authenticated", "service_role", "admin", "00000000-0000-0000-0000-000000000000").asGeneric(),
      Arbitraries.of(new JNum("9999999999"), new JNum("0"), new JNum("-1"), new JNum("1e308"),
        new JNum("99999999999999999999999999"), new JNum("1.5")).asGeneric());
    Arbitrary<String> claimNames = Arbitraries.of("sub", "exp", "iat", "nbf", "iss", "aud", "role", "session_id",
      "email", "app_metadata", "amr", "aal", "is_anonymous", "jti");
    Arbitrary<JObj> claims = Combinators.combine(claimNames, claimValue).as(Map::entry).list().ofMaxSize(9)
      .map(entries -> new JObj(new ArrayList<>(entries)));
    return Arbitraries.oneOf(claims.map(HostileInputTest::jsonText), jsonValues(2).map(HostileInputTest::jsonText),
      Arbitraries.strings().ofMaxLength(40));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Building blocks: bodies.

  /** Every field valid (so that the one left out, given a wrong type, decides), as a JSON object. */
  private static Arbitrary<JObj> validObject(Route route, String except) {
    List<Arbitrary<Map.Entry<String, Object>>> entries = new ArrayList<>();
    for (Field field : route.fields()) {
      if (!field.name().equals(except)) {
        entries.add(validValue(route, field.name()).map(v -> Map.entry(field.name(), v)));
      }
    }
    if (entries.isEmpty()) {
      return Arbitraries.just(new JObj(List.of()));
    }
    return Combinators.combine(entries).as(list -> new JObj(new ArrayList<>(list)));
  }

  /** Each field absent, valid, or hostile (any JSON value); extra keys; sometimes a key twice. */
  private static Arbitrary<JObj> hostileObject(Route route) {
    List<Arbitrary<List<Map.Entry<String, Object>>>> parts = new ArrayList<>();
    for (Field field : route.fields()) {
      Arbitrary<Object> value = Arbitraries.frequencyOf(
        Tuple.of(3, validValue(route, field.name())), Tuple.of(3, jsonValues(2)), Tuple.of(3, hostileFor(field)));
      Arbitrary<List<Map.Entry<String, Object>>> present = value.map(v -> List.of(Map.entry(field.name(), v)));
      Arbitrary<List<Map.Entry<String, Object>>> twice = Combinators.combine(value, value)
        .as((a, b) -> List.of(Map.entry(field.name(), a), Map.entry(field.name(), b)));
      parts.add(Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(List.<Map.Entry<String, Object>>of())),
        Tuple.of(7, present),
        Tuple.of(1, twice)));
    }
    Arbitrary<List<Map.Entry<String, Object>>> extra = Combinators.combine(keys(), jsonValues(1)).as(Map::entry)
      .list().ofMaxSize(3);
    parts.add(extra);
    return Combinators.combine(parts).as(lists -> {
      List<Map.Entry<String, Object>> all = new ArrayList<>();
      lists.forEach(all::addAll);
      return new JObj(all);
    });
  }

  /** Hostile values that fit the field's purpose, so they get past its first checks and reach deeper code. */
  private static Arbitrary<Object> hostileFor(Field field) {
    Arbitrary<String> tails = Arbitraries.oneOf(hostileStrings(), Arbitraries.of("\0", "\u007f", "\u0085", "\r\n",
      "\t", " ", "\ud800", "\ud800\u00e9", "\udc00\u4e00", "#x", "?a=\0", "%00", "\u2028"));
    Arbitrary<Object> out = switch (field.name()) {
      case "redirect_to" -> Combinators.combine(Arbitraries.of(SITE_URL, SITE_URL + "/", SITE_URL + "/a?b=",
          "http://localhost:3000.evil.example/", "javascript:", "//", ""), tails)
        .as((base, tail) -> (Object) (base + tail));
      case "email", "username" -> Combinators.combine(emails(), tails, Arbitraries.integers().between(0, 2))
        .as((email, tail, where) -> (Object) (where == 0 ? tail + email : where == 1 ? email + tail
          : email.replace("@", tail + "@")));
      case "password", "current_password" -> Arbitraries.oneOf(tails,
        Arbitraries.integers().between(1020, 1030).map(n -> "p".repeat(n)),
        Arbitraries.of("\0\0\0\0\0\0\0\0", "\ud800\ud800\ud800\ud800\ud800\ud800\ud800\ud800", "        ",
          "🔥🔥🔥🔥🔥🔥🔥🔥", "short")).asGeneric();
      case "type" -> Combinators.combine(Arbitraries.of("signup", "recovery", "magiclink", "invite", "email",
          "email_change", "email_change_new", "email_change_current", "sms", "phone_change"),
          Arbitraries.of("", " ", "\0", "S", "_current"), Arbitraries.of(true, false))
        .as((type, twist, upper) -> (Object) ((upper ? type.toUpperCase(Locale.ROOT) : type) + twist));
      case "token", "token_hash", "refresh_token" -> Arbitraries.oneOf(tails, Arbitraries.of(USER_TOKEN, SERVICE_KEY,
        USER_TOKEN + "x", "a.b.c", "..", "{user-header}.{user-payload}.", "000000", " 123456 ", "1234567")).asGeneric();
      case "ban_duration" -> Arbitraries.of("24h", "none", "NONE", "0h", "-1h", "1h-1m", "999999999h", "8760000h",
        "8760001h", "1.5h", "1d", "h", "1", "1h" + "59m".repeat(1000), "9".repeat(30) + "s", "1h\0", "1h ", " 1h",
        "1H").asGeneric();
      case "role" -> Arbitraries.oneOf(tails, Arbitraries.of("service_role", "supabase_admin", "postgres",
        "authenticated", "Admin", "a".repeat(63), "a".repeat(64), "0role", "role-x")).asGeneric();
      case "create_user", "email_confirm", "should_soft_delete" -> Arbitraries.of("true", "false", new JNum("1"),
        new JNum("0"), JNull.NULL).asGeneric();
      case "data", "user_metadata", "app_metadata" -> Arbitraries.oneOf(jsonValues(3).filter(v -> v instanceof JObj),
        Combinators.combine(Arbitraries.of("roles", "provider", "providers", "\0", "a\0b", "", "sub", "role"),
          jsonValues(2)).as((k, v) -> (Object) new JObj(List.of(Map.entry(k, v)))),
        Arbitraries.of(new JObj(List.of(Map.entry("roles", List.of("admin", "service_role"))))).asGeneric());
      default -> hostileStrings().asGeneric();
    };
    return out;
  }

  /** A valid body for the route (or none for routes without one). */
  private static Arbitrary<byte[]> validBodyOrNone(Route route) {
    if (route.body() == Body.NONE || route.body() == Body.IGNORED) {
      return Arbitraries.<byte[]>just(null);
    }
    return validObject(route, "").map(o -> json(o));
  }

  private static Arbitrary<Object> validValue(Route route, String field) {
    return switch (field) {
      case "email", "username" -> emails().asGeneric();
      case "password", "current_password" -> Arbitraries.strings().alpha().numeric().ofLength(12)
        .map(s -> (Object) ("Pw-" + s));
      case "data", "user_metadata", "app_metadata" -> Arbitraries.of(new JObj(List.of()),
        new JObj(List.of(Map.entry("plan", "free"))), new JObj(List.of(Map.entry("n", new JNum("1"))))).asGeneric();
      case "redirect_to" -> Arbitraries.of(SITE_URL, SITE_URL + "/welcome", "http://evil.example/").asGeneric();
      case "create_user", "email_confirm", "should_soft_delete" -> Arbitraries.of(true, false).asGeneric();
      case "type" -> (route.name().equals("resend") ? Arbitraries.of("signup", "email_change")
        : Arbitraries.of("signup", "recovery", "magiclink", "invite", "email", "email_change")).asGeneric();
      case "token" -> route.name().equals("verify")
        ? Arbitraries.strings().numeric().ofLength(6).asGeneric()
        : tokenLike().asGeneric();
      case "token_hash", "refresh_token" -> tokenLike().asGeneric();
      case "grant_type" -> Arbitraries.of("password", "refresh_token").asGeneric();
      case "role" -> Arbitraries.of("authenticated", "editor", "admin").asGeneric();
      case "ban_duration" -> Arbitraries.of("none", "24h", "1h30m", "90s").asGeneric();
      case "phone" -> Arbitraries.of("", "+15555550100").asGeneric();
      default -> Arbitraries.strings().alpha().ofMaxLength(10).asGeneric();
    };
  }

  /** Mostly fresh addresses; some from a small set, so that taken addresses and the mail interval come up. */
  private static Arbitrary<String> emails() {
    return Arbitraries.frequencyOf(
      Tuple.of(8, Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyz0123456789").ofLength(14)
        .map(s -> "fz-" + s + "@example.com")),
      Tuple.of(1, Arbitraries.of("fz-again-1@example.com", "fz-again-2@example.com", "FZ-Again-1@Example.com")));
  }

  private static Arbitrary<String> tokenLike() {
    return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(48)
      .map(b -> Base64.getUrlEncoder().withoutPadding().encodeToString(b));
  }

  /** A value of any JSON type other than the field's (null is absence, not a wrong type). */
  private static Arbitrary<Object> wrongType(Kind kind) {
    Arbitrary<Object> string = hostileStrings().asGeneric();
    Arbitrary<Object> bool = Arbitraries.of(true, false).asGeneric();
    Arbitrary<Object> number = numbers().asGeneric();
    Arbitrary<Object> array = jsonValues(1).list().ofMaxSize(3).asGeneric();
    Arbitrary<Object> object = Combinators.combine(keys(), jsonValues(1)).as(Map::entry).list().ofMaxSize(3)
      .map(e -> (Object) new JObj(new ArrayList<>(e)));
    return switch (kind) {
      case STRING -> Arbitraries.oneOf(bool, number, array, object);
      case BOOL -> Arbitraries.oneOf(string, number, array, object);
      case OBJECT -> Arbitraries.oneOf(string, bool, number, array);
    };
  }

  private static Arbitrary<String> keys() {
    Set<String> names = new LinkedHashSet<>();
    ROUTES.forEach(r -> r.fields().forEach(f -> names.add(f.name())));
    names.addAll(List.of("__proto__", "constructor", "", "id", "aud", "role", "is_anonymous", "identities"));
    return Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.of(List.copyOf(names))), Tuple.of(1, hostileStrings()));
  }

  /** A body that is not the object the route expects, byte for byte. */
  private static Arbitrary<byte[]> malformedBody(Route route) {
    Arbitrary<byte[]> randomBytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    Arbitrary<byte[]> notObjects = jsonValues(3).filter(v -> !(v instanceof JObj)).map(HostileInputTest::json);
    Arbitrary<byte[]> truncated = Combinators.combine(validObject(route, "").map(o -> json(o)),
        Arbitraries.doubles().between(0, 1))
      .as((bytes, cut) -> Arrays.copyOf(bytes, (int) (bytes.length * cut)));
    Arbitrary<byte[]> garbageAround = Combinators.combine(validObject(route, "").map(o -> json(o)),
        Arbitraries.of("", " ", "\0", "\ufeff", "//", "/*x*/", ",", "}", "{", "]", "x", "\r\n\r\n", "null"),
        Arbitraries.of("", " ", "\0", "}", "]", ",", "x", "{}", "//c", "\u2028"))
      .as((bytes, before, after) -> concat(utf8(before), bytes, utf8(after)));
    Arbitrary<byte[]> invalidUtf8 = Combinators.combine(Arbitraries.of(route.fields().isEmpty() ? List.of("x")
          : route.fields().stream().map(Field::name).toList()), invalidUtf8Bytes(),
        validObject(route, "").map(o -> json(o)))
      .as((field, bad, valid) -> {
        String text = new String(valid, StandardCharsets.UTF_8);
        int close = text.lastIndexOf('}');
        String head = text.substring(0, close) + (text.length() > 2 ? "," : "") + "\"" + field + "\":\"";
        return concat(utf8(head), bad, utf8("\"}"));
      });
    Arbitrary<byte[]> nesting = Combinators.combine(Arbitraries.integers().between(1, 2700),
        Arbitraries.of("[", "{\"data\":", "{\"email\":[", "[{\"a\":"), Arbitraries.of(true, false))
      .as((depth, open, balanced) -> {
        String close = open.equals("[") ? "]" : open.equals("{\"data\":") ? "}" : open.equals("[{\"a\":") ? "}]"
          : "]}";
        StringBuilder s = new StringBuilder(open.repeat(depth)).append("1");
        if (balanced) {
          s.append(close.repeat(depth));
        }
        return utf8(s.length() > 16000 ? s.substring(0, 16000) : s.toString());
      });
    Arbitrary<byte[]> hugeNumbers = Combinators.combine(Arbitraries.of(route.fields().isEmpty() ? List.of("x")
          : route.fields().stream().map(Field::name).toList()), Arbitraries.integers().between(1, 12000),
        Arbitraries.of("", "-", "0.", "1e", "-0.", "0x"), Arbitraries.of("", "e999999999", "E-999999999", ".5"))
      .as((field, digits, sign, exp) -> utf8("{\"" + field + "\":" + sign + "9".repeat(digits) + exp + "}"));
    Arbitrary<byte[]> otherCharsets = validObject(route, "").map(o -> new String(json(o), StandardCharsets.UTF_8))
      .flatMap(text -> Arbitraries.of(text.getBytes(StandardCharsets.UTF_16), text.getBytes(StandardCharsets.UTF_16LE),
        text.getBytes(Charset.forName("UTF-32")),
        concat(new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf}, utf8(text))));
    Arbitrary<byte[]> whitespace = Arbitraries.of("", " ", "\n", "\t\r\n ", "\0", "\u00a0").map(HostileInputTest::utf8);
    return Arbitraries.frequencyOf(Tuple.of(3, randomBytes), Tuple.of(3, notObjects), Tuple.of(2, truncated),
      Tuple.of(2, garbageAround), Tuple.of(3, invalidUtf8), Tuple.of(2, nesting), Tuple.of(2, hugeNumbers),
      Tuple.of(1, otherCharsets), Tuple.of(1, whitespace));
  }

  private static Arbitrary<byte[]> invalidUtf8Bytes() {
    Arbitrary<byte[]> known = Arbitraries.of("c328", "a0a1", "e228a1", "e28228", "f0288cbc", "f09028bc", "c0af",
      "e080af", "eda080", "edbfbf", "eda080edb080", "f888808080", "fc8480808080", "ff", "fe", "c3", "e282", "f09f98",
      "00", "c080", "f4908080").map(HostileInputTest::hex);
    return Arbitraries.oneOf(known, Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(12)
      .map(b -> {
        for (int i = 0; i < b.length; i++) {
          b[i] = (byte) (b[i] | 0x80);
        }
        return b;
      }));
  }

  private static byte[] bigBody(Route route, int size) {
    if (route.body() == Body.FORM) {
      return utf8("grant_type=password&username=a%40b.co&password=" + "p".repeat(size));
    }
    return utf8("{\"email\":\"a@b.co\",\"password\":\"" + "p".repeat(size) + "\"}");
  }

  /** Form bodies: pairs percent-encoded properly, raw, or with broken escapes; odd separators; many or long. */
  private static Arbitrary<byte[]> formBody(Route route) {
    List<String> names = new ArrayList<>(List.of("grant_type", "username", "password", "refresh_token", "token",
      "email", "scope", "client_id"));
    route.fields().forEach(f -> names.add(f.name()));
    Arbitrary<String> name = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.of(names)), Tuple.of(1, hostileStrings()));
    Arbitrary<String> value = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.of("password", "refresh_token",
      "a@b.co", "Pw-123456789", "")), Tuple.of(3, hostileStrings()));
    Arbitrary<byte[]> pair = Combinators.combine(name, value, Arbitraries.integers().between(0, 5),
        Arbitraries.of("", "%", "%z", "%zz", "%C3%28", "%ED%A0%80", "%00", "%FF%FE", "%%", "%2", "+", "=", "%u0041"))
      .as((n, v, mode, broken) -> switch (mode) {
        case 0, 1 -> utf8(pct(n) + "=" + pct(v));
        case 2 -> concat(utf8(n), utf8("="), utf8(v));
        case 3 -> utf8(pct(n) + "=" + pct(v) + broken);
        case 4 -> utf8(n.isEmpty() ? broken : pct(n));
        default -> utf8(pct(n) + broken + "=" + broken + pct(v));
      });
    Arbitrary<byte[]> pairs = Combinators.combine(pair.list().ofMaxSize(6), Arbitraries.of("&", "&&", ";", "&amp;"))
      .as((list, sep) -> {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < list.size(); i++) {
          if (i > 0) {
            out.writeBytes(utf8(sep));
          }
          out.writeBytes(list.get(i));
        }
        return out.toByteArray();
      });
    Arbitrary<byte[]> many = Arbitraries.integers().between(200, 1500)
      .map(n -> utf8("grant_type=password" + "&k=v".repeat(n)));
    Arbitrary<byte[]> long1 = Arbitraries.integers().between(8000, 15000)
      .map(n -> utf8("grant_type=password&username=" + "a".repeat(n)));
    Arbitrary<byte[]> repeated = Arbitraries.of("grant_type=password&grant_type=refresh_token",
      "grant_type=password&username=a%40b.co&username=b%40c.de&password=x", "token=a&token=b", "=&=&=", "&&&&",
      "grant_type", "%", "grant_type=password&password", "refresh_token=%00&grant_type=refresh_token")
      .map(HostileInputTest::utf8);
    Arbitrary<byte[]> multipart = Arbitraries.of(
      "--b\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\npassword\r\n--b--\r\n",
      "--b\r\nContent-Disposition: form-data; name=\"token\"; filename=\"x\"\r\n\r\nabc\r\n--b--\r\n",
      "--b\r\n\r\n", "garbage", "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--").map(HostileInputTest::utf8);
    return Arbitraries.frequencyOf(Tuple.of(8, pairs), Tuple.of(1, many), Tuple.of(1, long1), Tuple.of(2, repeated),
      Tuple.of(1, multipart), Tuple.of(2, Arbitraries.bytes().array(byte[].class).ofMaxSize(200)));
  }

  private static Arbitrary<String> formContentTypes() {
    return Arbitraries.frequencyOf(
      Tuple.of(6, Arbitraries.just("application/x-www-form-urlencoded")),
      Tuple.of(4, Arbitraries.of("application/x-www-form-urlencoded; charset=UTF-8",
        "application/x-www-form-urlencoded; charset=ISO-8859-1", "application/x-www-form-urlencoded; charset=bogus",
        "application/x-www-form-urlencoded; charset=", "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=\"utf-8\"", "APPLICATION/X-WWW-FORM-URLENCODED",
        "application/x-www-form-urlencoded;charset=utf-32;charset=latin1", "application/x-www-form-urlencodedx",
        "multipart/form-data; boundary=b", "multipart/form-data", "multipart/form-data; boundary=",
        "multipart/mixed; boundary=b", "application/json", "text/plain", "application/x-www-form-urlencoded\0",
        "multipart/form-data; boundary=b; charset=bogus", "multipart/form-data; boundary=\"\"",
        "multipart/form-data; charset=utf-8; boundary=", "multipart/form-data; boundary=" + "b".repeat(100),
        "application/x-www-form-urlencoded; boundary=", "MULTIPART/FORM-DATA; BOUNDARY=b",
        "application/x-www-form-urlencoded; charset=\u00e9")),
      Tuple.of(1, Arbitraries.<String>just(null)));
  }

  private static Arbitrary<String> jsonContentTypes() {
    return Arbitraries.frequencyOf(
      Tuple.of(8, Arbitraries.just("application/json")),
      Tuple.of(3, Arbitraries.of("application/json; charset=utf-8", "application/json; charset=ISO-8859-1",
        "application/json; charset=bogus", "application/json;charset=utf-16", "APPLICATION/JSON",
        "application/jsonx", "application/json-patch+json", "text/plain", "text/json", "application/*",
        "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json\0",
        "application/json; charset=\u00ff", " application/json", "application/json, text/plain")),
      Tuple.of(1, Arbitraries.<String>just(null)));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Building blocks: query strings, paths, headers.

  private static Arbitrary<String> queryString() {
    Arbitrary<String> name = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.of("grant_type", "redirect_to",
      "scope", "page", "per_page", "type", "token", "email", "refresh_token", "apikey", "id")),
      Tuple.of(1, hostileStrings().map(HostileInputTest::pct)));
    Arbitrary<String> value = Arbitraries.frequencyOf(
      Tuple.of(2, Arbitraries.of("", "0", "-1", "1", "2147483647", "2147483648", "99999999999999999999", "1e3",
        "0x10", "%201", "1%20", "%EF%BC%91", "%D9%A1", "1000", "1001", "password", "refresh_token", "signup",
        "recovery", "email_change", "magiclink", "invite", "email", "local", "others", "global",
        pct(SITE_URL + "/x"), pct(SITE_URL + "/\0"), pct(SITE_URL + "/\ud800"), pct(SITE_URL + "/" + "a".repeat(3000)),
        pct(SITE_URL + "/\u007f"), pct(SITE_URL + "/\r\nSet-Cookie: a=b"), pct(SITE_URL + "/\u0085"),
        pct(SITE_URL + "@evil.example"), "javascript:alert(1)", "%0d%0aLocation:%20http://evil", "%", "%zz",
        "%C3%28", "%ED%A0%80", "%00", "+", "a+b", "%2B", "=", "==")),
      Tuple.of(3, hostileStrings().map(HostileInputTest::pct)),
      Tuple.of(1, hostileStrings().map(HostileInputTest::rawQuery)));
    Arbitrary<String> pair = Combinators.combine(name, value, Arbitraries.integers().between(0, 6))
      .as((n, v, mode) -> mode == 0 ? n : n + "=" + v);
    return Combinators.combine(pair.list().ofMaxSize(5), Arbitraries.of("&", "&&", ";", "&amp;", "?"))
      .as((pairs, sep) -> String.join(sep, pairs));
  }

  /** A query value with raw bytes where a request line allows them (no blanks, no line breaks). */
  private static String rawQuery(String s) {
    StringBuilder out = new StringBuilder();
    for (byte b : utf8(s)) {
      int c = b & 0xff;
      out.append(c <= 0x20 || c == 0x7f || c == '#' ? String.format("%%%02X", c) : String.valueOf((char) c));
    }
    return out.toString();
  }

  private static Arbitrary<String> pathSegments() {
    return Arbitraries.frequencyOf(
      Tuple.of(3, Arbitraries.of("", "settings", "user", "signup", "token", "logout", "users", VICTIM,
        "00000000-0000-0000-0000-000000000000", "..", "../settings", "..%2fsettings", "%2e%2e/settings",
        "%2E%2E%2F%2E%2E%2Fhealth", "settings/", "settings%00", "settings%2500", "%00", "%", "%zz", "%C3%28",
        "%ED%A0%80", ";", "settings;x=y", "./settings", ".well-known/../settings", "%2fauth%2fv1%2fsettings",
        "SETTINGS", "settings%20", "admin/users/%2e%2e", "users/" + VICTIM + "/unlock/..", "\\settings",
        "%5csettings", "~root", "*", "?", "%3f", "%23", "a".repeat(300), "x/".repeat(200), "%F0%9F%94%A5",
        "%C0%AF", "%E2%80%AE")),
      Tuple.of(2, hostileStrings().map(HostileInputTest::pct)),
      Tuple.of(1, hostileStrings().map(HostileInputTest::rawQuery)));
  }

  /** Sets of headers of hostile values; "-Host" means: send no Host header. */
  private static Arbitrary<List<String[]>> headerSets() {
    Arbitrary<String[]> version = Arbitraries.oneOf(versions().filter(v -> v != null), headerValues())
      .map(v -> new String[] {ErrorShapes.API_VERSION, v});
    Arbitrary<String[]> agent = headerValues().map(v -> new String[] {"User-Agent", v});
    Arbitrary<String[]> origin = Arbitraries.oneOf(Arbitraries.of("http://evil.example", "null", SITE_URL,
        SITE_URL + "/", "http://localhost:3000.evil.example", "file://"), headerValues())
      .map(v -> new String[] {"Origin", v});
    Arbitrary<String[]> forwarded = Combinators.combine(Arbitraries.of("X-Forwarded-For", "X-Real-IP", "Forwarded",
        "X-Forwarded-Host", "X-Forwarded-Proto", "X-Client-IP"),
        Arbitraries.oneOf(Arbitraries.of("1.2.3.4", "::1", "127.0.0.1, 10.0.0.1", "999.999.999.999", "unknown",
          "for=\"[::1]\"", "", "1.2.3.4".repeat(500)), headerValues()))
      .as((n, v) -> new String[] {n, v});
    Arbitrary<String[]> contentType = Arbitraries.oneOf(jsonContentTypes().filter(v -> v != null),
      formContentTypes().filter(v -> v != null), headerValues()).map(v -> new String[] {"Content-Type", v});
    Arbitrary<String[]> misc = Combinators.combine(Arbitraries.of("Accept", "Accept-Charset", "Accept-Encoding",
        "Accept-Language", "Cookie", "Referer", "Expect", "Content-Encoding", "X-Client-Info", "apikey", "Range",
        "If-None-Match", "Upgrade", "TE", "X-HTTP-Method-Override", "Host", "Access-Control-Request-Method",
        "Max-Forwards", "Via", "Prefer"),
        Arbitraries.oneOf(Arbitraries.of("100-continue", "gzip", "deflate, br", "*/*", "text/html", "bytes=0-1",
          "h2c", "websocket", "DELETE", "trailers", "", "utf-16", "0"), headerValues()))
      .as((n, v) -> new String[] {n, v});
    Arbitrary<String[]> oddNames = Combinators.combine(Arbitraries.of("X-Fuzz", "x-\u00e9", "X Fuzz", "X-Fuzz\t",
        "X-(Fuzz)", "X-Fuzz\u0001", ":path", "X-" + "a".repeat(300)), headerValues())
      .as((n, v) -> new String[] {n, v});
    Arbitrary<String[]> noHost = Arbitraries.just(new String[] {"-Host", ""});
    Arbitrary<String[]> header = Arbitraries.frequencyOf(Tuple.of(3, version), Tuple.of(3, agent),
      Tuple.of(2, origin), Tuple.of(2, forwarded), Tuple.of(2, contentType), Tuple.of(3, misc), Tuple.of(1, oddNames),
      Tuple.of(1, noHost));
    return header.list().ofMinSize(1).ofMaxSize(6);
  }

  /** Header values as bytes on the wire: UTF-8 of hostile strings, control characters kept, line breaks not. */
  private static Arbitrary<String> headerValues() {
    return hostileStrings().map(s -> {
      String latin1 = new String(utf8(s), StandardCharsets.ISO_8859_1);
      return latin1.replace('\r', ' ').replace('\n', ' ');
    });
  }

  private static Arbitrary<String> versions() {
    return Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.<String>just(null)),
      Tuple.of(3, Arbitraries.of("2024-01-01", "2025-06-30", " 2024-01-01 ", "9999-12-31")),
      Tuple.of(2, Arbitraries.of("2023-12-31", "2024-1-1", "garbage", "", "2024-01-01T00:00:00Z", "2024-01-01 x",
        "１２３４-５６-７８", "0000-00-00", "2024-13-45")));
  }

  /** The id in admin paths: the victim, a random UUID, or a hostile segment. */
  private static Arbitrary<String> ids() {
    return Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.just(VICTIM)),
      Tuple.of(2, Arbitraries.randomValue(r -> new java.util.UUID(r.nextLong(), r.nextLong()).toString())),
      Tuple.of(2, pathSegments()));
  }

  // ---------------------------------------------------------------------------------------------------------
  // JSON values, written byte for byte (duplicate keys, exotic numbers, lone surrogates as escapes).

  /** JSON null (jqwik does not generate Java null where a value is needed). */
  enum JNull { NULL }

  /** A number as written, valid JSON or not. */
  record JNum(String text) {
  }

  /** An object as written: keys in order, duplicates allowed. */
  record JObj(List<Map.Entry<String, Object>> entries) {
  }

  private static Arbitrary<Object> jsonValues(int depth) {
    Arbitrary<Object> leaf = Arbitraries.frequencyOf(
      Tuple.of(1, Arbitraries.just(JNull.NULL).asGeneric()),
      Tuple.of(1, Arbitraries.of(true, false).asGeneric()),
      Tuple.of(2, numbers().asGeneric()),
      Tuple.of(5, hostileStrings().asGeneric()));
    if (depth <= 0) {
      return leaf;
    }
    Arbitrary<Object> array = Arbitraries.lazy(() -> jsonValues(depth - 1)).list().ofMaxSize(4).asGeneric();
    Arbitrary<Object> object = Combinators.combine(keys(), Arbitraries.lazy(() -> jsonValues(depth - 1)))
      .as(Map::entry).list().ofMaxSize(4).map(e -> (Object) new JObj(new ArrayList<>(e)));
    return Arbitraries.frequencyOf(Tuple.of(6, leaf), Tuple.of(1, array), Tuple.of(1, object));
  }

  private static Arbitrary<JNum> numbers() {
    return Arbitraries.oneOf(
      Arbitraries.integers().map(i -> new JNum(Integer.toString(i))),
      Arbitraries.longs().map(l -> new JNum(Long.toString(l))),
      Arbitraries.doubles().map(d -> new JNum(Double.toString(d))),
      Arbitraries.integers().between(20, 900).map(n -> new JNum("9".repeat(n))),
      Arbitraries.of("1e400", "-1e400", "1e-400", "-0", "0.0000000000000000000000001", "1E+2", "123456789e999999999",
        "2147483648", "-2147483649", "9223372036854775808", "18446744073709551616", "4.9e-324",
        "1.7976931348623157e309",
        "0", "1", "1.0").map(JNum::new));
  }

  /** Strings meant to hurt: any character, control characters, NUL, lone surrogates, long, tricky text. */
  static Arbitrary<String> hostileStrings() {
    Arbitrary<String> any = Arbitraries.strings().all().ofMaxLength(40);
    Arbitrary<String> controls = Arbitraries.strings().withCharRange('\u0000', '\u001f')
      .withChars('\u007f', '\u0085', '\u2028', '\u2029', '\ufeff', '\ufffe', '\uffff', '\u00a0').ofMinLength(1)
      .ofMaxLength(12);
    Arbitrary<String> surrogates = Arbitraries.strings().withCharRange('\ud800', '\udfff').ofMinLength(1)
      .ofMaxLength(4);
    Arbitrary<String> mixed = Combinators.combine(Arbitraries.of(NASTY), Arbitraries.oneOf(controls, surrogates,
        Arbitraries.of("", "\0", "\ud800", "\udc00", "🔥")), Arbitraries.of(true, false))
      .as((base, twist, front) -> front ? twist + base : base + twist);
    Arbitrary<String> longs = Combinators.combine(
        Arbitraries.of("a", "é", "\0", "🔥", "%", "\\", "\"", "{", "\u202e"),
        Arbitraries.integers().between(100, 3000))
      .as(String::repeat);
    Arbitrary<String> emailish = Combinators.combine(emails(), Arbitraries.oneOf(controls, surrogates,
        Arbitraries.of(" ", "\0", ".", "@", "@@", "<>", "\"", " \t", "A", "\u0130", "\u212a")),
        Arbitraries.integers().between(0, 2))
      .as((email, twist, where) -> where == 0 ? twist + email : where == 1 ? email + twist
        : email.replace("@", twist + "@"));
    Arbitrary<String> siteUrls = Combinators.combine(Arbitraries.of(SITE_URL + "/", SITE_URL, SITE_URL + "/a?b="),
        Arbitraries.oneOf(controls, surrogates, any))
      .as((base, tail) -> base + tail);
    return Arbitraries.frequencyOf(Tuple.of(4, any), Tuple.of(2, controls), Tuple.of(2, surrogates),
      Tuple.of(4, Arbitraries.of(NASTY)), Tuple.of(2, mixed), Tuple.of(1, longs), Tuple.of(2, emailish),
      Tuple.of(2, siteUrls));
  }

  private static final List<String> NASTY = List.of("", " ", "\0", "\0\0\0", "null", "undefined", "true", "false",
    "0", "-1", "1e999", "NaN", "Infinity", "' OR '1'='1", "\"; DROP TABLE users; --", "${jndi:ldap://127.0.0.1/a}",
    "{{7*7}}", "<script>alert(1)</script>", "../../../../etc/passwd", "%00", "%s%s%s%n", "\r\nX-Injected: 1",
    "a@b", "@", "@example.com", "user@", "a@b.c\0", "user@example.com\r\nBcc: x@example.org", "𝕒@𝕓.𝕔",
    "\u202eevil", "ＡＢＣ@ｅｘａｍｐｌｅ.ｃｏｍ", "x".repeat(250) + "@example.com",
    "a@" + "b".repeat(300) + ".com",
    "signup", "recovery", "email_change", "magiclink", "invite", "email", "SIGNUP", " signup ", "password",
    "refresh_token", "24h", "none", "-1h", "999999999h", "0s", "1h-1m", "9999999999999h", "1h" + "1s".repeat(500),
    "service_role", "admin", "authenticated", "supabase_admin", "Admin", "a".repeat(64),
    "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "0-0-0-0-0",
    SITE_URL + "/\0", "javascript:alert(1)", "//evil.example", "\\\\evil", "🔥", "\ud83d", "\ude00", "\udbff\udfff",
    "\uffff", "\ufeffa@b.co", "a@b.co\u0000", "\ud800\u00e9", "\udbff\u4e00", "a\udc00\u00d3@b.co",
    "\ud83d\u0100", " a@B.CO ", "A@B.CO", "\t", "\u3000", "123456", "000000", "1234567",
    "eyJhbGciOiJub25lIn0.e30.", "{}", "[]", "\\u0000", "\\ud800");

  // ---------------------------------------------------------------------------------------------------------
  // Small helpers.

  static byte[] json(Object value) {
    StringBuilder out = new StringBuilder();
    write(out, value);
    return utf8(out.toString());
  }

  static String jsonText(Object value) {
    return new String(json(value), StandardCharsets.UTF_8);
  }

  private static void write(StringBuilder out, Object value) {
    if (value instanceof JNull || value == null) {
      out.append("null");
    } else if (value instanceof Boolean b) {
      out.append(b);
    } else if (value instanceof JNum n) {
      out.append(n.text());
    } else if (value instanceof String s) {
      quote(out, s);
    } else if (value instanceof List<?> list) {
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        write(out, list.get(i));
      }
      out.append(']');
    } else if (value instanceof JObj object) {
      out.append('{');
      for (int i = 0; i < object.entries().size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        quote(out, object.entries().get(i).getKey());
        out.append(':');
        write(out, object.entries().get(i).getValue());
      }
      out.append('}');
    } else {
      throw new IllegalArgumentException(String.valueOf(value));
    }
  }

  /** A JSON string; a lone surrogate goes as a \\u escape (UTF-8 cannot carry it), so it reaches the server. */
  private static void quote(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        out.append(c).append(s.charAt(++i));
      } else if (Character.isSurrogate(c)) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    out.append('"');
  }

  private static String b64(String text) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(utf8(text));
  }

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** Percent-encoding of the UTF-8 bytes (a lone surrogate becomes '?', as any encoder would send it). */
  static String pct(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] hex(String hex) {
    byte[] out = new byte[hex.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    }
    return out;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

}
