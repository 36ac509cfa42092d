package io.portcullis.credential;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.DbRows;
import io.portcullis.it.ErrorShapes;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.OffsetDateTime;
import java.util.Map;
import java.util.UUID;

import static io.portcullis.it.ErrorShapes.assertError;
import static io.portcullis.it.ErrorShapes.with;
import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code POST /auth/v1/signup}: the session it answers, e-mail normalization, and every error it can give. */
@ExtendWith(AppExtension.class)
class SignupTest {

  private static final String SIGNUP = BASE + "/signup";
  private static final String PASSWORD = "password123";

  @App
  static TestApp app;

  private static JsonObject credentials(String email, String password) {
    return new JsonObject().put("email", email).put("password", password);
  }

  @Test
  void signupAnswersACompleteSessionWithoutAnyHash() {
    String email = TestApp.uniqueEmail();
    long before = app.clock.instant().getEpochSecond();
    TestApp.Response r = app.postJson(SIGNUP, credentials(email, PASSWORD));
    assertEquals(200, r.status(), r.raw());
    assertTrue(r.header("Content-Type").startsWith("application/json"));
    assertEquals("no-store", r.header("Cache-Control"));
    assertEquals("no-cache", r.header("Pragma"));
    JsonObject session = r.json();

    assertInstanceOf(String.class, session.getValue("access_token"));
    assertEquals(3, session.getString("access_token").split("\\.").length, "a JWT");
    assertEquals("bearer", session.getString("token_type"));
    long expiresIn = session.getLong("expires_in");
    assertTrue(expiresIn > 0);
    long expiresAt = session.getLong("expires_at");
    assertTrue(expiresAt >= before + expiresIn && expiresAt <= app.clock.instant().getEpochSecond() + expiresIn,
      "expires_at = now + expires_in");
    assertInstanceOf(String.class, session.getValue("refresh_token"));
    assertFalse(session.getString("refresh_token").isEmpty());

    JsonObject user = session.getJsonObject("user");
    assertNotNull(user);
    UUID.fromString(user.getString("id"));
    assertEquals("authenticated", user.getString("aud"));
    assertEquals("authenticated", user.getString("role"));
    assertEquals(email, user.getString("email"));
    assertEquals("email", user.getJsonObject("app_metadata").getString("provider"));
    assertEquals(new JsonArray().add("email"), user.getJsonObject("app_metadata").getJsonArray("providers"));
    assertEquals(new JsonObject(), user.getJsonObject("user_metadata"));
    JsonArray identities = user.getJsonArray("identities");
    assertEquals(1, identities.size());
    assertEquals("email", identities.getJsonObject(0).getString("provider"));
    OffsetDateTime.parse(user.getString("created_at"));
    OffsetDateTime.parse(user.getString("updated_at"));
    OffsetDateTime.parse(user.getString("email_confirmed_at"));
    assertEquals(false, user.getValue("is_anonymous"));

    assertFalse(r.raw().contains("encrypted_password"), r.raw());
    assertFalse(r.raw().contains("$argon2"), r.raw());
    assertFalse(r.raw().contains("$2b$"), r.raw());
    assertFalse(r.raw().contains(PASSWORD), r.raw());
  }

  @Test
  void emailIsStoredTrimmedAndLowerCasedAndASecondSignupInOtherCaseIsRefused() {
    TestApp.Response r = app.postJson(SIGNUP, credentials(" Mixed@Case.COM ", PASSWORD));
    assertEquals(200, r.status(), r.raw());
    assertEquals("mixed@case.com", r.json().getJsonObject("user").getString("email"));
    String id = r.json().getJsonObject("user").getString("id");
    assertEquals("mixed@case.com", DbRows.string(app, "SELECT email FROM users WHERE id = ?", UUID.fromString(id)));

    assertError(422, "user_already_exists", h -> app.postJson(SIGNUP, credentials("MIXED@case.Com", PASSWORD), h));
    assertError(422, "user_already_exists", h -> app.postJson(SIGNUP, credentials("mixed@case.com", "other-password"), h));
  }

  @Test
  void dataLandsInUserMetadata() {
    JsonObject data = new JsonObject().put("name", "Ada").put("prefs", new JsonObject().put("theme", "dark"));
    TestApp.Response r = app.postJson(SIGNUP, credentials(TestApp.uniqueEmail(), PASSWORD).put("data", data));
    assertEquals(200, r.status(), r.raw());
    assertEquals(data, r.json().getJsonObject("user").getJsonObject("user_metadata"));
  }

  @Test
  void invalidEmailIsAValidationFailure() {
    String tooLong = "a".repeat(250) + "@example.com";
    for (String email : new String[] {"not-an-email", "a@b", "@example.com", "two@@example.com", "sp ace@example.com",
      tooLong}) {
      assertError(400, "validation_failed", h -> app.postJson(SIGNUP, credentials(email, PASSWORD), h));
    }
  }

  @Test
  void shortPasswordIsWeakWithLengthReasonInBothShapes() {
    ErrorShapes.Both both = assertError(422, "weak_password",
      h -> app.postJson(SIGNUP, credentials(TestApp.uniqueEmail(), "short7!"), h));
    JsonArray length = new JsonArray().add("length");
    assertEquals(length, both.legacy().json().getJsonObject("weak_password").getJsonArray("reasons"));
    assertEquals(length, both.versioned().json().getJsonObject("weak_password").getJsonArray("reasons"));
  }

  @Test
  void passwordOver1024CharactersIsWeak() {
    String longPassword = "a".repeat(1025);
    assertError(422, "weak_password", h -> app.postJson(SIGNUP, credentials(TestApp.uniqueEmail(), longPassword), h));
    TestApp.Response exactly1024 = app.postJson(SIGNUP, credentials(TestApp.uniqueEmail(), "b".repeat(1024)));
    assertEquals(200, exactly1024.status(), exactly1024.raw());
  }

