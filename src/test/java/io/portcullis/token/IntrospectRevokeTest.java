package io.portcullis.token;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.CommandLine;
import io.portcullis.it.TestApp;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static io.portcullis.it.ErrorShapes.assertError;
import static io.portcullis.it.ErrorShapes.assertLegacy;
import static io.portcullis.it.ErrorShapes.with;
import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 7662 introspection (admin Bearer) and RFC 7009 revocation (no auth): what is active, what the
 * answer holds, who may ask, and what a revocation ends.
 */
@ExtendWith(AppExtension.class)
class IntrospectRevokeTest {

  private static final String INTROSPECT = BASE + "/oauth/introspect";
  private static final String REVOKE = BASE + "/oauth/revoke";
  private static final String USER = BASE + "/user";
  private static final String REFRESH = BASE + "/token?grant_type=refresh_token";
  private static final String PASSWORD = "password123";

  @App
  static TestApp app;
  static String serviceKey;

  @BeforeAll
  static void start() {
    serviceKey = CommandLine.serviceKey(app);
  }

  private static String form(String name, String value) {
    return name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private static TestApp.Response introspect(String token) {
    return app.postForm(INTROSPECT, form("token", token), bearer(serviceKey));
  }

  private static JsonObject introspected(String token) {
    TestApp.Response r = introspect(token);
    assertEquals(200, r.status(), r.raw());
    return r.json();
  }

  private static void assertInactive(String token) {
    assertEquals(new JsonObject().put("active", false), introspected(token));
  }

  // ---- introspection ----

  @Test
  void introspectingALiveAccessTokenAnswersItsClaims() throws Exception {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    String accessToken = session.getString("access_token");
    JWTClaimsSet claims = SignedJWT.parse(accessToken).getJWTClaimsSet();

    TestApp.Response r = introspect(accessToken);

    assertEquals(200, r.status(), r.raw());
    JsonObject body = r.json();
    assertEquals(true, body.getValue("active"), r.raw());
    assertEquals("access_token", body.getString("token_type"));
    assertEquals(session.getJsonObject("user").getString("id"), body.getString("sub"));
    assertEquals(claims.getExpirationTime().toInstant().getEpochSecond(), body.getLong("exp"));
    assertEquals(claims.getIssueTime().toInstant().getEpochSecond(), body.getLong("iat"));
    assertEquals(claims.getStringClaim("session_id"), body.getString("session_id"));
    assertEquals(claims.getIssuer(), body.getString("iss"));
    assertEquals("authenticated", body.getString("role"));
    assertEquals(email, body.getString("email"));
    assertEquals("no-store", r.header("Cache-Control"));
    assertEquals("no-cache", r.header("Pragma"));
  }

  @Test
  void introspectingALiveRefreshTokenAnswersItsSessionAndUser() throws Exception {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String sessionId = SignedJWT.parse(session.getString("access_token")).getJWTClaimsSet().getStringClaim("session_id");

    TestApp.Response r = introspect(session.getString("refresh_token"));

    assertEquals(200, r.status(), r.raw());
    JsonObject body = r.json();
    assertEquals(true, body.getValue("active"), r.raw());
    assertEquals("refresh_token", body.getString("token_type"));
    assertEquals(session.getJsonObject("user").getString("id"), body.getString("sub"));
    assertEquals(sessionId, body.getString("session_id"));
    assertEquals("no-store", r.header("Cache-Control"));
  }

  @Test
  void introspectionTakesAJsonBodyToo() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);

    TestApp.Response r = app.postJson(INTROSPECT, new JsonObject().put("token", session.getString("access_token")),
      bearer(serviceKey));

