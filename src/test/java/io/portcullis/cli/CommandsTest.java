package io.portcullis.cli;

import io.portcullis.it.TempDirs;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.portcullis.bus.Addresses;
import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.CommandLine;
import io.portcullis.it.CommandLine.Run;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The command line, run in-process: the tools on a data directory nobody serves, and beside a running serve on the
 * same embedded PostgreSQL (they must connect to it, not start a second server).
 */
@ExtendWith(AppExtension.class)
class CommandsTest {

  private static final String PASSWORD = "password123";
  /** The commands and the serve share the issuer, as they would share conf/config.json in a deployment. */
  private static final String ISSUER = "http://portcullis.test/auth/v1";
  private static final Pattern JWT = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");

  @App("PORTCULLIS_JWT_ISSUER=" + ISSUER)
  static TestApp app;

  @Test
  void helpPrintsUsageAndSucceeds() {
    Run run = run(env(app.dataDir), "help");

    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains("create-user"), run.out());
    assertTrue(run.out().contains("service-key"), run.out());
  }

  @Test
  void unknownCommandExitsWithTwo() {
    Run run = run(env(app.dataDir), "frobnicate");

    assertEquals(2, run.exit());
    assertTrue(run.err().contains("frobnicate"), run.err());
  }

  @Test
  void invalidConfigurationExitsWithTwoNamingTheSettingAndItsVariable() throws IOException {
    Map<String, String> env = env(TempDirs.create("portcullis-cli"));
    env.put("PORTCULLIS_HTTP_PORT", "abc");

    Run run = run(env, "migrate");

    assertEquals(2, run.exit());
    assertTrue(run.err().contains("http.port"), run.err());
    assertTrue(run.err().contains("PORTCULLIS_HTTP_PORT"), run.err());
  }

  @Test
  void createUserRejectsBadInputBeforeTouchingTheDatabase() throws IOException {
    Map<String, String> env = env(TempDirs.create("portcullis-cli"));

    Run badEmail = run(env, "create-user", "--email", "bad", "--password", PASSWORD);
    Run shortPassword = run(env, "create-user", "--email", TestApp.uniqueEmail(), "--password", "short");
    Run badRole = run(env, "create-user", "--email", TestApp.uniqueEmail(), "--password", PASSWORD, "--role", "Bad Role");
    Run noPassword = run(env, "create-user", "--email", TestApp.uniqueEmail());

    assertNotEquals(0, badEmail.exit());
    assertTrue(badEmail.err().contains("validation_failed"), badEmail.err());
    assertNotEquals(0, shortPassword.exit());
    assertTrue(shortPassword.err().contains("weak_password"), shortPassword.err());
    assertNotEquals(0, badRole.exit());
    assertNotEquals(0, noPassword.exit());
  }

  @Test
  void toolsWorkWithoutAServeAndALaterServeAcceptsWhatTheyMade() throws Exception {
    Path dataDir = TempDirs.create("portcullis-cli");
    Map<String, String> env = env(dataDir);
    String email = TestApp.uniqueEmail();

    Run migrate = run(env, "migrate");
    assertEquals(0, migrate.exit(), migrate.err());
    Run created = run(env, "create-user", "--email", email, "--password", PASSWORD);
    assertEquals(0, created.exit(), created.err());
    JsonObject user = printedJson(created.out());
    UUID.fromString(user.getString("id"));
    assertEquals(email, user.getString("email"));
    assertEquals("authenticated", user.getString("role"));
    Run duplicate = run(env, "create-user", "--email", email.toUpperCase(), "--password", PASSWORD);
    assertNotEquals(0, duplicate.exit());
    assertTrue(duplicate.err().contains("user_already_exists"), duplicate.err());
    Run serviceKey = run(env, "service-key");
    assertEquals(0, serviceKey.exit(), serviceKey.err());
    String key = printedJwt(serviceKey.out());
    JWTClaimsSet claims = SignedJWT.parse(key).getJWTClaimsSet();
    assertEquals("service_role", claims.getStringClaim("role"));
    assertNull(claims.getSubject());
    assertNull(claims.getClaim("session_id"));
    assertTrue(claims.getExpirationTime().toInstant().isAfter(Instant.now().plus(Duration.ofDays(5 * 365))),
      "exp " + claims.getExpirationTime());

    try (TestApp later = TestApp.start(dataDir, Map.of("PORTCULLIS_JWT_ISSUER", ISSUER))) {
      JsonObject session = later.signIn(email, PASSWORD);
      assertEquals(user.getString("id"), session.getJsonObject("user").getString("id"));
      assertSignedByJwks(later, key);
      assertAcceptedOnTheBus(later, key);
    }
  }

  @Test
  void createUserBesideARunningServeConnectsToItsDatabase() {
    Map<String, String> env = env(app.dataDir);
    String email = TestApp.uniqueEmail();

    Run created = run(env, "create-user", "--email", email, "--password", PASSWORD);

    assertEquals(0, created.exit(), created.err());
    String id = printedJson(created.out()).getString("id");
    // The command has stopped its own connections; the serve's database must still be up and hold the user.
    JsonObject session = app.signIn(email, PASSWORD);
    assertEquals(id, session.getJsonObject("user").getString("id"));
    TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(session.getString("access_token")));
    assertEquals(200, me.status(), me.raw());
    Run duplicate = run(env, "create-user", "--email", email, "--password", PASSWORD);
    assertNotEquals(0, duplicate.exit());
    assertTrue(duplicate.err().contains("user_already_exists"), duplicate.err());
  }

  @Test
  void createUserWithRoleBesideARunningServeGivesTokensThatRole() throws Exception {
    String email = TestApp.uniqueEmail();

    Run created = run(env(app.dataDir), "create-user", "--email", email, "--password", PASSWORD, "--role", "admin");

    assertEquals(0, created.exit(), created.err());
    assertEquals("admin", printedJson(created.out()).getString("role"));
    JsonObject session = app.signIn(email, PASSWORD);
    assertEquals("admin", SignedJWT.parse(session.getString("access_token")).getJWTClaimsSet().getStringClaim("role"));
  }

  @Test
  void serviceKeyBesideARunningServeIsAcceptedByIt() throws Exception {
    Run run = run(env(app.dataDir), "service-key");

    assertEquals(0, run.exit(), run.err());
    String key = printedJwt(run.out());
    // What it logged (that it connects to the serve's embedded PostgreSQL) went to stderr instead.
    assertTrue(run.err().contains("PostgreSQL"), run.err());
    assertEquals("service_role", SignedJWT.parse(key).getJWTClaimsSet().getStringClaim("role"));
    assertSignedByJwks(app, key);
    assertAcceptedOnTheBus(app, key);
    TestApp.Response ready = app.get("/ready");
    assertEquals(200, ready.status(), ready.raw());
  }

  // ---- helpers ----

  private static Map<String, String> env(Path dataDir) {
    Map<String, String> env = new HashMap<>();
    env.put("PORTCULLIS_DATA_DIR", dataDir.toString());
    env.put("PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB", "64");
    env.put("PORTCULLIS_PASSWORD_REJECT_COMMON", "false");
    env.put("PORTCULLIS_PASSWORD_ARGON2_ITERATIONS", "1");
    env.put("PORTCULLIS_JWT_ISSUER", ISSUER);
    return env;
  }

  /**
   * Runs a command in this JVM, capturing what it prints on stdout and on stderr (where its log lines go); what the
   * running app's threads log meanwhile is not the command's.
   */
  private static Run run(Map<String, String> env, String... args) {
    Run run = CommandLine.capture(env, args);
    System.out.print(run.out());
    System.err.print(run.err());
    return run;
  }

  /** The pretty-printed JSON object create-user prints: from a line "{" to the next line "}". */
  private static JsonObject printedJson(String out) {
    List<String> lines = out.lines().toList();
    int start = lines.indexOf("{");
    assertTrue(start >= 0, "no JSON object in: " + out);
    int end = lines.subList(start, lines.size()).indexOf("}");
    assertTrue(end > 0, "unterminated JSON object in: " + out);
    return new JsonObject(String.join("\n", lines.subList(start, start + end + 1)));
  }

  /** service-key's stdout is the token alone, one line, so that TOKEN=$(... service-key) captures just it. */
  private static String printedJwt(String out) {
    assertTrue(out.endsWith("\n") && out.lines().count() == 1 && JWT.matcher(out.strip()).matches(),
      "stdout is not exactly one JWT line: " + out);
    return out.strip();
  }

  /** The token's kid is in the serve's JWKS and that key verifies the signature. */
  private static void assertSignedByJwks(TestApp serve, String token) throws Exception {
    SignedJWT jwt = SignedJWT.parse(token);
    String kid = jwt.getHeader().getKeyID();
    assertNotNull(kid, "service key without kid");
    JWKSet jwks = JWKSet.parse(serve.get(BASE + "/.well-known/jwks.json").raw());
    JWK key = jwks.getKeyByKeyId(kid);
    assertNotNull(key, "kid " + kid + " not in " + jwks);
    JWSVerifier verifier = new ECDSAVerifier(key.toECKey());
    assertTrue(jwt.verify(verifier), "signature does not verify against the JWKS");
  }

  /** auth.tokens.verify (same rules as Bearer routes) accepts the token. */
  private static void assertAcceptedOnTheBus(TestApp serve, String token) throws Exception {
    JsonObject reply = serve.vertx.eventBus()
      .<JsonObject>request(Addresses.TOKENS_VERIFY, new JsonObject().put("token", token))
      .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).body();
    assertEquals("service_role", reply.getJsonObject("claims").getString("role"));
  }
}
