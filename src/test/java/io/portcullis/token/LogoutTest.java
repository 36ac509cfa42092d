package io.portcullis.token;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static io.portcullis.it.ErrorShapes.assertError;
import static io.portcullis.it.ErrorShapes.with;
import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code POST /auth/v1/logout?scope=global|local|others}: which sessions end, and what their tokens get after. */
@ExtendWith(AppExtension.class)
class LogoutTest {

  private static final String LOGOUT = BASE + "/logout";
  private static final String USER = BASE + "/user";
  private static final String REFRESH = BASE + "/token?grant_type=refresh_token";
  private static final String PASSWORD = "password123";
  /** What supabase-js sends on its bodiless POST. */
  private static final String JS_CONTENT_TYPE = "application/json;charset=UTF-8";

  @App
  static TestApp app;

  private static TestApp.Response logout(String query, JsonObject session, String... headers) {
    return app.request("POST", LOGOUT + query, JS_CONTENT_TYPE, null, with(bearer(session.getString("access_token")), headers));
  }

  private static void assertEnded(JsonObject session) {
    assertError(403, "session_not_found", h -> app.get(USER, with(bearer(session.getString("access_token")), h)));
    assertError(400, "refresh_token_not_found",
      h -> app.postJson(REFRESH, new JsonObject().put("refresh_token", session.getString("refresh_token")), h));
  }

  private static void assertAlive(JsonObject session) {
    TestApp.Response me = app.get(USER, bearer(session.getString("access_token")));
    assertEquals(200, me.status(), me.raw());
  }

  private static void assertRefreshes(JsonObject session) {
    TestApp.Response refreshed = app.refresh(session.getString("refresh_token"));
    assertEquals(200, refreshed.status(), refreshed.raw());
  }

  private static void assertNoContent(TestApp.Response r) {
    assertEquals(204, r.status(), r.raw());
    assertEquals("", r.raw());
  }

  @Test
  void logoutWithoutBodyAnswers204WithEmptyBody() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    assertNoContent(logout("", session, "X-Supabase-Api-Version", "2024-01-01", "X-Client-Info", "supabase-js/2.109.0"));
    assertEnded(session);
  }

  @Test
  void globalScopeEndsEverySessionOfTheUser() {
    String email = TestApp.uniqueEmail();
    JsonObject first = app.signUp(email, PASSWORD);
    JsonObject second = app.signIn(email, PASSWORD);
    JsonObject stranger = app.signUp(TestApp.uniqueEmail(), PASSWORD);

    assertNoContent(logout("?scope=global", second));

    assertEnded(first);
    assertEnded(second);
    assertAlive(stranger);
    assertRefreshes(stranger);
  }

  @Test
  void defaultScopeIsGlobal() {
    String email = TestApp.uniqueEmail();
    JsonObject first = app.signUp(email, PASSWORD);
    JsonObject second = app.signIn(email, PASSWORD);
    assertNoContent(logout("", first));
    assertEnded(first);
    assertEnded(second);
  }

  @Test
  void localScopeEndsOnlyTheCurrentSession() {
    String email = TestApp.uniqueEmail();
    JsonObject current = app.signUp(email, PASSWORD);
    JsonObject other = app.signIn(email, PASSWORD);

    assertNoContent(logout("?scope=local", current));

    assertEnded(current);
    assertAlive(other);
    assertRefreshes(other);
  }

  @Test
  void othersScopeEndsAllButTheCurrentSession() {
    String email = TestApp.uniqueEmail();
    JsonObject current = app.signUp(email, PASSWORD);
    JsonObject second = app.signIn(email, PASSWORD);
    JsonObject third = app.signIn(email, PASSWORD);

    assertNoContent(logout("?scope=others", current));

    assertEnded(second);
    assertEnded(third);
    assertAlive(current);
    assertRefreshes(current);
  }

  @Test
  void unknownScopeIsAValidationFailureAndEndsNothing() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    assertError(400, "validation_failed", h -> logout("?scope=everything", session, h));
    assertError(400, "validation_failed", h -> logout("?scope=", session, h));
    assertAlive(session);
  }

  @Test
  void logoutWithTheTokenOfAnEndedSessionIsSessionNotFound() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    assertNoContent(logout("?scope=local", session));
    assertError(403, "session_not_found", h -> logout("?scope=local", session, h));
    assertError(403, "session_not_found", h -> logout("", session, h));
  }

  @Test
  void logoutWithoutTokenIsNoAuthorization() {
    assertError(401, "no_authorization", h -> app.request("POST", LOGOUT, JS_CONTENT_TYPE, null, h));
    assertError(403, "bad_jwt", h -> app.request("POST", LOGOUT, JS_CONTENT_TYPE, null, with(bearer("garbage"), h)));
  }
}
