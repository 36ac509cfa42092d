package io.portcullis.http;

import io.portcullis.error.ErrorCode;
import io.portcullis.http.HttpVerticle;
import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.ErrorShapes;
import io.portcullis.it.TestApp;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /openapi.json} against the service itself: every route the HttpVerticle registers is documented and
 * every documented operation is routed; the document is OpenAPI 3.1 whose references resolve, whose error codes
 * are the service's, and whose schemas describe what the service really answers. Plus {@code /docs} and its
 * Swagger UI files served from this server.
 */
@ExtendWith(AppExtension.class)
class OpenApiTest {

  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch",
    "trace");
  private static final Pattern ROUTE_PARAM = Pattern.compile(":([A-Za-z0-9_]+)");
  private static final Pattern DOC_PARAM = Pattern.compile("\\{([^}/]+)}");

  @App
  static TestApp app;
  static JsonObject doc;
  static List<Route> routes;

  @BeforeAll
  static void start() throws Exception {
    // One more instance of the HTTP verticle on the running app (it shares the port): its route table is the
    // one every instance serves.
    HttpVerticle probe = app.server.newHttpVerticle();
    String id = app.vertx.deployVerticle(probe).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    routes = probe.routes();
    app.vertx.undeploy(id).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    TestApp.Response r = app.get("/openapi.json");
    assertEquals(200, r.status(), r.raw());
    doc = r.json();
  }

  @Test
  void everyRouteIsDocumentedAndEveryDocumentedOperationHasARoute() {
    Set<String> routed = new TreeSet<>();
    Set<String> wildcardPrefixes = new HashSet<>();
    for (Route route : routes) {
      String path = route.getPath();
      if (path == null) {
        assertFalse(route.isRegexPath(), "a regex route cannot be held to the document: " + route);
        continue; // handlers for every request (CORS, headers, failures), not operations
      }
      Set<HttpMethod> methods = route.methods();
      assertTrue(methods != null && !methods.isEmpty(), "route " + path + " answers every method: give it one");
      String key;
      if (route.isExactPath()) {
        key = ROUTE_PARAM.matcher(path).replaceAll("{$1}");
      } else {
        wildcardPrefixes.add(path);
        key = path + "{*}";
      }
      for (HttpMethod method : methods) {
        routed.add(method.name() + " " + key);
      }
    }
    Set<String> documented = new TreeSet<>();
    doc.getJsonObject("paths").forEach(entry -> {
      String path = entry.getKey();
      // A documented path "/docs/{asset}" stands for a prefix route "/docs/*".
      Matcher last = Pattern.compile("^(.*/)\\{[^}/]+}$").matcher(path);
      String key = last.matches() && wildcardPrefixes.contains(last.group(1)) ? last.group(1) + "{*}" : path;
      ((JsonObject) entry.getValue()).fieldNames().stream()
        .filter(METHODS::contains)
        .forEach(method -> documented.add(method.toUpperCase(Locale.ROOT) + " " + key));
    });

    Set<String> undocumented = new TreeSet<>(routed);
    undocumented.removeAll(documented);
    Set<String> unrouted = new TreeSet<>(documented);
    unrouted.removeAll(routed);
    assertTrue(undocumented.isEmpty() && unrouted.isEmpty(),
      "routes without documentation in src/main/resources/openapi/openapi.json:" + list(undocumented)
        + "\ndocumented operations without a route:" + list(unrouted));
    // The route table is there (guards against comparing two empty sets).
    for (String expected : List.of("GET /health", "POST " + BASE + "/token", "GET " + BASE + "/user",
      "PUT " + BASE + "/admin/users/{id}", "GET /openapi.json", "GET /docs")) {
      assertTrue(routed.contains(expected), expected + " not among " + routed);
    }
  }

  @Test
  void documentIsOpenApi31JsonWithTheConfiguredExternalUrlAsServer() {
    TestApp.Response r = app.get("/openapi.json");
    assertEquals(200, r.status(), r.raw());
    assertTrue(r.header("Content-Type").startsWith("application/json"), r.header("Content-Type"));
    JsonObject body = r.json();
    assertTrue(body.getString("openapi", "").matches("3\\.1\\.\\d+"), "openapi: " + body.getValue("openapi"));
    assertNotNull(body.getJsonObject("info").getString("title"));
    assertNotNull(body.getJsonObject("info").getString("version"));
    JsonArray servers = body.getJsonArray("servers");
    assertEquals(1, servers.size(), servers.encode());
    assertEquals(app.config.externalUrl(), servers.getJsonObject(0).getString("url"));
    assertEquals("http://127.0.0.1:" + app.port, servers.getJsonObject(0).getString("url"));

    JsonObject schemes = body.getJsonObject("components").getJsonObject("securitySchemes");
    assertEquals("bearer", schemes.getJsonObject("bearerAuth").getString("scheme"));
    JsonObject password = schemes.getJsonObject("oauth2").getJsonObject("flows").getJsonObject("password");
    assertEquals(BASE + "/token", password.getString("tokenUrl"));
  }

  @Test
  void everyReferenceResolvesAndEveryOperationIsComplete() {
    List<String> problems = new ArrayList<>();
    collectRefs(doc, "#", problems);
    Set<String> operationIds = new HashSet<>();
    forEachOperation((where, operation) -> {
      String id = operation.getString("operationId");
      if (id == null || !operationIds.add(id)) {
        problems.add(where + ": missing or repeated operationId " + id);
      }
      JsonObject responses = operation.getJsonObject("responses");
      if (responses == null || responses.fieldNames().stream().noneMatch(s -> s.startsWith("2") || s.startsWith("3"))) {
        problems.add(where + ": no success response");
      }
      if (operation.getJsonArray("tags") == null || operation.getString("summary") == null) {
        problems.add(where + ": no tag or summary");
      }
      Set<String> declared = new HashSet<>();
      for (Object p : operation.getJsonArray("parameters", new JsonArray())) {
        JsonObject parameter = resolve((JsonObject) p);
        if ("path".equals(parameter.getString("in"))) {
          declared.add(parameter.getString("name"));
        }
      }
      Matcher params = DOC_PARAM.matcher(where.substring(where.indexOf(' ') + 1));
      Set<String> inPath = new HashSet<>();
      while (params.find()) {
        inPath.add(params.group(1));
      }
      if (!inPath.equals(declared)) {
        problems.add(where + ": path parameters " + inPath + " but declared " + declared);
      }
    });
    assertEquals(List.of(), problems);
  }

  @Test
  void documentedErrorCodesAreTheServiceErrorCodesWithTheirStatus() {
    Set<String> serviceCodes = new TreeSet<>();
    for (ErrorCode code : ErrorCode.values()) {
      serviceCodes.add(code.code());
    }
    JsonObject schemas = doc.getJsonObject("components").getJsonObject("schemas");
    for (String shape : List.of("ErrorLegacy", "ErrorVersioned")) {
      JsonObject properties = schemas.getJsonObject(shape).getJsonObject("properties");
      JsonObject codeSchema = properties.getJsonObject(shape.equals("ErrorLegacy") ? "error_code" : "code");
      assertEquals(serviceCodes, new TreeSet<>(codeSchema.getJsonArray("enum").getList()), shape);
    }

    List<String> problems = new ArrayList<>();
    forEachOperation((where, operation) -> {
      boolean bearer = operation.getJsonArray("security", new JsonArray()).stream()
        .anyMatch(s -> ((JsonObject) s).containsKey("bearerAuth"));
      JsonObject responses = operation.getJsonObject("responses");
      if (bearer && !(responses.containsKey("401") && responses.containsKey("403"))) {
        problems.add(where + ": a Bearer route without 401 and 403");
      }
      responses.forEach(entry -> {
        int status = Integer.parseInt(entry.getKey());
        if (status < 400 || where.equals("GET /ready")) {
          // Readiness answers its own report, also when it is 503.
          return;
        }
        JsonObject json = ((JsonObject) entry.getValue()).getJsonObject("content").getJsonObject("application/json");
        if (!json.getJsonObject("schema").getString("$ref", "").endsWith("/Error")) {
          problems.add(where + " " + status + ": not the Error schema");
        }
        JsonObject examples = json.getJsonObject("examples", new JsonObject());
        if (examples.isEmpty()) {
          problems.add(where + " " + status + ": no error code named");
        }
        examples.forEach(example -> {
          JsonObject value = resolve((JsonObject) example.getValue()).getJsonObject("value");
          String code = value.getString("error_code");
          if (!example.getKey().equals(code) || !serviceCodes.contains(code) || value.getInteger("code") != status) {
            problems.add(where + " " + status + ": example " + example.getKey() + " is " + value.encode());
          }
          String description = ((JsonObject) entry.getValue()).getString("description");
          if (!description.contains("`" + code + "`")) {
            problems.add(where + " " + status + ": description does not name " + code);
          }
        });
      });
    });
    assertEquals(List.of(), problems);
  }

  @Test
  void schemasDescribeWhatTheServiceAnswers() {
    String email = TestApp.uniqueEmail();
    TestApp.Response signup = app.postJson(BASE + "/signup",
      new JsonObject().put("email", email).put("password", "correct horse").put("data", new JsonObject().put("a", 1)));
    assertEquals(200, signup.status(), signup.raw());
    assertConforms("Session", signup.json());
    String token = signup.json().getString("access_token");

    TestApp.Response form = app.postForm(BASE + "/token",
      "grant_type=password&username=" + email.replace("@", "%40") + "&password=correct+horse&scope=");
    assertEquals(200, form.status(), form.raw());
    assertConforms("Session", form.json());
    TestApp.Response user = app.get(BASE + "/user", TestApp.bearer(token));
    assertEquals(200, user.status(), user.raw());
    assertConforms("User", user.json());
    TestApp.Response userinfo = app.get(BASE + "/userinfo", TestApp.bearer(token));
    assertEquals(200, userinfo.status(), userinfo.raw());
    assertConforms("UserInfo", userinfo.json());

    for (Map.Entry<String, String> meta : Map.of("/health", "Liveness", "/ready", "Readiness",
      BASE + "/settings", "Settings", BASE + "/health", "AuthHealth", BASE + "/.well-known/jwks.json", "Jwks",
      BASE + "/.well-known/openid-configuration", "OpenIdConfiguration").entrySet()) {
      TestApp.Response r = app.get(meta.getKey());
      assertEquals(200, r.status(), meta.getKey() + ": " + r.raw());
      assertConforms(meta.getValue(), r.json());
    }

    TestApp.Response legacy = app.postForm(BASE + "/token",
      "grant_type=password&username=" + email.replace("@", "%40") + "&password=wrong");
    assertEquals(400, legacy.status(), legacy.raw());
    assertEquals("invalid_credentials", legacy.errorCode());
    assertConforms("Error", legacy.json());
    assertConforms("ErrorLegacy", legacy.json());
    TestApp.Response versioned = app.get(BASE + "/user", ErrorShapes.VERSIONED);
    assertEquals(401, versioned.status(), versioned.raw());
    assertEquals("no_authorization", versioned.errorCode());
    assertConforms("ErrorVersioned", versioned.json());
    TestApp.Response weak = app.postJson(BASE + "/signup",
      new JsonObject().put("email", TestApp.uniqueEmail()).put("password", "x"));
    assertEquals(422, weak.status(), weak.raw());
    assertEquals("weak_password", weak.errorCode());
    assertConforms("ErrorLegacy", weak.json());
  }

  @Test
  void docsPageLoadsSwaggerUiFromThisServerPointedAtTheDocument() {
    TestApp.Response page = app.get("/docs");
    assertEquals(200, page.status(), page.raw());
    assertTrue(page.header("Content-Type").startsWith("text/html"), page.header("Content-Type"));
    assertTrue(page.raw().contains("url: \"/openapi.json\""), page.raw());
    Matcher sources = Pattern.compile("(?:src|href)=\"([^\"]+)\"").matcher(page.raw());
    List<String> assets = new ArrayList<>();
    while (sources.find()) {
      assets.add(sources.group(1));
    }
    assertTrue(assets.contains("/docs/swagger-ui-bundle.js"), assets.toString());
    for (String asset : assets) {
      assertTrue(asset.startsWith("/docs/"), "not from this server: " + asset);
      TestApp.Response file = app.get(asset);
      assertEquals(200, file.status(), asset);
      assertFalse(file.raw().isEmpty(), asset);
    }
    assertTrue(app.get("/docs/swagger-ui-bundle.js").header("Content-Type").contains("javascript"));
    assertTrue(app.get("/docs/swagger-ui.css").header("Content-Type").startsWith("text/css"));

    // Not the webjar's own page and initializer: they would load the petstore demo from the Internet.
    for (String absent : List.of("/docs/no-such-file.js", "/docs/index.html", "/docs/swagger-initializer.js")) {
      TestApp.Response missing = app.get(absent);
      assertEquals(404, missing.status(), absent + ": " + missing.raw());
      assertEquals("not_found", missing.errorCode(), absent);
    }
    TestApp.Response slash = app.get("/docs/");
    assertEquals(200, slash.status(), slash.raw());
    assertEquals(page.raw(), slash.raw());
  }

  @Test
  void theServicesOwnOriginMayPostAsSwaggerUiDoes() {
    // Browsers send Origin on same-origin POSTs too; /docs is served from the external URL.
    String email = TestApp.uniqueEmail();
    app.signUp(email, "correct horse");
    TestApp.Response r = app.postForm(BASE + "/token",
      "grant_type=password&username=" + email.replace("@", "%40") + "&password=correct+horse",
      "Origin", app.config.externalUrl());
    assertEquals(200, r.status(), r.raw());
    assertEquals(app.config.externalUrl(), r.header("Access-Control-Allow-Origin"));

    TestApp.Response other = app.postForm(BASE + "/token",
      "grant_type=password&username=" + email.replace("@", "%40") + "&password=correct+horse",
      "Origin", "http://127.0.0.1:1");
    assertEquals(403, other.status(), other.raw());
    assertEquals("origin_not_allowed", other.errorCode());
  }

  // ---- the document ----

  private interface OperationVisitor {
    void visit(String where, JsonObject operation);
  }

  private static void forEachOperation(OperationVisitor visitor) {
    doc.getJsonObject("paths").forEach(path -> ((JsonObject) path.getValue()).forEach(op -> {
      if (METHODS.contains(op.getKey())) {
        visitor.visit(op.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey(), (JsonObject) op.getValue());
      }
    }));
  }

  private static void collectRefs(Object node, String where, List<String> problems) {
    if (node instanceof JsonObject object) {
      if (object.getValue("$ref") instanceof String ref && pointer(ref) == null) {
        problems.add(where + ": unresolved " + ref);
      }
      object.forEach(e -> collectRefs(e.getValue(), where + "/" + e.getKey(), problems));
    } else if (node instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        collectRefs(array.getValue(i), where + "/" + i, problems);
      }
    }
  }

  private static JsonObject pointer(String ref) {
    if (!ref.startsWith("#/")) {
      return null;
    }
    Object node = doc;
    for (String part : ref.substring(2).split("/")) {
      if (!(node instanceof JsonObject object)) {
        return null;
      }
      node = object.getValue(part.replace("~1", "/").replace("~0", "~"));
    }
    return node instanceof JsonObject object ? object : null;
  }

  private static JsonObject resolve(JsonObject node) {
    return node.getValue("$ref") instanceof String ref ? resolve(pointer(ref)) : node;
  }

  // ---- a small JSON Schema check: enough to catch a field the document does not describe or a wrong type ----

  private static void assertConforms(String schema, Object value) {
    List<String> problems = new ArrayList<>();
    check(pointer("#/components/schemas/" + schema), value, "$", problems);
    assertEquals(List.of(), problems, schema + " does not describe " + value);
  }

  private static void check(JsonObject schema, Object value, String where, List<String> problems) {
    schema = resolve(schema);
    if (schema.containsKey("oneOf")) {
      int matching = 0;
      List<String> all = new ArrayList<>();
      for (Object branch : schema.getJsonArray("oneOf")) {
        List<String> branchProblems = new ArrayList<>();
        check((JsonObject) branch, value, where, branchProblems);
        matching += branchProblems.isEmpty() ? 1 : 0;
        all.addAll(branchProblems);
      }
      if (matching != 1) {
        problems.add(where + ": matches " + matching + " of oneOf " + all);
      }
      return;
    }
    Object type = schema.getValue("type");
    if (type != null) {
      List<?> types = type instanceof JsonArray array ? array.getList() : List.of(type);
      if (types.stream().noneMatch(t -> hasType((String) t, value))) {
        problems.add(where + ": " + value + " is not " + type);
        return;
      }
    }
    if (schema.containsKey("const") && !schema.getValue("const").equals(value)) {
      problems.add(where + ": " + value + " is not " + schema.getValue("const"));
    }
    if (schema.containsKey("enum") && !schema.getJsonArray("enum").contains(value)) {
      problems.add(where + ": " + value + " is not one of " + schema.getJsonArray("enum"));
    }
    if (value instanceof JsonObject object) {
      JsonObject properties = schema.getJsonObject("properties", new JsonObject());
      for (Object required : schema.getJsonArray("required", new JsonArray())) {
        if (!object.containsKey((String) required)) {
          problems.add(where + ": no " + required);
        }
      }
      if (schema.containsKey("maxProperties") && object.size() > schema.getInteger("maxProperties")) {
        problems.add(where + ": more than " + schema.getInteger("maxProperties") + " properties");
      }
      Object additional = schema.getValue("additionalProperties");
      for (String field : object.fieldNames()) {
        if (properties.containsKey(field)) {
          check(properties.getJsonObject(field), object.getValue(field), where + "." + field, problems);
        } else if (additional instanceof JsonObject extra) {
          check(extra, object.getValue(field), where + "." + field, problems);
        } else if (!Boolean.TRUE.equals(additional)) {
          problems.add(where + ": undocumented field " + field);
        }
      }
    } else if (value instanceof JsonArray array && schema.getJsonObject("items") != null) {
      for (int i = 0; i < array.size(); i++) {
        check(schema.getJsonObject("items"), array.getValue(i), where + "[" + i + "]", problems);
      }
    }
  }

  private static boolean hasType(String type, Object value) {
    return switch (type) {
      case "object" -> value instanceof JsonObject;
      case "array" -> value instanceof JsonArray;
      case "string" -> value instanceof String;
      case "integer" -> value instanceof Integer || value instanceof Long;
      case "number" -> value instanceof Number;
      case "boolean" -> value instanceof Boolean;
      case "null" -> value == null;
      default -> false;
    };
  }

  private static String list(Set<String> values) {
    return values.isEmpty() ? " none" : values.stream().collect(Collectors.joining("\n  ", "\n  ", ""));
  }
}
