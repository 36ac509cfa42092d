package io.portcullis.http;

import io.portcullis.it.BrowserHarness;
import io.portcullis.it.CommandLine;
import io.portcullis.it.Processes;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real FastAPI resource server, examples/fastapi/app.py (the FastAPI JWT tutorial with Portcullis as the token
 * issuer), run by uvicorn in a virtualenv with the pinned examples/fastapi/requirements.txt
 * (scripts/fastapi-venv makes it), against the whole service: sign-in by form as Swagger UI sends it, /users/me,
 * forged tokens refused, refresh by form, both kinds of admin, the three ways of seeing a sign-out, keys fetched
 * from another address than the issuer's (a container network), a key fetch that fails answered 503, and
 * "Authorize" on the app's own /docs in headless Chromium. Skipped without python3 or a virtualenv; the browser
 * test also without node, npm or Chromium.
 */
class FastApiResourceServerTest {

  private static final String PASSWORD = "fastapi password";
  private static final Path EXAMPLE = Processes.BASEDIR.resolve("examples/fastapi");
  private static final Path VENV = Processes.BASEDIR.resolve("target/fastapi-venv");
  private static final Path SWAGGER_UI = Processes.BASEDIR.resolve("target/fastapi-swagger-ui");
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static String unavailable;
  static TestApp app;
  static String serviceKey;
  static Uvicorn fastapi;

  @BeforeAll
  static void start() throws Exception {
    unavailable = prepareVenv();
    if (unavailable != null) {
      return;
    }
    int port = freePort();
    String origin = "http://127.0.0.1:" + port;
    // The FastAPI app's /docs is another origin than Portcullis: its "Authorize" is a cross-origin request.
    app = TestApp.start(Map.of("PORTCULLIS_CORS_ALLOWED_ORIGINS", origin));
    serviceKey = CommandLine.serviceKey(app);
    extractSwaggerUi();
    fastapi = Uvicorn.start(port, Map.of(
      "ISSUER", app.config.jwt().issuer(),
      "SERVICE_KEY", serviceKey,
      "SWAGGER_UI_DIR", SWAGGER_UI.toString()));
  }

  @AfterAll
  static void stop() {
    if (fastapi != null) {
      fastapi.close();
    }
    if (app != null) {
      app.close();
    }
  }

  @Test
  void formSignInAsSwaggerUiSendsItGivesATokenFastApiAccepts() {
    String email = signedUp();

    TestApp.Response token = swaggerUiSignIn(email);

    assertEquals(200, token.status(), token.raw());
    assertEquals("bearer", token.json().getString("token_type"));
    HttpResponse<String> me = fastapi.get("/users/me", token.json().getString("access_token"));
    assertEquals(200, me.statusCode(), me.body());
    JsonObject user = new JsonObject(me.body());
    assertEquals(email, user.getString("email"));
    assertEquals(token.json().getJsonObject("user").getString("id"), user.getString("id"));
    assertEquals("authenticated", user.getString("role"));
  }

