package io.portcullis.http;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.crypto.impl.ECDSA;
import io.portcullis.bus.Addresses;
import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.DbRows;
import io.portcullis.it.ErrorShapes;
import io.portcullis.it.RawHttp;
import io.portcullis.it.TestApp;
import io.portcullis.token.TokenSecurityTest;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Named regressions for what HostileInputTest found: requests the web layer or HTTP decoding refuse must get a
 * 4xx JSON error in the contract's shape, not a 500 or an empty body; and a valid token must have exactly one
 * spelling.
 */
@ExtendWith(AppExtension.class)
class FormAndHeaderEdgeTest {

  private static final int TIMEOUT_MS = 20_000;
  private static final String SIGNUP_BODY = "{\"email\":\"edge@example.com\",\"password\":\"edge-password-1\"}";

  @App
  static TestApp app;
  static String token;

  @BeforeAll
  static void start() {
    token = app.signUp(TestApp.uniqueEmail(), "edge-password-1").getString("access_token");
  }

  // ---- the query string and the path ----

  @Test
  void aStrayPercentInTheQueryIsAValidationErrorNotA500() {
    RawHttp.Reply signup = send(new RawHttp.Request("POST", BASE + "/signup?redirect_to=%")
      .header("Content-Type", "application/json").body(SIGNUP_BODY));
    assertLegacyError(signup, 400, "validation_failed");
    assertLegacyError(send(new RawHttp.Request("GET", BASE + "/verify?type=signup&token=%zz")), 400,
      "validation_failed");
    assertLegacyError(send(new RawHttp.Request("GET", BASE + "/admin/users?page=%")
      .header("Authorization", "Bearer " + token)), 400, "validation_failed");
    assertNull(DbRows.string(app, "SELECT id FROM users WHERE email = 'edge@example.com'"),
      "the refused sign-up wrote no user");
  }

  @Test
  void aPathThatDoesNotDecodeIsABadRequestNotA500() {
    assertLegacyError(send(new RawHttp.Request("GET", BASE + "/admin/users/x/%zz")), 400, "validation_failed");
    assertLegacyError(send(new RawHttp.Request("DELETE", BASE + "/admin/%")), 400, "validation_failed");
    RawHttp.Reply versioned = send(new RawHttp.Request("POST", "//auth//v1//%zz")
      .header(ErrorShapes.API_VERSION, ErrorShapes.VERSION));
    assertEquals(400, versioned.status(), versioned.describe());
    assertEquals("validation_failed", new JsonObject(versioned.text()).getString("code"), versioned.describe());
  }

  // ---- headers the web layer refuses ----

  @Test
  void anExpectationTheServerCannotMeetIsA417ValidationError() {
    RawHttp.Reply reply = send(new RawHttp.Request("POST", BASE + "/token?grant_type=password")
      .header("Expect", "").header("Content-Type", "application/json")
      .body("{\"email\":\"a@b.co\",\"password\":\"x\"}"));
    assertLegacyError(reply, 417, "validation_failed");
  }

  // ---- Content-Types the form decoder refuses ----

  @Test
  void aMultipartContentTypeWithoutAUsableBoundaryIsRefusedAs400() {
    String[] types = {"multipart/form-data; boundary=", "multipart/form-data; boundary=b; charset=bogus"};
    for (String type : types) {
      RawHttp.Reply reply = send(new RawHttp.Request("POST", BASE + "/signup").header("Content-Type", type)
        .body("--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nedge@example.com\r\n--b--\r\n"));
      assertLegacyError(reply, 400, "validation_failed");
    }
    RawHttp.Reply revoke = send(new RawHttp.Request("POST", BASE + "/oauth/revoke")
      .header("Content-Type", "multipart/form-data; boundary=").body("token=abc"));
    assertLegacyError(revoke, 400, "validation_failed");
  }

  // ---- requests HTTP decoding refuses ----

  @Test
  void aHeaderWithANulByteGetsAJsonBadRequest() {
    RawHttp.Reply reply = send(new RawHttp.Request("GET", BASE + "/user").header("Authorization", "Bearer \0"));
    assertLegacyError(reply, 400, "validation_failed");
  }

