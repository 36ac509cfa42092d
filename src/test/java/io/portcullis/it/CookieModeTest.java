package io.portcullis.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.HttpCookie;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cookie mode: session answers set HttpOnly token cookies and a readable CSRF cookie; Bearer routes and the refresh
 * grant accept the cookies; state changes authenticated by cookie need the CSRF header; sign-out clears them.
 */
class CookieModeTest {

  static TestApp app;

  @BeforeAll
  static void start() {
    app = TestApp.start(Map.of("PORTCULLIS_COOKIES_ENABLED", "true"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** The Set-Cookie headers of a response, by name, as raw header values. */
  static Map<String, String> setCookies(TestApp.Response r) {
    Map<String, String> out = new HashMap<>();
    for (String header : r.headers().allValues("Set-Cookie")) {
      // Attribute names are case-insensitive (Vert.x writes "HTTPOnly"): compared in lower case.
      int eq = header.indexOf('=');
      int semi = header.indexOf(';');
      out.put(header.substring(0, eq), header.substring(0, semi < 0 ? header.length() : semi)
        + (semi < 0 ? "" : header.substring(semi).toLowerCase(java.util.Locale.ROOT)));
    }
    return out;
  }

  static String value(String setCookie) {
    return HttpCookie.parse(setCookie).get(0).getValue();
  }

  /** A Cookie request header from the cookies a response set. */
  static String cookieHeader(Map<String, String> cookies) {
    return cookies.values().stream().map(c -> c.substring(0, c.indexOf(';'))).collect(Collectors.joining("; "));
  }

  static Map<String, String> signIn() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, "password123");
    TestApp.Response r = app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", "password123"));
    assertEquals(200, r.status(), r.raw());
    return setCookies(r);
  }

  @Test
  void aSessionAnswerSetsHttpOnlyTokenCookiesAndAReadableCsrfCookie() {
    Map<String, String> cookies = signIn();
    String access = cookies.get("portcullis-access");
    String refresh = cookies.get("portcullis-refresh");
    String csrf = cookies.get("portcullis-csrf");
    assertNotNull(access, cookies.toString());
    assertTrue(access.contains("httponly") && access.contains("samesite=lax") && access.contains("path=/"), access);
    assertTrue(refresh.contains("httponly") && refresh.contains("samesite=strict")
      && refresh.contains("path=/auth/v1/token"), refresh);
    assertFalse(csrf.contains("httponly"), csrf);
    assertFalse(access.contains("secure"), "plain http: no Secure flag: " + access);
  }

  @Test
  void bearerRoutesReadTheAccessCookieAndStateChangesNeedTheCsrfHeader() {
    Map<String, String> cookies = signIn();
    String cookie = cookieHeader(cookies);
    String csrf = value(cookies.get("portcullis-csrf"));
    assertEquals(200, app.get(BASE + "/user", "Cookie", cookie).status());

    JsonObject update = new JsonObject().put("data", new JsonObject().put("color", "green"));
    ErrorShapes.assertError(403, "csrf_failed", h -> app.putJson(BASE + "/user", update,
      concat(h, "Cookie", cookie)));
    ErrorShapes.assertError(403, "csrf_failed", h -> app.putJson(BASE + "/user", update,
      concat(h, "Cookie", cookie, SessionCookiesHeader.NAME, "forged")));
    TestApp.Response ok = app.putJson(BASE + "/user", update, "Cookie", cookie, SessionCookiesHeader.NAME, csrf);
    assertEquals(200, ok.status(), ok.raw());
    assertEquals("green", ok.json().getJsonObject("user_metadata").getString("color"));

    // GETs that act need the header too: the Lax cookie comes along on a cross-site navigation.
    ErrorShapes.assertError(403, "csrf_failed", h -> app.get(BASE + "/user/identities/authorize?provider=keycloak",
      concat(h, "Cookie", cookie)));
    ErrorShapes.assertError(403, "csrf_failed", h -> app.get(BASE + "/reauthenticate", concat(h, "Cookie", cookie)));

    // An Authorization header is Bearer mode: no CSRF token needed (a browser never adds it by itself).
    String token = value(cookies.get("portcullis-access"));
    assertEquals(200, app.putJson(BASE + "/user", update, TestApp.bearer(token)).status());
  }

  @Test
  void theRefreshGrantReadsTheRefreshCookieWithTheCsrfHeader() {
    Map<String, String> cookies = signIn();
    String cookie = cookieHeader(cookies);
    String csrf = value(cookies.get("portcullis-csrf"));
    ErrorShapes.assertError(403, "csrf_failed", h -> app.postJson(BASE + "/token?grant_type=refresh_token",
      new JsonObject(), concat(h, "Cookie", cookie)));
    TestApp.Response r = app.postJson(BASE + "/token?grant_type=refresh_token", new JsonObject(),
      "Cookie", cookie, SessionCookiesHeader.NAME, csrf);
    assertEquals(200, r.status(), r.raw());
    Map<String, String> rotated = setCookies(r);
    assertNotEquals(value(cookies.get("portcullis-refresh")), value(rotated.get("portcullis-refresh")));
    assertEquals(r.json().getString("refresh_token"), value(rotated.get("portcullis-refresh")));
  }

  @Test
  void signOutClearsTheCookiesAndEndsTheSession() {
    Map<String, String> cookies = signIn();
    String cookie = cookieHeader(cookies);
    String csrf = value(cookies.get("portcullis-csrf"));
    ErrorShapes.assertError(403, "csrf_failed", h -> app.postJson(BASE + "/logout", null, concat(h, "Cookie", cookie)));
    TestApp.Response out = app.postJson(BASE + "/logout", null, "Cookie", cookie, SessionCookiesHeader.NAME, csrf);
    assertEquals(204, out.status(), out.raw());
    Map<String, String> cleared = setCookies(out);
    for (String name : List.of("portcullis-access", "portcullis-refresh", "portcullis-csrf")) {
      assertTrue(cleared.get(name).contains("max-age=0"), cleared.toString());
    }
    assertEquals(403, app.get(BASE + "/user", "Cookie", cookie).status());
  }

  @Test
  void overHttpsTheCookiesArePrefixedAndSecure() {
    try (TestApp https = TestApp.start(Map.of("PORTCULLIS_COOKIES_ENABLED", "true",
      "PORTCULLIS_EXTERNAL_URL", "https://auth.example.com"))) {
      TestApp.Response r = https.postJson(BASE + "/signup",
        new JsonObject().put("email", TestApp.uniqueEmail()).put("password", "password123"));
      Map<String, String> cookies = setCookies(r);
      assertTrue(cookies.get("__Host-portcullis-access").contains("secure"), cookies.toString());
      assertTrue(cookies.get("__Host-portcullis-access").contains("path=/;")
        || cookies.get("__Host-portcullis-access").contains("path=/ "), cookies.toString());
      assertTrue(cookies.get("__Secure-portcullis-refresh").contains("secure"), cookies.toString());
      assertTrue(cookies.get("__Host-portcullis-csrf").contains("secure"), cookies.toString());
    }
  }

  static String[] concat(String[] a, String... b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** The CSRF header's name, as the service documents it. */
  static final class SessionCookiesHeader {
    static final String NAME = "X-CSRF-Token";
  }
}
