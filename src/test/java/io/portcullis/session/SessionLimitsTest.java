package io.portcullis.session;

import io.portcullis.it.CommandLine;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static io.portcullis.it.ErrorShapes.assertError;
import static io.portcullis.it.ErrorShapes.assertLegacy;
import static io.portcullis.it.ErrorShapes.with;
import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The optional session limits (off by default): a time-box (refresh answers session_expired and
 * Bearer routes session_not_found once past it, refreshing does not extend it), an inactivity timeout (refresh
 * answers session_expired after that long without a refresh; refreshing in time keeps the session), and one
 * session per user (a new sign-in ends the others).
 */
class SessionLimitsTest {

  private static final String USER = BASE + "/user";
  private static final String REFRESH = BASE + "/token?grant_type=refresh_token";
  private static final String INTROSPECT = BASE + "/oauth/introspect";
  private static final String PASSWORD = "password123";

  private static TestApp.Response me(TestApp app, JsonObject session) {
    return app.get(USER, bearer(session.getString("access_token")));
  }

  private static void assertSessionEnded(TestApp app, JsonObject session) {
    assertError(403, "session_not_found", h -> app.get(USER, with(bearer(session.getString("access_token")), h)));
  }

  /** A refresh that must fail: sent once, because a failing refresh may end the session (and change the answer). */
  private static void assertRefreshFails(TestApp app, JsonObject session, int status, String code) {
    TestApp.Response r = app.postJson(REFRESH, new JsonObject().put("refresh_token", session.getString("refresh_token")));
    assertLegacy(r, status, code);
  }

  private static JsonObject refreshed(TestApp app, JsonObject session) {
    TestApp.Response r = app.refresh(session.getString("refresh_token"));
    assertEquals(200, r.status(), r.raw());
    return r.json();
  }

  private static boolean active(TestApp app, String serviceKey, String token) {
    TestApp.Response r = app.postForm(INTROSPECT, "token=" + URLEncoder.encode(token, StandardCharsets.UTF_8),
      bearer(serviceKey));
    assertEquals(200, r.status(), r.raw());
    return r.json().getBoolean("active");
  }

  @Test
  void aTimeBoxedSessionEndsAtItsTimeBoxWhateverItsTokensSay() {
    // Access tokens outlive the time-box, so it is the session check that refuses them.
    try (TestApp app = TestApp.start(Map.of(
      "PORTCULLIS_SESSIONS_TIMEBOX_SECONDS", "3600",
      "PORTCULLIS_JWT_EXP", "7200"))) {
      String serviceKey = CommandLine.serviceKey(app);
      JsonObject first = app.signUp(TestApp.uniqueEmail(), PASSWORD);

      app.clock.advance(Duration.ofSeconds(1800));
      // Refreshing within the time-box works, and does not move it.
      JsonObject second = refreshed(app, first);
      assertEquals(200, me(app, first).status());
      assertEquals(200, me(app, second).status());

      app.clock.advance(Duration.ofSeconds(1801));

      assertSessionEnded(app, first);
      assertSessionEnded(app, second);
      assertEquals(false, active(app, serviceKey, second.getString("access_token")));
      assertEquals(false, active(app, serviceKey, second.getString("refresh_token")));
      assertRefreshFails(app, second, 400, "session_expired");
      // The expired session is gone: its tokens are now simply unknown.
      assertRefreshFails(app, second, 400, "refresh_token_not_found");
      assertSessionEnded(app, second);
      // A new sign-in gets a new time-box.
      JsonObject fresh = app.signIn(first.getJsonObject("user").getString("email"), PASSWORD);
      assertEquals(200, me(app, fresh).status());
      refreshed(app, fresh);
    }
  }

  @Test
  void aSessionUnrefreshedForTheInactivityTimeoutExpiresWhileOneRefreshedInTimeLives() {
    try (TestApp app = TestApp.start(Map.of("PORTCULLIS_SESSIONS_INACTIVITY_TIMEOUT_SECONDS", "600"))) {
      String serviceKey = CommandLine.serviceKey(app);
      JsonObject idle = app.signUp(TestApp.uniqueEmail(), PASSWORD);
      JsonObject busy = app.signUp(TestApp.uniqueEmail(), PASSWORD);

      // Refreshed every 500 s, the busy session lives well past 600 s.
      for (int i = 0; i < 4; i++) {
        app.clock.advance(Duration.ofSeconds(500));
        busy = refreshed(app, busy);
      }
      assertEquals(200, me(app, busy).status());

      assertEquals(false, active(app, serviceKey, idle.getString("refresh_token")));
      assertRefreshFails(app, idle, 400, "session_expired");
      assertSessionEnded(app, idle);
      assertRefreshFails(app, idle, 400, "refresh_token_not_found");

      // And the busy one expires too once left alone for 601 s.
      app.clock.advance(Duration.ofSeconds(601));
      assertRefreshFails(app, busy, 400, "session_expired");
    }
  }

  @Test
  void withOneSessionPerUserANewSignInEndsTheUsersOtherSessions() {
    try (TestApp app = TestApp.start(Map.of("PORTCULLIS_SESSIONS_SINGLE_PER_USER", "true"))) {
      String email = TestApp.uniqueEmail();
      JsonObject first = app.signUp(email, PASSWORD);
      JsonObject someoneElse = app.signUp(TestApp.uniqueEmail(), PASSWORD);

      JsonObject second = app.signIn(email, PASSWORD);

      assertSessionEnded(app, first);
      assertRefreshFails(app, first, 400, "refresh_token_not_found");
      assertEquals(200, me(app, second).status());
      JsonObject secondRefreshed = refreshed(app, second);
      assertEquals(200, me(app, secondRefreshed).status());
      // Another user's session is none of this sign-in's business.
      assertEquals(200, me(app, someoneElse).status());

      // Refreshing is no new sign-in: it ends nothing. A third sign-in ends the second session.
      JsonObject third = app.signIn(email, PASSWORD);
      assertSessionEnded(app, secondRefreshed);
      assertEquals(200, me(app, third).status());
    }
  }
}
