package io.portcullis.credential;

import io.portcullis.it.CommandLine;
import io.portcullis.it.DbRows;
import io.portcullis.it.ErrorShapes;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The password policy (NIST SP 800-63B) on every way a password gets set: signup, PUT /user, the admin
 * API and the create-user command. A refusal is 422 weak_password with {@code weak_password.reasons} among
 * {@code length}, {@code characters}, {@code pwned}, in both error shapes, and writes nothing.
 */
class PasswordPolicyTest {

  private static final String USERS = BASE + "/admin/users";
  private static final String STRONG = "correct horse battery staple 42";
  private static final String STRONG_ALL_CLASSES = "Tr0ub4dor&3-horse";
  private static final Map<String, String> REJECT_COMMON = Map.of("PORTCULLIS_PASSWORD_REJECT_COMMON", "true");

  /** The default policy with the common-password check: at least 8 characters, not a common password. */
  static TestApp app;
  /** Also requires a lower-case letter, an upper-case letter, a digit and a symbol. */
  static TestApp strict;
  static String serviceKey;

  @BeforeAll
  static void start() {
    app = TestApp.start(REJECT_COMMON);
    serviceKey = CommandLine.serviceKey(app);
    strict = TestApp.start(Map.of("PORTCULLIS_PASSWORD_REJECT_COMMON", "true",
      "PORTCULLIS_PASSWORD_REQUIRED_CHARACTERS", "lower,upper,digit,symbol"));
  }

  @AfterAll
  static void stop() {
    try {
      strict.close();
    } finally {
      app.close();
    }
  }

  @Test
  void signupWithACommonPasswordIsWeakBecausePwnedInBothShapesAndCreatesNoUser() {
    for (String common : List.of("password123", "qwertyuiop", "PassWord123")) {
      String email = TestApp.uniqueEmail();

      ErrorShapes.Both both = ErrorShapes.assertError(422, "weak_password",
        headers -> app.postJson(BASE + "/signup", new JsonObject().put("email", email).put("password", common), headers));

      assertEquals(List.of("pwned"), reasons(both.legacy().json()), both.legacy().raw());
      assertEquals(List.of("pwned"), reasons(both.versioned().json()), both.versioned().raw());
      assertEquals("0", userCount(app, email));
    }
  }

  @Test
  void changingToACommonPasswordIsWeakAndKeepsTheOldOne() {
    String email = TestApp.uniqueEmail();
    String token = app.signUp(email, STRONG).getString("access_token");

    ErrorShapes.Both both = ErrorShapes.assertError(422, "weak_password",
      headers -> app.putJson(BASE + "/user", new JsonObject().put("password", "qwertyuiop"),
        ErrorShapes.with(bearer(token), headers)));

    assertEquals(List.of("pwned"), reasons(both.legacy().json()));
    assertEquals(List.of("pwned"), reasons(both.versioned().json()));
    app.signIn(email, STRONG);
    TestApp.Response withCommon = app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", "qwertyuiop"));
    assertEquals(400, withCommon.status(), withCommon.raw());
    assertEquals("invalid_credentials", withCommon.errorCode());
  }

  @Test
  void adminCreateAndUpdateWithACommonPasswordAreWeak() {
    String email = TestApp.uniqueEmail();

    TestApp.Response created = app.postJson(USERS,
      new JsonObject().put("email", email).put("password", "password123").put("email_confirm", true),
      bearer(serviceKey));

    assertWeak(created, "pwned");
    assertEquals("0", userCount(app, email));

    TestApp.Response strong = app.postJson(USERS,
      new JsonObject().put("email", email).put("password", STRONG).put("email_confirm", true), bearer(serviceKey));
    assertEquals(200, strong.status(), strong.raw());
    String id = strong.json().getString("id");
    TestApp.Response updated = app.putJson(USERS + "/" + id, new JsonObject().put("password", "qwertyuiop"),
      bearer(serviceKey));
    assertWeak(updated, "pwned");
    app.signIn(email, STRONG);
  }