    assertEquals(200, r.status(), r.raw());
    assertEquals(true, r.json().getValue("active"), r.raw());
    assertEquals("access_token", r.json().getString("token_type"));
  }

  @Test
  void bothTokensAreInactiveAfterLogout() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    TestApp.Response out = app.request("POST", BASE + "/logout", null, null, bearer(session.getString("access_token")));
    assertEquals(204, out.status(), out.raw());

    assertInactive(session.getString("access_token"));
    assertInactive(session.getString("refresh_token"));
  }

  @Test
  void aRotatedRefreshTokenIsInactiveAndItsChildActive() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    TestApp.Response refreshed = app.refresh(session.getString("refresh_token"));
    assertEquals(200, refreshed.status(), refreshed.raw());

    assertInactive(session.getString("refresh_token"));
    assertEquals(true, introspected(refreshed.json().getString("refresh_token")).getValue("active"));
  }

  @Test
  void garbageTokensAreInactive() {
    assertInactive("not-a-token");
    assertInactive("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
    assertInactive("a.b.c");
  }

  @Test
  void anExpiredAccessTokenIsInactive() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    // Past exp (3600 s) and the leeway (30 s). The service key lives ten years: it stays valid.
    app.clock.advance(Duration.ofSeconds(3600 + 31));

    assertInactive(session.getString("access_token"));
  }

  @Test
  void introspectionWithoutATokenIsAValidationError() {
    assertError(400, "validation_failed", h -> app.postForm(INTROSPECT, "", with(bearer(serviceKey), h)));
    assertError(400, "validation_failed", h -> app.postForm(INTROSPECT, "token=", with(bearer(serviceKey), h)));
    assertError(400, "validation_failed",
      h -> app.postJson(INTROSPECT, new JsonObject().put("other", "x"), with(bearer(serviceKey), h)));
  }

  @Test
  void introspectionByAnOrdinaryUserIsRefused() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String token = session.getString("access_token");

    assertError(403, "not_admin", h -> app.postForm(INTROSPECT, form("token", token), with(bearer(token), h)));
  }

  @Test
  void introspectionWithoutBearerIsRefused() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String token = session.getString("access_token");

    assertError(401, "no_authorization", h -> app.postForm(INTROSPECT, form("token", token), h));
  }

  @Test
  void discoveryNamesIntrospectionAndRevocationEndpoints() {
    TestApp.Response r = app.get(BASE + "/.well-known/openid-configuration");

    assertEquals(200, r.status(), r.raw());
    assertEquals(app.url(INTROSPECT), r.json().getString("introspection_endpoint"));
    assertEquals(app.url(REVOKE), r.json().getString("revocation_endpoint"));
  }

  // ---- revocation ----

  @Test
  void revokingARefreshTokenEndsItsSession() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);

    TestApp.Response r = app.postForm(REVOKE, form("token", session.getString("refresh_token")));

    assertEquals(200, r.status(), r.raw());
    assertEquals(new JsonObject(), r.json());
    assertError(400, "refresh_token_not_found",
      h -> app.postJson(REFRESH, new JsonObject().put("refresh_token", session.getString("refresh_token")), h));
    assertError(403, "session_not_found", h -> app.get(USER, with(bearer(session.getString("access_token")), h)));
  }

  @Test
  void revocationTakesAJsonBodyAndIgnoresAnAuthorizationHeader() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);

    // supabase-js style clients send Bearer <anon key> everywhere: a public endpoint ignores it.
    TestApp.Response r = app.postJson(REVOKE, new JsonObject().put("token", session.getString("refresh_token")),
      bearer("anon-key"));

    assertEquals(200, r.status(), r.raw());
    assertError(403, "session_not_found", h -> app.get(USER, with(bearer(session.getString("access_token")), h)));
  }

  @Test
  void revokingARotatedRefreshTokenEndsTheSessionToo() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    TestApp.Response refreshed = app.refresh(session.getString("refresh_token"));
    assertEquals(200, refreshed.status(), refreshed.raw());

    TestApp.Response r = app.postForm(REVOKE, form("token", session.getString("refresh_token")));

    assertEquals(200, r.status(), r.raw());
    assertError(400, "refresh_token_not_found", h -> app.postJson(REFRESH,
      new JsonObject().put("refresh_token", refreshed.json().getString("refresh_token")), h));
  }

  @Test
  void revokingAnUnknownTokenAnswers200() {
    TestApp.Response unknown = app.postForm(REVOKE, form("token", "no-such-refresh-token"));
    assertEquals(200, unknown.status(), unknown.raw());
    assertEquals(new JsonObject(), unknown.json());

    // An access token is not a refresh token: nothing is revoked, and the answer is the same.
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    TestApp.Response access = app.postForm(REVOKE, form("token", session.getString("access_token")));
    assertEquals(200, access.status(), access.raw());
  }

  @Test
  void revocationWithoutATokenIsInvalidRequest() {
    TestApp.Response r = app.postForm(REVOKE, form("token_type_hint", "refresh_token"));

    JsonObject body = assertLegacy(r, 400, "validation_failed");
    assertEquals("invalid_request", body.getString("error"), r.raw());
    assertTrue(body.containsKey("error_description"), r.raw());

    TestApp.Response json = app.postJson(REVOKE, new JsonObject());
    assertLegacy(json, 400, "validation_failed");
    assertFalse(json.json().containsKey("error"), "RFC 6749 fields only on form requests: " + json.raw());
  }
}