  @Test
  void missingOrMistypedFieldsAreValidationFailures() {
    String email = TestApp.uniqueEmail();
    JsonObject[] bodies = {
      new JsonObject().put("password", PASSWORD),
      new JsonObject().put("email", email),
      new JsonObject().put("email", "").put("password", PASSWORD),
      new JsonObject().put("email", email).put("password", ""),
      new JsonObject().put("email", 5).put("password", PASSWORD),
      new JsonObject().put("email", email).put("password", 12345678),
      credentials(email, PASSWORD).put("data", "x"),
      credentials(email, PASSWORD).put("data", new JsonArray().add(1)),
    };
    for (JsonObject body : bodies) {
      assertError(400, "validation_failed", h -> app.postJson(SIGNUP, body, h));
    }
    // No email, phone or password is an anonymous sign-in, off by default (as GoTrue answers it).
    assertError(422, "anonymous_provider_disabled", h -> app.postJson(SIGNUP, new JsonObject(), h));
    // None of them created the user.
    TestApp.Response r = app.postJson(SIGNUP, credentials(email, PASSWORD));
    assertEquals(200, r.status(), r.raw());
  }

  @Test
  void nulCharacterInEmailOrDataIsAValidationFailureNotAServerError() {
    assertError(400, "validation_failed",
      h -> app.postJson(SIGNUP, credentials("a\u0000b@example.com", PASSWORD), h));
    assertError(400, "validation_failed",
      h -> app.postJson(SIGNUP, credentials("tab\tin@example.com", PASSWORD), h));
    assertError(400, "validation_failed", h -> app.postJson(SIGNUP, credentials(TestApp.uniqueEmail(), PASSWORD)
      .put("data", new JsonObject().put("name", "a\u0000b")), h));
    assertError(400, "validation_failed", h -> app.postJson(SIGNUP, credentials(TestApp.uniqueEmail(), PASSWORD)
      .put("data", new JsonObject().put("nested", new JsonObject().put("k\u0000", 1))), h));
    // A backslash followed by "u0000" is plain text and stays.
    JsonObject text = new JsonObject().put("name", "\\u0000");
    TestApp.Response r = app.postJson(SIGNUP, credentials(TestApp.uniqueEmail(), PASSWORD).put("data", text));
    assertEquals(200, r.status(), r.raw());
    assertEquals(text, r.json().getJsonObject("user").getJsonObject("user_metadata"));
  }

  @Test
  void malformedJsonIsBadJson() {
    assertError(400, "bad_json", h -> app.request("POST", SIGNUP, "application/json", "{\"email\": ", h));
    assertError(400, "bad_json", h -> app.request("POST", SIGNUP, "application/json;charset=UTF-8", "not json", h));
  }

  @Test
  void jsonArrayBodyIsAValidationFailure() {
    String array = new JsonArray().add(credentials(TestApp.uniqueEmail(), PASSWORD)).encode();
    assertError(400, "validation_failed", h -> app.request("POST", SIGNUP, "application/json", array, h));
  }

  @Test
  void wrongContentTypeIsAValidationFailure() {
    String body = credentials(TestApp.uniqueEmail(), PASSWORD).encode();
    assertError(400, "validation_failed", h -> app.request("POST", SIGNUP, "text/plain", body, h));
  }

  @Test
  void bodyOver16KibIsTooLarge() {
    JsonObject body = credentials(TestApp.uniqueEmail(), PASSWORD)
      .put("data", new JsonObject().put("blob", "x".repeat(17 * 1024)));
    assertError(413, "request_too_large", h -> app.postJson(SIGNUP, body, h));
  }

  @Test
  void authorizationAndApikeyHeadersAreIgnored() {
    TestApp.Response r = app.postJson(SIGNUP, credentials(TestApp.uniqueEmail(), PASSWORD),
      with(TestApp.bearer("not-a-jwt"), "apikey", "sb_publishable_anything"));
    assertEquals(200, r.status(), r.raw());
    assertNotNull(r.json().getString("access_token"));
  }

  @Test
  void signupWhenDisabledIsRefused() {
    try (TestApp closed = TestApp.start(Map.of("PORTCULLIS_SIGNUP_DISABLED", "true"))) {
      assertEquals(true, closed.get(BASE + "/settings").json().getValue("disable_signup"));
      assertError(422, "signup_disabled",
        h -> closed.postJson(SIGNUP, credentials(TestApp.uniqueEmail(), PASSWORD), h));
    }
  }

  @Test
  void withoutAutoconfirmSignupAnswersABareUserThatCannotSignInYet() {
    try (TestApp confirming = TestApp.start(Map.of("PORTCULLIS_SIGNUP_AUTOCONFIRM", "false"))) {
      String email = TestApp.uniqueEmail();
      TestApp.Response r = confirming.postJson(SIGNUP, credentials(email, PASSWORD));
      assertEquals(200, r.status(), r.raw());
      JsonObject user = r.json();
      assertFalse(user.containsKey("access_token"), r.raw());
      assertFalse(user.containsKey("refresh_token"), r.raw());
      UUID.fromString(user.getString("id"));
      assertEquals(email, user.getString("email"));
      assertFalse(user.containsKey("email_confirmed_at"), r.raw());
      assertFalse(r.raw().contains("encrypted_password"), r.raw());

      assertError(400, "email_not_confirmed", h -> confirming.postJson(BASE + "/token?grant_type=password",
        credentials(email, PASSWORD), h));
    }
  }
}
