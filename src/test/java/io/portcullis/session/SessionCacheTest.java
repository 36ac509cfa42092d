package io.portcullis.session;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.DbRows;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Map;

import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Bearer routes remember session liveness for sessions.cache_ttl_ms, yet every change made through the service
 * (sign-out, password or profile change, refresh-token reuse) takes effect at once.
 */
@ExtendWith(AppExtension.class)
class SessionCacheTest {

  @App("PORTCULLIS_SESSIONS_CACHE_TTL_MS=60000")
  static TestApp app;

  @Test
  void livenessIsCachedUntilItsTtlForChangesBehindTheServicesBack() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), "pass-word-1");
    String token = session.getString("access_token");
    assertEquals(200, app.get(BASE + "/user", bearer(token)).status());

    // A row deleted behind the service's back is only noticed when the entry expires.
    DbRows.update(app, "DELETE FROM sessions WHERE user_id = ?::uuid", session.getJsonObject("user").getString("id"));
    assertEquals(200, app.get(BASE + "/user", bearer(token)).status(), "served from the cache");

    app.clock.advance(Duration.ofSeconds(61));
    TestApp.Response r = app.get(BASE + "/user", bearer(token));
    assertEquals(403, r.status());
    assertEquals("session_not_found", r.errorCode());
  }

  @Test
  void aSessionUsedLateInItsEntrysLifeIsCheckedAgainWhileTheCacheAnswers() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), "pass-word-1");
    String token = session.getString("access_token");
    assertEquals(200, app.get(BASE + "/user", bearer(token)).status());
    DbRows.update(app, "DELETE FROM sessions WHERE user_id = ?::uuid", session.getJsonObject("user").getString("id"));

    // Three quarters of the TTL on, a request is still answered from the cache, and the session is checked again.
    app.clock.advance(Duration.ofSeconds(50));
    assertEquals(200, app.get(BASE + "/user", bearer(token)).status(), "served from the cache");
    // The app's clock runs on from there: the entry itself would expire in 10 s.
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    TestApp.Response r = app.get(BASE + "/user", bearer(token));
    while (r.status() == 200 && System.nanoTime() < deadline) {
      r = app.get(BASE + "/user", bearer(token));
    }
    assertEquals(403, r.status(), "the ended session is seen before its entry's TTL runs out");
    assertEquals("session_not_found", r.errorCode());
  }

  @Test
  void signOutTakesEffectAtOnceDespiteTheCache() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), "pass-word-1");
    String token = session.getString("access_token");
    assertEquals(200, app.get(BASE + "/user", bearer(token)).status());

    assertEquals(204, app.postJson(BASE + "/logout?scope=local", null, bearer(token)).status());

    TestApp.Response r = app.get(BASE + "/user", bearer(token));
    assertEquals(403, r.status());
    assertEquals("session_not_found", r.errorCode());
  }

  @Test
  void aProfileChangeIsVisibleAtOnceAndAPasswordChangeEndsOtherSessionsAtOnce() {
    String email = TestApp.uniqueEmail();
    JsonObject first = app.signUp(email, "pass-word-1");
    JsonObject second = app.signIn(email, "pass-word-1");
    assertEquals(200, app.get(BASE + "/user", bearer(first.getString("access_token"))).status());
    assertEquals(200, app.get(BASE + "/user", bearer(second.getString("access_token"))).status());

    TestApp.Response updated = app.putJson(BASE + "/user", new JsonObject().put("data", new JsonObject().put("nick", "ada")),
      bearer(first.getString("access_token")));
    assertEquals(200, updated.status(), updated.raw());
    TestApp.Response me = app.get(BASE + "/user", bearer(first.getString("access_token")));
    assertEquals("ada", me.json().getJsonObject("user_metadata").getString("nick"));

    assertEquals(200, app.putJson(BASE + "/user", new JsonObject().put("password", "pass-word-2"),
      bearer(first.getString("access_token"))).status());
    TestApp.Response other = app.get(BASE + "/user", bearer(second.getString("access_token")));
    assertEquals(403, other.status());
    assertEquals("session_not_found", other.errorCode());
    assertEquals(200, app.get(BASE + "/user", bearer(first.getString("access_token"))).status());
  }

  @Test
  void refreshTokenReuseEndsTheCachedSessionAtOnce() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), "pass-word-1");
    String token = session.getString("access_token");
    String original = session.getString("refresh_token");
    assertEquals(200, app.get(BASE + "/user", bearer(token)).status());
    String child = app.refresh(original).json().getString("refresh_token");
    app.refresh(child);
    app.clock.advance(Duration.ofSeconds(11));

    TestApp.Response reused = app.refresh(original);
    assertEquals(400, reused.status());
    assertEquals("refresh_token_already_used", reused.errorCode());
    TestApp.Response r = app.get(BASE + "/user", bearer(token));
    assertEquals(403, r.status());
    assertEquals("session_not_found", r.errorCode());
  }
}
