package io.portcullis.session;

import io.portcullis.bus.Addresses;
import io.portcullis.it.CommandLine;
import io.portcullis.it.DbRows;
import io.portcullis.it.TestApp;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.portcullis.it.ErrorShapes.assertError;
import static io.portcullis.it.ErrorShapes.with;
import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET|DELETE /auth/v1/user/sessions[/{id}]}, the admin view of a user's sessions, and
 * {@code auth.sessions.list}: what is listed, and that an ended session's tokens are refused at once everywhere.
 */
class SessionManagementTest {

  private static final String PASSWORD = "password123";
  private static final String SESSIONS = BASE + "/user/sessions";

  static TestApp app;
  static String serviceKey;

  @BeforeAll
  static void start() {
    // The session cache on: ending a session must still be refused at once.
    app = TestApp.start(Map.of("PORTCULLIS_SESSIONS_CACHE_TTL_MS", "60000"));
    serviceKey = CommandLine.serviceKey(app);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static JsonObject signIn(String email, String userAgent) {
    TestApp.Response r = app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", PASSWORD), "User-Agent", userAgent);
    assertEquals(200, r.status(), r.raw());
    return r.json();
  }

  private static String sessionId(JsonObject session) {
    String payload = session.getString("access_token").split("\\.")[1];
    return new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(payload))).getString("session_id");
  }

  private static JsonArray list(JsonObject session) {
    TestApp.Response r = app.get(SESSIONS, bearer(session.getString("access_token")));
    assertEquals(200, r.status(), r.raw());
    return r.json().getJsonArray("sessions");
  }

  @Test
  void listShowsTheCallersSessionsNewestFirstWithDeviceAndCurrentFlag() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    JsonObject laptop = signIn(email, "Laptop/1.0");
    app.clock.advance(java.time.Duration.ofSeconds(5));
    JsonObject phone = signIn(email, "Phone/2.0");
    JsonObject stranger = app.signUp(TestApp.uniqueEmail(), PASSWORD);

    JsonArray sessions = list(laptop);
    assertEquals(3, sessions.size(), sessions.encodePrettily());
    JsonObject newest = sessions.getJsonObject(0);
    assertEquals(sessionId(phone), newest.getString("id"));
    assertEquals("Phone/2.0", newest.getString("user_agent"));
    assertEquals("127.0.0.1", newest.getString("ip"));
    assertEquals("aal1", newest.getString("aal"));
    assertEquals(false, newest.getBoolean("current"));
    assertNotNull(newest.getString("created_at"));
    assertNotNull(newest.getString("refreshed_at"));
    JsonObject second = sessions.getJsonObject(1);
    assertEquals(sessionId(laptop), second.getString("id"));
    assertEquals("Laptop/1.0", second.getString("user_agent"));
    assertEquals(true, second.getBoolean("current"));
    assertFalse(sessions.encode().contains(sessionId(stranger)), "another user's session listed");
    for (Object s : sessions) {
      JsonObject entry = (JsonObject) s;
      assertFalse(entry.encode().contains("token"), "a session entry carries a token: " + entry);
    }
  }

  @Test
  void endingOneSessionRefusesItsTokensAtOnceEverywhereAndKeepsTheOthers() throws Exception {
    String email = TestApp.uniqueEmail();
    JsonObject keep = app.signUp(email, PASSWORD);
    JsonObject doomed = signIn(email, "Doomed/1.0");
    // Cached as alive (cache TTL 60 s) before it ends.
    assertEquals(200, app.get(BASE + "/user", bearer(doomed.getString("access_token"))).status());

    TestApp.Response ended = app.request("DELETE", SESSIONS + "/" + sessionId(doomed), null, null,
      bearer(keep.getString("access_token")));
    assertEquals(204, ended.status(), ended.raw());
    assertEquals("", ended.raw());

    assertError(403, "session_not_found", h -> app.get(BASE + "/user", with(bearer(doomed.getString("access_token")), h)));
    assertError(400, "refresh_token_not_found", h -> app.postJson(BASE + "/token?grant_type=refresh_token",
      new JsonObject().put("refresh_token", doomed.getString("refresh_token")), h));
    ReplyException busRefusal = busFailure(Addresses.TOKENS_VERIFY,
      new JsonObject().put("token", doomed.getString("access_token")));
    assertEquals(403, busRefusal.failureCode());
    assertEquals("session_not_found", new JsonObject(busRefusal.getMessage()).getString("error_code"));
    TestApp.Response introspection = app.postForm(BASE + "/oauth/introspect", "token=" + doomed.getString("access_token"),
      bearer(serviceKey));
    assertEquals(200, introspection.status(), introspection.raw());
    assertEquals(false, introspection.json().getBoolean("active"));

    assertEquals(200, app.get(BASE + "/user", bearer(keep.getString("access_token"))).status());
    assertEquals(1, list(keep).size());
    assertEquals("user.signed_out", DbRows.string(app,
      "SELECT type FROM audit_log WHERE session_id = ?::uuid ORDER BY id DESC LIMIT 1", sessionId(doomed)));
  }

  @Test
  void endingTheCurrentSessionSignsTheCallerOut() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    TestApp.Response ended = app.request("DELETE", SESSIONS + "/" + sessionId(session), null, null,
      bearer(session.getString("access_token")));
    assertEquals(204, ended.status(), ended.raw());
    assertError(403, "session_not_found", h -> app.get(SESSIONS, with(bearer(session.getString("access_token")), h)));
  }

  @Test
  void anotherUsersSessionOrAnUnknownIdIsSessionNotFoundAndEndsNothing() {
    JsonObject mine = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    JsonObject theirs = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String token = mine.getString("access_token");
    assertError(404, "session_not_found", h -> app.request("DELETE", SESSIONS + "/" + sessionId(theirs), null, null,
      with(bearer(token), h)));
    assertError(404, "session_not_found", h -> app.request("DELETE", SESSIONS + "/" + UUID.randomUUID(), null, null,
      with(bearer(token), h)));
    assertError(404, "session_not_found", h -> app.request("DELETE", SESSIONS + "/not-a-uuid", null, null,
      with(bearer(token), h)));
    assertEquals(200, app.get(BASE + "/user", bearer(theirs.getString("access_token"))).status());
  }

  @Test
  void withoutTokenOrWithABadOneTheRoutesRefuse() {
    assertError(401, "no_authorization", h -> app.get(SESSIONS, h));
    assertError(403, "bad_jwt", h -> app.get(SESSIONS, with(bearer("garbage"), h)));
    assertError(401, "no_authorization", h -> app.request("DELETE", SESSIONS + "/" + UUID.randomUUID(), null, null, h));
  }

  @Test
  void adminListsAndEndsAUsersSessionsAndOthersCannot() {
    String email = TestApp.uniqueEmail();
    JsonObject first = app.signUp(email, PASSWORD);
    JsonObject second = signIn(email, "Second/1.0");
    String userId = first.getJsonObject("user").getString("id");
    String path = BASE + "/admin/users/" + userId + "/sessions";

    TestApp.Response listed = app.get(path, bearer(serviceKey));
    assertEquals(200, listed.status(), listed.raw());
    JsonArray sessions = listed.json().getJsonArray("sessions");
    assertEquals(2, sessions.size(), sessions.encode());
    assertEquals(sessionId(second), sessions.getJsonObject(0).getString("id"));

    TestApp.Response ended = app.request("DELETE", path + "/" + sessionId(second), null, null, bearer(serviceKey));
    assertEquals(204, ended.status(), ended.raw());
    assertError(403, "session_not_found", h -> app.get(BASE + "/user", with(bearer(second.getString("access_token")), h)));
    assertEquals(1, app.get(path, bearer(serviceKey)).json().getJsonArray("sessions").size());

    assertError(404, "session_not_found", h -> app.request("DELETE", path + "/" + sessionId(second), null, null,
      with(bearer(serviceKey), h)));
    assertError(404, "user_not_found", h -> app.get(BASE + "/admin/users/" + UUID.randomUUID() + "/sessions",
      with(bearer(serviceKey), h)));
    assertError(403, "not_admin", h -> app.get(path, with(bearer(first.getString("access_token")), h)));
    assertError(403, "not_admin", h -> app.request("DELETE", path + "/" + sessionId(first), null, null,
      with(bearer(first.getString("access_token")), h)));
  }

  @Test
  void busListsAUsersSessions() throws Exception {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    String userId = session.getJsonObject("user").getString("id");
    JsonObject reply = app.vertx.eventBus().<JsonObject>request(Addresses.SESSIONS_LIST,
        new JsonObject().put("user_id", userId), new DeliveryOptions().setSendTimeout(10_000))
      .toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS).body();
    JsonArray sessions = reply.getJsonArray("sessions");
    assertEquals(1, sessions.size(), reply.encode());
    assertEquals(sessionId(session), sessions.getJsonObject(0).getString("id"));

    ReplyException bad = busFailure(Addresses.SESSIONS_LIST, new JsonObject().put("user_id", "nope"));
    assertEquals(400, bad.failureCode());
    assertEquals("validation_failed", new JsonObject(bad.getMessage()).getString("error_code"));
  }

  private static ReplyException busFailure(String address, JsonObject body) throws Exception {
    try {
      app.vertx.eventBus().request(address, body, new DeliveryOptions().setSendTimeout(10_000))
        .toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return assertInstanceOf(ReplyException.class, e.getCause());
    }
    throw new AssertionError(address + " answered " + body + " without failing");
  }
}
