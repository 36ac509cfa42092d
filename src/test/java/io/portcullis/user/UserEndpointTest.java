package io.portcullis.user;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.DbRows;
import io.portcullis.it.ErrorShapes;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

import static io.portcullis.it.ErrorShapes.assertError;
import static io.portcullis.it.ErrorShapes.with;
import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code GET/PUT /auth/v1/user} and {@code GET /auth/v1/userinfo}: the caller's user, updates, and Bearer errors. */
@ExtendWith(AppExtension.class)
class UserEndpointTest {

  private static final String USER = BASE + "/user";
  private static final String PASSWORD = "password123";

  @App
  static TestApp app;

  private static String accessToken(JsonObject session) {
    return session.getString("access_token");
  }

  private static TestApp.Response put(String token, JsonObject body, String... headers) {
    return app.putJson(USER, body, with(bearer(token), headers));
  }

  @Test
  void getUserAnswersTheUserOfTheToken() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    TestApp.Response r = app.get(USER, bearer(accessToken(session)));
    assertEquals(200, r.status(), r.raw());
    JsonObject user = r.json();
    assertEquals(session.getJsonObject("user").getString("id"), user.getString("id"));
    assertEquals(email, user.getString("email"));
    assertEquals("authenticated", user.getString("role"));
    assertTrue(user.containsKey("app_metadata") && user.containsKey("user_metadata") && user.containsKey("identities"));
    assertFalse(r.raw().contains("encrypted_password"), r.raw());
    assertFalse(r.raw().contains("$argon2"), r.raw());
  }

  @Test
  void dataIsMergedKeyByKeyAndNullRemovesAKey() {
    String token = accessToken(app.signUp(TestApp.uniqueEmail(), PASSWORD));
    TestApp.Response first = put(token, new JsonObject().put("data", new JsonObject().put("a", 1).put("b", 2)));
    assertEquals(200, first.status(), first.raw());
    assertEquals(new JsonObject().put("a", 1).put("b", 2), first.json().getJsonObject("user_metadata"));

    TestApp.Response second = put(token, new JsonObject().put("data", new JsonObject().putNull("a").put("c", "x")));
    assertEquals(200, second.status(), second.raw());
    assertEquals(new JsonObject().put("b", 2).put("c", "x"), second.json().getJsonObject("user_metadata"));

    TestApp.Response read = app.get(USER, bearer(token));
    assertEquals(new JsonObject().put("b", 2).put("c", "x"), read.json().getJsonObject("user_metadata"));
  }

  @Test
  void emailChangesAtOnceWithAutoconfirm() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String newEmail = TestApp.uniqueEmail();
    TestApp.Response r = put(accessToken(session), new JsonObject().put("email", " " + newEmail.toUpperCase() + " "));
    assertEquals(200, r.status(), r.raw());
    assertEquals(newEmail, r.json().getString("email"));
    assertEquals(newEmail, app.get(USER, bearer(accessToken(session))).json().getString("email"));
    assertEquals(newEmail, app.signIn(newEmail, PASSWORD).getJsonObject("user").getString("email"));
  }

  @Test
  void emailOfAnotherUserInAnyCaseIsTaken() {
    String taken = TestApp.uniqueEmail();
    app.signUp(taken, PASSWORD);
    String email = TestApp.uniqueEmail();
    String token = accessToken(app.signUp(email, PASSWORD));
    assertError(422, "email_exists", h -> put(token, new JsonObject().put("email", taken), h));
    assertError(422, "email_exists", h -> put(token, new JsonObject().put("email", taken.toUpperCase()), h));
    assertEquals(email, app.get(USER, bearer(token)).json().getString("email"));
  }

  @Test
  void invalidEmailIsAValidationFailure() {
    String token = accessToken(app.signUp(TestApp.uniqueEmail(), PASSWORD));
    assertError(400, "validation_failed", h -> put(token, new JsonObject().put("email", "not-an-email"), h));
    assertError(400, "validation_failed", h -> put(token, new JsonObject().put("email", 5), h));
  }

  @Test
  void nulCharacterInEmailOrDataIsAValidationFailureNotAServerError() {
    String token = accessToken(app.signUp(TestApp.uniqueEmail(), PASSWORD));
    assertError(400, "validation_failed", h -> put(token, new JsonObject().put("email", "a\u0000b@example.com"), h));
    assertError(400, "validation_failed",
      h -> put(token, new JsonObject().put("data", new JsonObject().put("a", "x\u0000y")), h));
  }

  @Test
  void samePasswordIsRefused() {
    String token = accessToken(app.signUp(TestApp.uniqueEmail(), PASSWORD));
    assertError(422, "same_password", h -> put(token, new JsonObject().put("password", PASSWORD), h));
  }

  @Test
  void weakPasswordIsRefused() {
    String email = TestApp.uniqueEmail();
    String token = accessToken(app.signUp(email, PASSWORD));
    ErrorShapes.Both both = assertError(422, "weak_password", h -> put(token, new JsonObject().put("password", "short"), h));
    assertEquals(new JsonArray().add("length"),
      both.versioned().json().getJsonObject("weak_password").getJsonArray("reasons"));
    assertError(422, "weak_password", h -> put(token, new JsonObject().put("password", "a".repeat(1025)), h));
    app.signIn(email, PASSWORD);
  }

  @Test
  void newPasswordEndsTheOtherSessionsButKeepsTheCurrentOne() {
    String email = TestApp.uniqueEmail();
    JsonObject current = app.signUp(email, PASSWORD);
    JsonObject other = app.signIn(email, PASSWORD);
    JsonObject third = app.signIn(email, PASSWORD);
    String newPassword = "new-password-456";

    TestApp.Response r = put(accessToken(current), new JsonObject().put("password", newPassword));
    assertEquals(200, r.status(), r.raw());
    assertFalse(r.raw().contains(newPassword), r.raw());

    for (JsonObject ended : new JsonObject[] {other, third}) {
      assertError(403, "session_not_found", h -> app.get(USER, with(bearer(accessToken(ended)), h)));
      assertError(400, "refresh_token_not_found", h -> app.postJson(BASE + "/token?grant_type=refresh_token",
        new JsonObject().put("refresh_token", ended.getString("refresh_token")), h));
    }

    assertEquals(200, app.get(USER, bearer(accessToken(current))).status());
    TestApp.Response refreshed = app.refresh(current.getString("refresh_token"));
    assertEquals(200, refreshed.status(), refreshed.raw());

    app.signIn(email, newPassword);
    assertError(400, "invalid_credentials", h -> app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", PASSWORD), h));
  }

  @Test
  void malformedBodyIsBadJson() {
    String token = accessToken(app.signUp(TestApp.uniqueEmail(), PASSWORD));
    assertError(400, "bad_json", h -> app.request("PUT", USER, "application/json", "{\"data\": {", with(bearer(token), h)));
  }

  @Test
  void missingAuthorizationIsNoAuthorization() {
    assertError(401, "no_authorization", h -> app.get(USER, h));
    assertError(401, "no_authorization", h -> app.putJson(USER, new JsonObject().put("data", new JsonObject()), h));
    assertError(401, "no_authorization", h -> app.get(USER, with(new String[] {"Authorization", "Basic dXNlcjpwYXNz"}, h)));
    assertError(401, "no_authorization", h -> app.get(USER, with(new String[] {"Authorization", "Bearer"}, h)));
  }

  @Test
  void garbageBearerTokenIsBadJwt() {
    assertError(403, "bad_jwt", h -> app.get(USER, with(bearer("garbage"), h)));
    assertError(403, "bad_jwt", h -> app.get(USER, with(bearer("a.b.c"), h)));
    String token = accessToken(app.signUp(TestApp.uniqueEmail(), PASSWORD));
    String tampered = token.substring(0, token.length() - 4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    assertError(403, "bad_jwt", h -> app.get(USER, with(bearer(tampered), h)));
  }

  @Test
  void tokenOfADeletedUserIsUserNotFound() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    UUID id = UUID.fromString(session.getJsonObject("user").getString("id"));
    assertEquals(1, DbRows.update(app, "DELETE FROM users WHERE id = ?", id));
    assertError(403, "user_not_found", h -> app.get(USER, with(bearer(accessToken(session)), h)));
    assertError(403, "user_not_found",
      h -> put(accessToken(session), new JsonObject().put("data", new JsonObject().put("a", 1)), h));
  }

  @Test
  void bannedUserIsRefusedOnBearerRoutesAndGrants() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    UUID id = UUID.fromString(session.getJsonObject("user").getString("id"));
    OffsetDateTime until = OffsetDateTime.ofInstant(app.clock.instant().plus(Duration.ofDays(1)), ZoneOffset.UTC);
    assertEquals(1, DbRows.update(app, "UPDATE users SET banned_until = ? WHERE id = ?", until, id));

    assertError(403, "user_banned", h -> app.get(USER, with(bearer(accessToken(session)), h)));
    assertError(400, "user_banned", h -> app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", PASSWORD), h));
  }

  @Test
  void banThatHasEndedNoLongerApplies() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    UUID id = UUID.fromString(session.getJsonObject("user").getString("id"));
    OffsetDateTime past = OffsetDateTime.ofInstant(app.clock.instant().minus(Duration.ofMinutes(1)), ZoneOffset.UTC);
    DbRows.update(app, "UPDATE users SET banned_until = ? WHERE id = ?", past, id);
    assertEquals(200, app.get(USER, bearer(accessToken(session))).status());
    app.signIn(email, PASSWORD);
  }

  @Test
  void userinfoAnswersOidcClaims() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    TestApp.Response r = app.get(BASE + "/userinfo", bearer(accessToken(session)));
    assertEquals(200, r.status(), r.raw());
    JsonObject info = r.json();
    assertEquals(session.getJsonObject("user").getString("id"), info.getString("sub"));
    assertEquals(email, info.getString("email"));
    assertEquals(true, info.getValue("email_verified"));
    assertTrue(info.getValue("updated_at") instanceof Number, r.raw());

    assertError(401, "no_authorization", h -> app.get(BASE + "/userinfo", h));
  }
}