  @Test
  void noTokenAndForgedTokensAreRefusedWith401() throws Exception {
    requireFastApi();
    String token = swaggerUiSignIn(signedUp()).json().getString("access_token");
    String[] parts = token.split("\\.");
    JsonObject header = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
    String kid = header.getString("kid");
    assertNotNull(kid, header.encode());
    String payload = parts[1];

    byte[] signature = Base64.getUrlDecoder().decode(parts[2]);
    signature[0] ^= 0x01;
    String tampered = parts[0] + "." + payload + "." + b64(signature);

    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair foreign = generator.generateKeyPair();
    String foreignHeader = b64(new JsonObject().put("alg", "ES256").put("typ", "JWT").put("kid", kid));
    Signature es256 = Signature.getInstance("SHA256withECDSAinP1363Format");
    es256.initSign(foreign.getPrivate());
    es256.update((foreignHeader + "." + payload).getBytes(StandardCharsets.US_ASCII));
    String foreignKey = foreignHeader + "." + payload + "." + b64(es256.sign());

    String none = b64(new JsonObject().put("alg", "none").put("typ", "JWT").put("kid", kid)) + "." + payload + ".";

    // The classic confusion: HMAC keyed with the public key's PEM, which anyone can fetch from the JWKS.
    String hsHeader = b64(new JsonObject().put("alg", "HS256").put("typ", "JWT").put("kid", kid));
    Mac hmac = Mac.getInstance("HmacSHA256");
    String pem = publicKeyPem(kid, (ECPublicKey) foreign.getPublic());
    hmac.init(new SecretKeySpec(pem.getBytes(StandardCharsets.US_ASCII), "HmacSHA256"));
    String hs256 = hsHeader + "." + payload + "."
      + b64(hmac.doFinal((hsHeader + "." + payload).getBytes(StandardCharsets.US_ASCII)));

    assertEquals(200, fastapi.get("/users/me", token).statusCode());
    HttpResponse<String> missing = fastapi.get("/users/me", null);
    assertEquals(401, missing.statusCode(), missing.body());
    assertEquals("Not authenticated", new JsonObject(missing.body()).getString("detail"));
    Map<String, String> forged = Map.of("tampered signature", tampered, "foreign key under the real kid", foreignKey,
      "alg none", none, "HS256 keyed with the public key", hs256, "not a JWT", "not-a-jwt");
    forged.forEach((what, forgery) -> {
      HttpResponse<String> r = fastapi.get("/users/me", forgery);
      assertEquals(401, r.statusCode(), what + ": " + r.body());
      assertEquals("Could not validate credentials", new JsonObject(r.body()).getString("detail"), what);
      assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElse(null), what);
    });
  }

  @Test
  void refreshByFormGivesATokenFastApiAccepts() {
    JsonObject session = swaggerUiSignIn(signedUp()).json();

    TestApp.Response refreshed = app.postForm(BASE + "/token", "grant_type=refresh_token&refresh_token="
      + encode(session.getString("refresh_token")), "X-Requested-With", "XMLHttpRequest");

    assertEquals(200, refreshed.status(), refreshed.raw());
    String newToken = refreshed.json().getString("access_token");
    assertTrue(!newToken.equals(session.getString("access_token")));
    HttpResponse<String> me = fastapi.get("/users/me", newToken);
    assertEquals(200, me.statusCode(), me.body());
  }

  @Test
  void aRoleCheckingRouteAcceptsBothKindsOfAdminAndRefusesOthers() {
    requireFastApi();
    String byCommand = TestApp.uniqueEmail();
    CommandLine.Run created = CommandLine.run(app, "create-user", "--email", byCommand, "--password", PASSWORD,
      "--role", "admin");
    assertEquals(0, created.exit(), created.err());
    String byAppMetadata = signedUp();
    String id = app.signIn(byAppMetadata, PASSWORD).getJsonObject("user").getString("id");
    TestApp.Response promoted = app.putJson(BASE + "/admin/users/" + id, new JsonObject().put("app_metadata",
      new JsonObject().put("roles", new JsonArray().add("admin"))), bearer(serviceKey));
    assertEquals(200, promoted.status(), promoted.raw());

    for (String admin : List.of(byCommand, byAppMetadata)) {
      String token = swaggerUiSignIn(admin).json().getString("access_token");
      HttpResponse<String> reports = fastapi.get("/admin/reports", token);
      assertEquals(200, reports.statusCode(), admin + ": " + reports.body());
      JsonObject me = new JsonObject(fastapi.get("/users/me", token).body());
      assertEquals("admin", me.getString("role"), me.encode());
      assertEquals(new JsonArray().add("admin"), me.getJsonArray("roles"), me.encode());
    }
    String token = swaggerUiSignIn(signedUp()).json().getString("access_token");
    HttpResponse<String> refused = fastapi.get("/admin/reports", token);
    assertEquals(403, refused.statusCode(), refused.body());
    assertEquals("Requires the admin role", new JsonObject(refused.body()).getString("detail"));
  }

  /**
   * After sign-out the routes that ask Portcullis refuse at once; the JWKS-only one cannot know and accepts the
   * token until it expires. The token is issued with the service's clock set back so that it expires within
   * seconds of real time (the FastAPI app checks exp against its own clock).
   * The first three calls and the sign-out must fit in those seconds.
   */
  @Test
  void afterSignOutIntrospectionAndUserChecksRefuseAtOnceAndJwksOnlyAcceptsUntilExpiry() throws Exception {
    String email = signedUp();
    int exp = app.config.jwt().exp();
    // Back only while signing in: the service key the introspection route uses was issued at real time.
    Duration back = Duration.ofSeconds(exp - 25L);
    String token;
    app.clock.advance(back.negated());
    try {
      token = swaggerUiSignIn(email).json().getString("access_token");
    } finally {
      app.clock.advance(back);
    }
    for (String route : List.of("/users/me", "/users/me/introspected", "/users/me/from-auth-server")) {
      HttpResponse<String> r = fastapi.get(route, token);
      assertEquals(200, r.statusCode(), route + ": " + r.body());
      assertEquals(email, new JsonObject(r.body()).getString("email"), route);
    }

    TestApp.Response logout = app.request("POST", BASE + "/logout", null, null, bearer(token));
    assertEquals(204, logout.status(), logout.raw());

    for (String route : List.of("/users/me/introspected", "/users/me/from-auth-server")) {
      HttpResponse<String> r = fastapi.get(route, token);
      assertEquals(401, r.statusCode(), route + ": " + r.body());
      assertEquals("The session has ended", new JsonObject(r.body()).getString("detail"), route);
    }
    long expiresAt = new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]),
      StandardCharsets.UTF_8)).getLong("exp");
    HttpResponse<String> stillAccepted = fastapi.get("/users/me", token);
    assertTrue(Instant.now().getEpochSecond() < expiresAt, "the token expired before the check: the machine is slow");
    assertEquals(200, stillAccepted.statusCode(), stillAccepted.body());

    // Then, once exp has passed, the JWKS-only route refuses it too.
    int status = 200;
    Instant deadline = Instant.ofEpochSecond(expiresAt).plusSeconds(15);
    while (status == 200 && Instant.now().isBefore(deadline)) {
      Thread.sleep(250);
      status = fastapi.get("/users/me", token).statusCode();
    }
    assertEquals(401, status);
    assertTrue(Instant.now().getEpochSecond() >= expiresAt, "refused before exp");
  }

  /**
   * As in docker-compose.yml: tokens carry the public issuer, which the app cannot reach from where it runs. With
   * JWKS_URL and AUTH_URL on the address it can reach, the app works; with the issuer's address alone (the
   * tutorial's way), fetching the keys fails and the app answers 503, not 500.
   */
  @Test
  void anAppThatCannotReachThePublicIssuerFetchesKeysFromJwksUrlAndAnswers503WithoutIt() throws Exception {
    requireFastApi();
    try (TestApp inNetwork = TestApp.start(Map.of("PORTCULLIS_EXTERNAL_URL", "http://portcullis.invalid:9999"))) {
      String issuer = inNetwork.config.jwt().issuer();
      assertEquals("http://portcullis.invalid:9999/auth/v1", issuer);
      String email = TestApp.uniqueEmail();
      inNetwork.signUp(email, PASSWORD);
      String token = swaggerUiSignIn(inNetwork, email).json().getString("access_token");

      try (Uvicorn split = Uvicorn.start(freePort(), Map.of(
          "ISSUER", issuer,
          "AUTH_URL", inNetwork.url(BASE),
          "JWKS_URL", inNetwork.url(BASE + "/.well-known/jwks.json")))) {
        for (String route : List.of("/users/me", "/users/me/from-auth-server")) {
          HttpResponse<String> r = split.get(route, token);
          assertEquals(200, r.statusCode(), route + ": " + r.body());
          assertEquals(email, new JsonObject(r.body()).getString("email"), route);
        }
      }
      try (Uvicorn publicOnly = Uvicorn.start(freePort(), Map.of("ISSUER", issuer))) {
        HttpResponse<String> r = publicOnly.get("/users/me", token);
        assertEquals(503, r.statusCode(), r.body());
        assertEquals("The signing keys could not be fetched", new JsonObject(r.body()).getString("detail"));
      }
    }
  }

  @Test
  void authorizeOnTheFastApiDocsPageSignsInAtPortcullisAndTryItOutGetsTheUser() throws Exception {
    requireFastApi();
    assumeTrue(BrowserHarness.present(), BrowserHarness.absence() + ": the FastAPI /docs browser test needs them");
    BrowserHarness.install();
    String email = signedUp();

    JsonObject result = BrowserHarness.runScript("fastapi-docs.mjs", Map.of(
        "FASTAPI_URL", fastapi.url(""),
        "TOKEN_URL", app.url(BASE + "/token"),
        "E2E_EMAIL", email,
        "E2E_PASSWORD", PASSWORD),
      Processes.BASEDIR.resolve("target/fastapi-docs-failure.png"), Duration.ofSeconds(150));

    assertEquals(200, result.getInteger("status"), result.encode());
    assertEquals(email, result.getString("email"), result.encode());
    // What makes the browser preflight the cross-origin token request: the header CORS must allow.
    JsonObject sent = result.getJsonObject("tokenRequestHeaders");
    assertNotNull(sent.getString("x-requested-with"), result.encode());
    assertEquals(fastapi.url(""), sent.getString("origin"), result.encode());
  }

  // ---- helpers ----

  private static void requireFastApi() {
    assumeTrue(unavailable == null, unavailable);
  }

  private static String signedUp() {
    requireFastApi();
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    return email;
  }

  /** The password grant exactly as Swagger UI's "Authorize" sends it: a form, Basic with an empty client. */
  private static TestApp.Response swaggerUiSignIn(String email) {
    return swaggerUiSignIn(app, email);
  }

  private static TestApp.Response swaggerUiSignIn(TestApp app, String email) {
    return app.postForm(BASE + "/token", "grant_type=password&username=" + encode(email) + "&password="
        + encode(PASSWORD),
      "Authorization", "Basic Og==", "X-Requested-With", "XMLHttpRequest",
      "Accept", "application/json, text/plain, */*");
  }

  /** The PEM of the real public key under {@code kid}, read from Portcullis's JWKS. */
  private static String publicKeyPem(String kid, ECPublicKey sameCurve) throws Exception {
    JsonObject jwks = app.get(BASE + "/.well-known/jwks.json").json();
    JsonObject jwk = jwks.getJsonArray("keys").stream().map(JsonObject.class::cast)
      .filter(k -> kid.equals(k.getString("kid"))).findFirst().orElseGet(() -> fail("no key " + kid + " in " + jwks));
    assertEquals("EC", jwk.getString("kty"), jwk.encode());
    ECPoint point = new ECPoint(new BigInteger(1, Base64.getUrlDecoder().decode(jwk.getString("x"))),
      new BigInteger(1, Base64.getUrlDecoder().decode(jwk.getString("y"))));
    PublicKey key = KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, sameCurve.getParams()));
    return "-----BEGIN PUBLIC KEY-----\n"
      + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
      + "\n-----END PUBLIC KEY-----\n";
  }

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String b64(JsonObject json) {
    return b64(json.encode().getBytes(StandardCharsets.UTF_8));
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Null when the virtualenv is ready, else why the FastAPI tests are skipped. */
  private static String prepareVenv() throws IOException, InterruptedException {
    Path python = Processes.onPath("python3");
    if (python == null) {
      return "python3 is not on PATH: the FastAPI resource-server tests need it";
    }
    Processes.Outcome made = Processes.run(List.of("bash", "scripts/fastapi-venv", VENV.toString()), Processes.BASEDIR,
      Map.of(), Duration.ofMinutes(10));
    if (made.exitCode() != 0) {
      return "No virtualenv with examples/fastapi/requirements.txt (scripts/fastapi-venv failed; python3-venv or the "
        + "package index missing?):\n" + made.output();
    }
    return null;
  }

  /** Swagger UI's files from the webjar /docs is served from, so the FastAPI app needs no CDN. */
  private static void extractSwaggerUi() throws IOException {
    ClassLoader loader = FastApiResourceServerTest.class.getClassLoader();
    Properties pom = new Properties();
    try (InputStream in = loader.getResourceAsStream("META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
      assertNotNull(in, "org.webjars:swagger-ui is not on the classpath");
      pom.load(in);
    }
    Files.createDirectories(SWAGGER_UI);
    for (String file : List.of("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")) {
      String name = "META-INF/resources/webjars/swagger-ui/" + pom.getProperty("version") + "/" + file;
      try (InputStream in = loader.getResourceAsStream(name)) {
        assertNotNull(in, name);
        Files.copy(in, SWAGGER_UI.resolve(file), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /** examples/fastapi/app.py under uvicorn on 127.0.0.1, its output in target/fastapi-*.log. */
  static final class Uvicorn implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path log;

    private Uvicorn(Process process, int port, Path log) {
      this.process = process;
      this.port = port;
      this.log = log;
    }

    static Uvicorn start(int port, Map<String, String> env) throws IOException, InterruptedException {
      Path log = Processes.BASEDIR.resolve("target/fastapi-" + port + ".log");
      ProcessBuilder builder = new ProcessBuilder(VENV.resolve("bin/python").toString(), "-m", "uvicorn", "app:app",
        "--host", "127.0.0.1", "--port", Integer.toString(port))
        .directory(EXAMPLE.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
      builder.environment().putAll(env);
      Uvicorn uvicorn = new Uvicorn(builder.start(), port, log);
      Instant deadline = Instant.now().plusSeconds(60);
      while (true) {
        try {
          if (uvicorn.get("/openapi.json", null).statusCode() == 200) {
            return uvicorn;
          }
        } catch (UncheckedIOException notYet) {
          // not listening yet
        }
        if (!uvicorn.process.isAlive() || Instant.now().isAfter(deadline)) {
          uvicorn.close();
          fail("uvicorn did not start on port " + port + ":\n" + Processes.read(log));
        }
        Thread.sleep(100);
      }
    }

    String url(String path) {
      return "http://127.0.0.1:" + port + path;
    }

    HttpResponse<String> get(String path, String token) {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(30));
      if (token != null) {
        request.header("Authorization", "Bearer " + token);
      }
      try {
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void close() {
      process.descendants().forEach(ProcessHandle::destroy);
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