  @Test
  void aRequestLineOverTheLimitGetsAJson414() {
    RawHttp.Reply reply = send(new RawHttp.Request("GET", BASE + "/settings?x=" + "a".repeat(9000)));
    assertLegacyError(reply, 414, "request_too_large");
  }

  @Test
  void headersOverTheLimitGetAJson431() {
    RawHttp.Reply reply = send(new RawHttp.Request("GET", BASE + "/settings").header("X-Fuzz", "b".repeat(20000)));
    assertLegacyError(reply, 431, "request_too_large");
  }

  @Test
  void theServiceStillAnswersAfterRefusedHttp() {
    send(new RawHttp.Request("GET", BASE + "/user").header("Authorization", "Bearer \0"));
    RawHttp.Reply health = send(new RawHttp.Request("GET", "/health"));
    assertEquals(200, health.status(), health.describe());
  }

  // ---- HTTP/2 upgrade ----

  @Test
  void anH2cUpgradeRequestIsAnsweredOverHttp11InsteadOfHeldOpen() {
    // Vert.x answers an h2c upgrade without HTTP2-Settings with a 400 that has no length and does not close the
    // connection, so the client waits for the idle timeout; cleartext HTTP/2 is off, the request is served.
    for (String connection : new String[] {"close", "Upgrade"}) {
      RawHttp.Request request = new RawHttp.Request("GET", BASE + "/settings").header("Upgrade", "h2c");
      if (!connection.equals("close")) {
        request.header("Connection", connection);
      }
      RawHttp.Reply reply = RawHttp.send(app.port, request, 5_000);
      assertEquals(200, reply.status(), reply.describe());
      assertTrue(reply.header("Content-Type").startsWith("application/json"), reply.describe());
    }
  }

  // ---- one spelling per token ----

  @Test
  void anEs256TokenWithACharacterAppendedToItsSignatureIsRefused() {
    assertRefusedOnHttpAndBus(token + "x");
    assertRefusedOnHttpAndBus(token + "AA");
  }

  @Test
  void anEs256TokenWithItsSignatureInDerIsRefused() throws JOSEException {
    String[] parts = token.split("\\.");
    byte[] der = ECDSA.transcodeSignatureToDER(Base64.getUrlDecoder().decode(parts[2]));
    assertRefusedOnHttpAndBus(parts[0] + "." + parts[1] + "." + Base64.getUrlEncoder().withoutPadding()
      .encodeToString(der));
  }

  @Test
  void aTokenWhoseSignatureHasPaddingBitsSetIsRefused() {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char last = token.charAt(token.length() - 1);
    // 64 octets leave 4 unused bits in the last character: setting one decodes to the same bytes.
    char other = alphabet.charAt(alphabet.indexOf(last) | 1);
    assertTrue(other != last, "the last character had its unused bits clear");
    assertRefusedOnHttpAndBus(token.substring(0, token.length() - 1) + other);
  }

