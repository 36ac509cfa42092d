package io.portcullis.token;

import com.nimbusds.jwt.SignedJWT;
import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.CommandLine;
import io.portcullis.it.DbRows;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Introspection of access tokens answers from the session liveness that Bearer routes keep (cached for
 * sessions.cache_ttl_ms), and every end made through the service (sign-out, ban, an admin ending a session, deletion)
 * makes the token inactive at once despite the cache.
 */
@ExtendWith(AppExtension.class)
class IntrospectionCacheTest {

  private static final String INTROSPECT = BASE + "/oauth/introspect";
  private static final String PASSWORD = "pass-word-1";

  @App("PORTCULLIS_SESSIONS_CACHE_TTL_MS=60000")
  static TestApp app;
  static String serviceKey;

  @BeforeAll
  static void start() {
    serviceKey = CommandLine.serviceKey(app);
  }

  private static boolean active(String token) {
    TestApp.Response r = app.postForm(INTROSPECT, "token=" + URLEncoder.encode(token, StandardCharsets.UTF_8),
      bearer(serviceKey));
    assertEquals(200, r.status(), r.raw());
    return r.json().getBoolean("active");
  }

  private static String userId(JsonObject session) {
    return session.getJsonObject("user").getString("id");
  }

  @Test
  void introspectionSharesTheBearerRoutesSessionStateUntilItsTtl() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String token = session.getString("access_token");
    assertEquals(true, active(token));

    // Behind the service's back: only the cache's TTL notices (the Bearer route and introspection alike).
    DbRows.update(app, "DELETE FROM sessions WHERE user_id = ?::uuid", userId(session));
    assertEquals(true, active(token), "answered from the session cache, without a query");
    assertEquals(200, app.get(BASE + "/user", bearer(token)).status());

    app.clock.advance(Duration.ofSeconds(61));
    assertEquals(false, active(token));
    assertEquals(403, app.get(BASE + "/user", bearer(token)).status());
  }

  @Test
  void signOutMakesTheCachedTokenInactiveAtOnce() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String token = session.getString("access_token");
    assertEquals(true, active(token));
    assertEquals(true, active(token));

    assertEquals(204, app.postJson(BASE + "/logout?scope=local", null, bearer(token)).status());

    assertEquals(false, active(token));
  }

  @Test
  void aBanMakesTheCachedTokenInactiveAtOnce() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String token = session.getString("access_token");
    assertEquals(true, active(token));

    TestApp.Response banned = app.putJson(BASE + "/admin/users/" + userId(session),
      new JsonObject().put("ban_duration", "24h"), bearer(serviceKey));
    assertEquals(200, banned.status(), banned.raw());

    assertEquals(false, active(token));
  }

  @Test
  void anAdminEndingTheSessionMakesTheCachedTokenInactiveAtOnce() throws Exception {
    String email = TestApp.uniqueEmail();
    JsonObject first = app.signUp(email, PASSWORD);
    JsonObject second = app.signIn(email, PASSWORD);
    assertEquals(true, active(first.getString("access_token")));
    assertEquals(true, active(second.getString("access_token")));
    String secondSession = SignedJWT.parse(second.getString("access_token")).getJWTClaimsSet()
      .getStringClaim("session_id");

    TestApp.Response ended = app.request("DELETE",
      BASE + "/admin/users/" + userId(first) + "/sessions/" + secondSession, null, null, bearer(serviceKey));
    assertEquals(204, ended.status(), ended.raw());

    assertEquals(false, active(second.getString("access_token")));
    assertEquals(true, active(first.getString("access_token")));
  }

  @Test
  void deletingTheUserMakesTheCachedTokenInactiveAtOnce() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String token = session.getString("access_token");
    assertEquals(true, active(token));

    TestApp.Response deleted = app.request("DELETE", BASE + "/admin/users/" + userId(session), null, null,
      bearer(serviceKey));
    assertEquals(200, deleted.status(), deleted.raw());

    assertEquals(false, active(token));
  }

  @Test
  void aServiceKeyIsActiveAndARefreshTokenStillFollowsItsRotation() {
    assertEquals(true, active(serviceKey));
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String refreshToken = session.getString("refresh_token");
    assertEquals(true, active(refreshToken));

    assertEquals(200, app.refresh(refreshToken).status());

    assertEquals(false, active(refreshToken));
  }
}