  @Test
  void createUserCommandWithACommonPasswordExitsNonZeroAndCreatesNoUser() {
    String email = TestApp.uniqueEmail();

    CommandLine.Run run = CommandLine.run(app, REJECT_COMMON, "create-user", "--email", email, "--password", "password123");

    assertNotEquals(0, run.exit(), run.out());
    assertTrue(run.err().contains("weak_password"), run.err());
    assertEquals("0", userCount(app, email));
    CommandLine.Run strong = CommandLine.run(app, REJECT_COMMON, "create-user", "--email", email, "--password", STRONG);
    assertEquals(0, strong.exit(), strong.err());
    assertEquals("1", userCount(app, email));
  }

  @Test
  void tooShortAndTooLongPasswordsAreWeakBecauseOfLength() {
    assertWeak(signup(app, "Ab1!xyz"), "length");
    assertWeak(signup(app, "x".repeat(1025)), "length");
    TestApp.Response longest = signup(app, "x".repeat(1024));
    assertEquals(200, longest.status(), longest.raw());
  }

  @Test
  void requiredCharacterClassesAreCheckedOneByOne() {
    assertWeak(signup(strict, "lowercase only words"), "characters");
    assertWeak(signup(strict, "NoDigitsHere!"), "characters");
    assertWeak(signup(strict, "NoSymbols4You"), "characters");
    assertWeak(signup(strict, "no upper 4 you!"), "characters");
    assertWeak(signup(strict, "NO LOWER 4 YOU!"), "characters");
    TestApp.Response ok = signup(strict, STRONG_ALL_CLASSES);
    assertEquals(200, ok.status(), ok.raw());
  }

  @Test
  void aPasswordCanFailForSeveralReasonsAtOnce() {
    assertWeak(signup(strict, "password"), "characters", "pwned");
    assertWeak(signup(strict, "abc"), "length", "characters");
    assertWeak(signup(strict, "123456"), "length", "characters", "pwned");

    ErrorShapes.Both both = ErrorShapes.assertError(422, "weak_password",
      headers -> strict.postJson(BASE + "/signup",
        new JsonObject().put("email", TestApp.uniqueEmail()).put("password", "123456"), headers));
    assertEquals(Set.of("length", "characters", "pwned"), Set.copyOf(reasons(both.versioned().json())));
  }

  @Test
  void aStrongPasswordPassesEverywhere() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, STRONG);

    TestApp.Response changed = app.putJson(BASE + "/user", new JsonObject().put("password", STRONG + "!"),
      bearer(session.getString("access_token")));
    assertEquals(200, changed.status(), changed.raw());
    app.signIn(email, STRONG + "!");
    TestApp.Response created = app.postJson(USERS,
      new JsonObject().put("email", TestApp.uniqueEmail()).put("password", STRONG).put("email_confirm", true),
      bearer(serviceKey));
    assertEquals(200, created.status(), created.raw());
  }

  // ---- helpers ----

  private static TestApp.Response signup(TestApp target, String password) {
    return target.postJson(BASE + "/signup", new JsonObject().put("email", TestApp.uniqueEmail()).put("password", password));
  }

  /** 422 weak_password with exactly these reasons (in any order). */
  private static void assertWeak(TestApp.Response r, String... expected) {
    assertEquals(422, r.status(), r.raw());
    assertEquals("weak_password", r.errorCode(), r.raw());
    List<String> reasons = reasons(r.json());
    assertEquals(Set.of(expected), Set.copyOf(reasons), r.raw());
    assertEquals(expected.length, reasons.size(), r.raw());
  }

  private static List<String> reasons(JsonObject body) {
    JsonObject weak = body.getJsonObject("weak_password");
    assertNotNull(weak, "no weak_password in " + body.encode());
    JsonArray reasons = weak.getJsonArray("reasons");
    assertNotNull(reasons, "no weak_password.reasons in " + body.encode());
    return reasons.stream().map(String.class::cast).toList();
  }

  private static String userCount(TestApp target, String email) {
    return DbRows.string(target, "SELECT count(*) FROM users WHERE email = ?", email);
  }
}