  @Test
  void theUnalteredTokenStillWorks() {
    TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(token));
    assertEquals(200, me.status(), me.raw());
  }

  // ---- redirects ----

  @Test
  void aLinkRedirectWithAControlCharacterGoesToTheSiteUrlInsteadOfHanging() {
    for (String bad : new String[] {"%00", "%7F", "%0B", "%C2%85"}) {
      RawHttp.Reply reply = RawHttp.send(app.port, new RawHttp.Request("GET", BASE
        + "/verify?type=signup&token=nope&redirect_to=http%3A%2F%2Flocalhost%3A3000%2Fx" + bad), 5_000);
      assertEquals(303, reply.status(), reply.describe());
      assertTrue(reply.header("Location").startsWith("http://localhost:3000#error="), reply.describe());
    }
  }

  @Test
  void anOtpOrRecoveryWhoseRedirectHoldsANulIsSentWithTheSiteUrl() {
    String email = TestApp.uniqueEmail();
    TestApp.Response otp = app.postJson(BASE + "/otp", new JsonObject().put("email", email)
      .put("redirect_to", "http://localhost:3000/\0x"));
    assertEquals(200, otp.status(), otp.raw());
    assertEquals("http://localhost:3000", DbRows.string(app,
      "SELECT redirect_to FROM one_time_tokens WHERE email = ? ORDER BY id DESC LIMIT 1", email));
    String existing = TestApp.uniqueEmail();
    app.signUp(existing, "edge-password-1");
    TestApp.Response recover = app.postJson(BASE + "/recover?redirect_to=http%3A%2F%2Flocalhost%3A3000%2F%00",
      new JsonObject().put("email", existing));
    assertEquals(200, recover.status(), recover.raw());
    assertEquals("http://localhost:3000", DbRows.string(app,
      "SELECT redirect_to FROM one_time_tokens WHERE email = ? ORDER BY id DESC LIMIT 1", existing));
  }

  // ---- Unicode that PostgreSQL cannot store ----

  @Test
  void unpairedSurrogatesInFieldsThatAreStoredAreAValidationError() {
    // JSON escapes can carry a lone surrogate; followed by a non-ASCII character the pg client sent PostgreSQL
    // bytes that are not UTF-8 (22021), a 500 on every route that stores the field.
    String[] bodies = {
      "{\"email\":\"fz-surrogate-1@example.com\",\"redirect_to\":\"http://localhost:3000/\\ud800\\u4e00\"}",
      "{\"email\":\"fz-surrogate-2\\ud800\\u00e9@example.com\",\"password\":\"edge-password-1\"}",
      "{\"email\":\"fz-surrogate-3@example.com\",\"password\":\"edge-password-1\",\"data\":{\"k\":\"\\udbff\\u00d3\"}}",
      "{\"email\":\"fz-surrogate-4@example.com\",\"password\":\"edge-password-1\",\"data\":{\"\\ud800\\u00d3\":1}}"};
    String[] routes = {"/otp", "/signup", "/signup", "/signup"};
    for (int i = 0; i < bodies.length; i++) {
      RawHttp.Reply reply = send(new RawHttp.Request("POST", BASE + routes[i])
        .header("Content-Type", "application/json").body(bodies[i]));
      assertLegacyError(reply, 400, "validation_failed");
    }
    assertNull(DbRows.string(app, "SELECT id FROM users WHERE email LIKE 'fz-surrogate-%'"), "no user written");
  }

  // ---- helpers ----

  private static void assertRefusedOnHttpAndBus(String altered) {
    TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(altered));
    assertEquals(403, me.status(), me.raw());
    assertEquals("bad_jwt", me.errorCode(), me.raw());
    ReplyException failure = TokenSecurityTest.busFailure(app, Addresses.TOKENS_VERIFY,
      new JsonObject().put("token", altered));
    assertEquals(403, failure.failureCode(), failure.getMessage());
    assertEquals("bad_jwt", new JsonObject(failure.getMessage()).getString("error_code"), failure.getMessage());
  }

  private static RawHttp.Reply send(RawHttp.Request request) {
    return RawHttp.send(app.port, request, TIMEOUT_MS);
  }

  /** {@code {code:<status>, error_code, msg}} as application/json. */
  private static void assertLegacyError(RawHttp.Reply reply, int status, String errorCode) {
    assertEquals(status, reply.status(), reply.describe());
    String type = reply.header("Content-Type");
    assertNotNull(type, "no Content-Type: " + reply.describe());
    assertTrue(type.startsWith("application/json"), reply.describe());
    JsonObject body = new JsonObject(new String(reply.body(), StandardCharsets.UTF_8));
    assertEquals(status, body.getValue("code"), reply.describe());
    assertEquals(errorCode, body.getString("error_code"), reply.describe());
    assertTrue(body.getString("msg") != null && !body.getString("msg").isEmpty(), reply.describe());
    assertNull(body.getValue("request_id"), "not an unexpected failure: " + reply.describe());
  }
}
