package io.portcullis.credential;

import io.portcullis.it.TempDirs;
import io.portcullis.it.CommandLine;
import io.portcullis.it.ErrorShapes;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Per-account brute-force protection (Keycloak's model) through HTTP: from the third consecutive failure
 * on, sign-in waits 60 s, then 120 s, ... at most 900 s; while locked even the right password answers exactly
 * like a wrong one; a success or a quiet hour forgets the count; an admin can unlock. The state is in PostgreSQL,
 * so it holds across two instances on one database and across a restart.
 */
class LockoutTest {

  private static final String PASSWORD = "password123";
  private static final String WRONG = "not-the-password";
  private static final String PASSWORD_GRANT = BASE + "/token?grant_type=password";
  private static final int FAILURES = 3;
  private static final int WAIT_INCREMENT = 60;
  private static final int MAX_WAIT = 900;
  private static final int RESET_AFTER = 3600;
  private static final Map<String, String> LOCKOUT = Map.of(
    "PORTCULLIS_LOCKOUT_ENABLED", "true",
    "PORTCULLIS_LOCKOUT_FAILURES", Integer.toString(FAILURES),
    "PORTCULLIS_LOCKOUT_WAIT_INCREMENT_SECONDS", Integer.toString(WAIT_INCREMENT),
    "PORTCULLIS_LOCKOUT_MAX_WAIT_SECONDS", Integer.toString(MAX_WAIT),
    "PORTCULLIS_LOCKOUT_RESET_AFTER_SECONDS", Integer.toString(RESET_AFTER));

  static TestApp app;
  static String serviceKey;

  @BeforeAll
  static void start() {
    app = TestApp.start(LOCKOUT);
    serviceKey = CommandLine.serviceKey(app);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void afterThreeFailuresTheRightPasswordAnswersExactlyLikeAWrongOneUntilTheWaitIsOver() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    TestApp.Response wrong = signIn(app, email, WRONG);
    assertInvalidCredentials(wrong);
    TestApp.Response wrongVersioned = signIn(app, email, WRONG, ErrorShapes.VERSIONED);
    ErrorShapes.assertVersioned(wrongVersioned, 400, "invalid_credentials");
    assertInvalidCredentials(signIn(app, email, WRONG));

    TestApp.Response locked = signIn(app, email, PASSWORD);
    TestApp.Response lockedVersioned = signIn(app, email, PASSWORD, ErrorShapes.VERSIONED);

    assertInvalidCredentials(locked);
    assertEquals(wrong.raw(), locked.raw(), "a locked account's right password answers like a wrong one");
    assertEquals(wrong.header("Content-Type"), locked.header("Content-Type"));
    ErrorShapes.assertVersioned(lockedVersioned, 400, "invalid_credentials");
    assertEquals(wrongVersioned.raw(), lockedVersioned.raw());

    app.clock.advance(Duration.ofSeconds(WAIT_INCREMENT - 5));
    assertInvalidCredentials(signIn(app, email, PASSWORD));
    app.clock.advance(Duration.ofSeconds(6));
    assertSignedIn(signIn(app, email, PASSWORD));
  }

  @Test
  void aSuccessResetsTheFailureCount() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    failTimes(app, email, FAILURES - 1);
    assertSignedIn(signIn(app, email, PASSWORD));

    failTimes(app, email, FAILURES - 1);

    assertSignedIn(signIn(app, email, PASSWORD));
  }

  @Test
  void eachFurtherFailureWaitsLongerUpToTheMaximum() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    failTimes(app, email, FAILURES);
    app.clock.advance(Duration.ofSeconds(WAIT_INCREMENT + 1));

    // The fourth failure locks for twice the increment.
    assertInvalidCredentials(signIn(app, email, WRONG));
    app.clock.advance(Duration.ofSeconds(WAIT_INCREMENT + 1));
    assertInvalidCredentials(signIn(app, email, PASSWORD));
    app.clock.advance(Duration.ofSeconds(WAIT_INCREMENT));
    assertSignedIn(signIn(app, email, PASSWORD));

    // From scratch: failures 3..18 lock for 60, 120, ... and then never more than the maximum.
    int failures = MAX_WAIT / WAIT_INCREMENT + FAILURES;
    for (int n = 1; n <= failures; n++) {
      assertInvalidCredentials(signIn(app, email, WRONG));
      app.clock.advance(Duration.ofSeconds(n == failures ? 0 : MAX_WAIT + 1));
    }
    app.clock.advance(Duration.ofSeconds(MAX_WAIT - 5));
    assertInvalidCredentials(signIn(app, email, PASSWORD));
    app.clock.advance(Duration.ofSeconds(6));
    assertSignedIn(signIn(app, email, PASSWORD));
  }

  @Test
  void aQuietPeriodForgetsEarlierFailures() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    failTimes(app, email, FAILURES - 1);

    app.clock.advance(Duration.ofSeconds(RESET_AFTER + 1));
    failTimes(app, email, FAILURES - 1);

    assertSignedIn(signIn(app, email, PASSWORD));
  }

  @Test
  void anAdminUnlocksALockedAccount() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    String id = session.getJsonObject("user").getString("id");
    failTimes(app, email, FAILURES);
    assertInvalidCredentials(signIn(app, email, PASSWORD));

    TestApp.Response byUser = app.postJson(unlockPath(id), null, bearer(session.getString("access_token")));
    assertEquals(403, byUser.status(), byUser.raw());
    assertEquals("not_admin", byUser.errorCode());
    TestApp.Response unknown = app.postJson(unlockPath("00000000-0000-4000-8000-000000000000"), null,
      bearer(serviceKey));
    assertEquals(404, unknown.status(), unknown.raw());
    assertEquals("user_not_found", unknown.errorCode());

    TestApp.Response unlocked = app.postJson(unlockPath(id), null, bearer(serviceKey));

    assertEquals(200, unlocked.status(), unlocked.raw());
    assertEquals(id, unlocked.json().getString("id"));
    assertSignedIn(signIn(app, email, PASSWORD));
  }

  @Test
  void failuresOnOneInstanceLockTheOtherAndAnUnlockOnTheOtherFreesTheFirst() {
    Map<String, String> second = new HashMap<>(LOCKOUT);
    second.put("PORTCULLIS_DB_URL", "postgres://postgres@127.0.0.1:" + app.database.connectOptions().getPort() + "/postgres");
    // Tokens (the service key) verify on both only when both have one issuer.
    second.put("PORTCULLIS_JWT_ISSUER", app.config.jwt().issuer());
    try (TestApp other = TestApp.start(second)) {
      // Earlier tests moved this class's app's clock; instances of one deployment share the time.
      other.clock.advance(Duration.between(other.clock.instant(), app.clock.instant()));
      String email = TestApp.uniqueEmail();
      String id = app.signUp(email, PASSWORD).getJsonObject("user").getString("id");
      failTimes(app, email, FAILURES);

      assertInvalidCredentials(signIn(other, email, PASSWORD));

      TestApp.Response unlocked = other.postJson(unlockPath(id), null, bearer(serviceKey));
      assertEquals(200, unlocked.status(), unlocked.raw());
      assertSignedIn(signIn(app, email, PASSWORD));

      // And the other way round: failures counted on both add up.
      failTimes(other, email, FAILURES - 1);
      failTimes(app, email, 1);
      assertInvalidCredentials(signIn(other, email, PASSWORD));
      assertInvalidCredentials(signIn(app, email, PASSWORD));
    }
  }

  @Test
  void aLockSurvivesARestart() throws IOException {
    Path dataDir = TempDirs.create("portcullis-lockout");
    String email = TestApp.uniqueEmail();
    try (TestApp first = TestApp.start(dataDir, LOCKOUT)) {
      first.signUp(email, PASSWORD);
      failTimes(first, email, FAILURES);
    }

    try (TestApp second = TestApp.start(dataDir, LOCKOUT)) {
      assertInvalidCredentials(signIn(second, email, PASSWORD));
      second.clock.advance(Duration.ofSeconds(WAIT_INCREMENT + 1));
      assertSignedIn(signIn(second, email, PASSWORD));
    }
  }

  // ---- helpers ----

  private static String unlockPath(String id) {
    return BASE + "/admin/users/" + id + "/unlock";
  }

  private static void failTimes(TestApp target, String email, int times) {
    for (int i = 0; i < times; i++) {
      assertInvalidCredentials(signIn(target, email, WRONG));
    }
  }

  private static TestApp.Response signIn(TestApp target, String email, String password, String... headers) {
    return target.postJson(PASSWORD_GRANT, new JsonObject().put("email", email).put("password", password), headers);
  }

  private static void assertInvalidCredentials(TestApp.Response r) {
    assertEquals(400, r.status(), r.raw());
    assertEquals("invalid_credentials", r.errorCode(), r.raw());
  }

  private static void assertSignedIn(TestApp.Response r) {
    assertEquals(200, r.status(), r.raw());
    assertEquals("bearer", r.json().getString("token_type"), r.raw());
  }
}
