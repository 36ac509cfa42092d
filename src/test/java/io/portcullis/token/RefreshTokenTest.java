package io.portcullis.token;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.portcullis.bus.Addresses;
import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.DbRows;
import io.portcullis.it.TestApp;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Refresh-token rotation and the reuse rules, through HTTP against the whole app. */
@ExtendWith(AppExtension.class)
class RefreshTokenTest {

  private static final String PASSWORD = "password123";
  private static final String REFRESH = BASE + "/token?grant_type=refresh_token";
  /** One second past the default reuse interval of 10 s. */
  private static final Duration PAST_REUSE_INTERVAL = Duration.ofSeconds(11);

  // Several tests move the clock forward and the moves add up; access tokens carry iat from that clock while the
  // verifier uses real time, so widen the leeway to keep later tokens from looking "issued in the future".
  @App("PORTCULLIS_JWT_LEEWAY_SECONDS=300")
  static TestApp app;

  @Test
  void refreshRotatesBothTokensInTheSameSessionAndIncludesTheUser() throws ParseException {
    String email = TestApp.uniqueEmail();
    JsonObject first = app.signUp(email, PASSWORD);
    // A new second, so that the new access token's iat (and so the token) differs.
    app.clock.advance(Duration.ofSeconds(1));

    TestApp.Response r = app.refresh(first.getString("refresh_token"));

    assertEquals(200, r.status(), r.raw());
    JsonObject second = r.json();
    assertNotEquals(first.getString("refresh_token"), second.getString("refresh_token"));
    assertNotEquals(first.getString("access_token"), second.getString("access_token"));
    assertTrue(second.getString("refresh_token").length() >= 22, "refresh token shorter than 128 bits");
    assertEquals(sessionId(first), sessionId(second));
    assertEquals("bearer", second.getString("token_type"));
    assertTrue(second.getLong("expires_in") > 0);
    assertNotNull(second.getLong("expires_at"));
    assertEquals(first.getJsonObject("user").getString("id"), second.getJsonObject("user").getString("id"));
    assertEquals(email, second.getJsonObject("user").getString("email"));
    assertEquals("no-store", r.header("Cache-Control"));
    assertEquals("no-cache", r.header("Pragma"));
    TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(second.getString("access_token")));
    assertEquals(200, me.status(), me.raw());
    assertEquals(email, me.json().getString("email"));
  }

  @Test
  void refreshWithFormBodyRotatesTokens() throws ParseException {
    JsonObject first = app.signUp(TestApp.uniqueEmail(), PASSWORD);

    TestApp.Response r = app.postForm(BASE + "/token",
      "grant_type=refresh_token&refresh_token=" + urlEncode(first.getString("refresh_token")));

    assertEquals(200, r.status(), r.raw());
    assertNotEquals(first.getString("refresh_token"), r.json().getString("refresh_token"));
    assertEquals(sessionId(first), sessionId(r.json()));
    assertEquals(first.getJsonObject("user").getString("id"), r.json().getJsonObject("user").getString("id"));
  }

  @Test
  void refreshWithFormBodyAndGrantTypeInQueryRotatesTokens() {
    JsonObject first = app.signUp(TestApp.uniqueEmail(), PASSWORD);

    TestApp.Response r = app.postForm(REFRESH, "refresh_token=" + urlEncode(first.getString("refresh_token")));

    assertEquals(200, r.status(), r.raw());
    assertNotEquals(first.getString("refresh_token"), r.json().getString("refresh_token"));
  }

  @Test
  void formRefreshWithUnknownTokenFailsWithInvalidGrant() {
    TestApp.Response r = app.postForm(BASE + "/token", "grant_type=refresh_token&refresh_token=not-a-real-token");

    assertEquals(400, r.status(), r.raw());
    assertEquals("refresh_token_not_found", r.errorCode());
    assertEquals("invalid_grant", r.json().getString("error"));
    assertNotNull(r.json().getString("error_description"));
  }

  @Test
  void formRefreshWithReusedTokenFailsWithInvalidGrant() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String r0 = session.getString("refresh_token");
    String r1 = refreshed(r0);
    refreshed(r1);
    app.clock.advance(PAST_REUSE_INTERVAL);

    TestApp.Response r = app.postForm(BASE + "/token", "grant_type=refresh_token&refresh_token=" + urlEncode(r0));

    assertEquals(400, r.status(), r.raw());
    assertEquals("refresh_token_already_used", r.errorCode());
    assertEquals("invalid_grant", r.json().getString("error"));
  }

  @Test
  void reusingTheParentOfTheActiveTokenAnswersTheActiveChildEvenAfterTheReuseInterval() throws ParseException {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String r0 = session.getString("refresh_token");
    String r1 = refreshed(r0);
    app.clock.advance(PAST_REUSE_INTERVAL);

    TestApp.Response again = app.refresh(r0);

    assertEquals(200, again.status(), again.raw());
    assertEquals(r1, again.json().getString("refresh_token"));
    assertEquals(sessionId(session), sessionId(again.json()));
    assertEquals(200, app.get(BASE + "/user", TestApp.bearer(again.json().getString("access_token"))).status());
    // The session is intact: the active child still rotates.
    TestApp.Response next = app.refresh(r1);
    assertEquals(200, next.status(), next.raw());
    assertNotEquals(r1, next.json().getString("refresh_token"));
  }

  @Test
  void reusingAnOlderRevokedTokenWithinTheReuseIntervalAnswersTheActiveToken() throws ParseException {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String r0 = session.getString("refresh_token");
    String r1 = refreshed(r0);
    String r2 = refreshed(r1);

    TestApp.Response again = app.refresh(r0);

    assertEquals(200, again.status(), again.raw());
    assertEquals(r2, again.json().getString("refresh_token"));
    assertEquals(sessionId(session), sessionId(again.json()));
    TestApp.Response next = app.refresh(r2);
    assertEquals(200, next.status(), next.raw());
  }

  @Test
  void reusingARevokedNonParentTokenAfterTheReuseIntervalEndsTheWholeSession() throws Exception {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String r0 = session.getString("refresh_token");
    String r1 = refreshed(r0);
    TestApp.Response second = app.refresh(r1);
    assertEquals(200, second.status(), second.raw());
    String r2 = second.json().getString("refresh_token");
    String sessionId = sessionId(session);
    app.clock.advance(PAST_REUSE_INTERVAL);

    TestApp.Response reuse = app.refresh(r0);

    assertEquals(400, reuse.status(), reuse.raw());
    assertEquals("refresh_token_already_used", reuse.errorCode());
    for (String accessToken : new String[] {session.getString("access_token"), second.json().getString("access_token")}) {
      TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(accessToken));
      assertEquals(403, me.status(), me.raw());
      assertEquals("session_not_found", me.errorCode());
    }
    TestApp.Response active = app.refresh(r2);
    assertEquals(400, active.status(), active.raw());
    assertEquals("refresh_token_not_found", active.errorCode());
    assertEquals(1, count("SELECT count(*) FROM audit_log WHERE type = 'refresh_token.reused' AND session_id = ?",
      UUID.fromString(sessionId)));
    assertEquals(0, count("SELECT count(*) FROM sessions WHERE id = ?", UUID.fromString(sessionId)));
  }

  @Test
  void concurrentRefreshesOfOneTokenBothSucceedAndLeaveOneActiveToken() throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    for (int round = 0; round < 20; round++) {
      JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
      String body = new JsonObject().put("refresh_token", session.getString("refresh_token")).encode();
      HttpRequest request = HttpRequest.newBuilder(URI.create(app.url(REFRESH)))
        .timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();

      CompletableFuture<HttpResponse<String>> a = client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
      CompletableFuture<HttpResponse<String>> b = client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> first = a.get(30, TimeUnit.SECONDS);
      HttpResponse<String> second = b.get(30, TimeUnit.SECONDS);

      assertEquals(200, first.statusCode(), "round " + round + ": " + first.body());
      assertEquals(200, second.statusCode(), "round " + round + ": " + second.body());
      String firstToken = new JsonObject(first.body()).getString("refresh_token");
      assertNotEquals(session.getString("refresh_token"), firstToken);
      assertEquals(firstToken, new JsonObject(second.body()).getString("refresh_token"), "round " + round);
      UUID sessionId = UUID.fromString(sessionId(session));
      assertEquals(1, count("SELECT count(*) FROM refresh_tokens WHERE session_id = ? AND revoked_at IS NULL",
        sessionId), "round " + round);
      // One rotation, not two: the first token and its single child.
      assertEquals(2, count("SELECT count(*) FROM refresh_tokens WHERE session_id = ?", sessionId), "round " + round);
    }
  }

  @Test
  void unknownRefreshTokenIsNotFound() {
    TestApp.Response r = app.refresh("x7Qk2mVn0pLrT5wYzA8bCdEfGhIjKlMn");

    assertEquals(400, r.status(), r.raw());
    assertEquals("refresh_token_not_found", r.errorCode());
  }

  @Test
  void missingOrEmptyRefreshTokenFailsValidation() {
    for (JsonObject body : new JsonObject[] {new JsonObject(), new JsonObject().put("refresh_token", "")}) {
      TestApp.Response r = app.postJson(REFRESH, body);
      assertEquals(400, r.status(), body + " → " + r.raw());
      assertEquals("validation_failed", r.errorCode(), body.encode());
    }
    TestApp.Response form = app.postForm(BASE + "/token", "grant_type=refresh_token");
    assertEquals(400, form.status(), form.raw());
    assertEquals("validation_failed", form.errorCode());
    assertEquals("invalid_request", form.json().getString("error"));
  }

  @Test
  void refreshAfterLogoutIsNotFound() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    TestApp.Response logout = app.postJson(BASE + "/logout", null, TestApp.bearer(session.getString("access_token")));
    assertEquals(204, logout.status(), logout.raw());

    TestApp.Response r = app.refresh(session.getString("refresh_token"));

    assertEquals(400, r.status(), r.raw());
    assertEquals("refresh_token_not_found", r.errorCode());
  }

  @Test
  void refreshOfABannedUserIsRejected() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    UUID userId = UUID.fromString(session.getJsonObject("user").getString("id"));
    assertEquals(1, DbRows.update(app, "UPDATE users SET banned_until = now() + interval '1 day' WHERE id = ?", userId));

    TestApp.Response r = app.refresh(session.getString("refresh_token"));

    assertEquals(400, r.status(), r.raw());
    assertEquals("user_banned", r.errorCode());
  }

  @Test
  void refreshOverTheBusRotatesAndFailsLikeHttp() throws Exception {
    JsonObject first = app.signUp(TestApp.uniqueEmail(), PASSWORD);

    JsonObject second = app.vertx.eventBus()
      .<JsonObject>request(Addresses.TOKENS_REFRESH, new JsonObject().put("refresh_token", first.getString("refresh_token")))
      .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).body();

    assertNotEquals(first.getString("refresh_token"), second.getString("refresh_token"));
    assertEquals(sessionId(first), sessionId(second));
    assertEquals(first.getJsonObject("user").getString("id"), second.getJsonObject("user").getString("id"));
    ExecutionException failed = assertThrows(ExecutionException.class, () -> app.vertx.eventBus()
      .request(Addresses.TOKENS_REFRESH, new JsonObject().put("refresh_token", "not-a-real-token"))
      .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
    ReplyException reply = (ReplyException) failed.getCause();
    assertEquals(400, reply.failureCode());
    assertEquals("refresh_token_not_found", new JsonObject(reply.getMessage()).getString("error_code"));
  }

  // ---- helpers ----

  /** Refreshes and answers the new refresh token, failing unless the refresh succeeded. */
  private static String refreshed(String refreshToken) {
    TestApp.Response r = app.refresh(refreshToken);
    assertEquals(200, r.status(), r.raw());
    return r.json().getString("refresh_token");
  }

  private static String sessionId(JsonObject session) throws ParseException {
    JWTClaimsSet claims = SignedJWT.parse(session.getString("access_token")).getJWTClaimsSet();
    String id = claims.getStringClaim("session_id");
    assertNotNull(id, "access token without session_id");
    return id;
  }

  private static String urlEncode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private static long count(String sql, UUID id) {
    return DbRows.number(app, sql, id);
  }
}
