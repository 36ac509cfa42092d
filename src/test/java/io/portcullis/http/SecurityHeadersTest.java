package io.portcullis.http;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.AppExtension.Inbox;
import io.portcullis.it.Mailbox;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * HTTP hygiene: security headers on every answer whatever its status, HSTS only behind an https
 * external URL, {@code Cache-Control: no-store} and {@code Pragma: no-cache} on answers that carry tokens
 * (RFC 6749 §5.1), and over-long request lines and headers refused quickly rather than hanging.
 */
@ExtendWith(AppExtension.class)
class SecurityHeadersTest {

  private static final String PASSWORD = "password123";

  @Inbox
  static Mailbox mailbox;
  @App
  static TestApp app;

  private static void assertSecurityHeaders(String what, TestApp.Response r) {
    assertEquals("nosniff", r.header("X-Content-Type-Options"), what);
    assertEquals("no-referrer", r.header("Referrer-Policy"), what);
    assertEquals("DENY", r.header("X-Frame-Options"), what);
    String csp = r.header("Content-Security-Policy");
    assertNotNull(csp, what + ": no Content-Security-Policy");
    assertTrue(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), what + ": " + csp);
  }

  private static void assertNoStore(String what, TestApp.Response r) {
    assertEquals("no-store", r.header("Cache-Control"), what);
    assertEquals("no-cache", r.header("Pragma"), what);
  }

  @Test
  void everyAnswerCarriesTheSecurityHeadersWhateverItsStatus() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    JsonObject other = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    Map<String, Supplier<TestApp.Response>> requests = new LinkedHashMap<>();
    requests.put("200 GoTrue health", () -> app.get(BASE + "/health"));
    requests.put("200 liveness", () -> app.get("/health"));
    requests.put("200 JWKS", () -> app.get(BASE + "/.well-known/jwks.json"));
    requests.put("200 user", () -> app.get(BASE + "/user", bearer(session.getString("access_token"))));
    requests.put("204 logout", () -> app.request("POST", BASE + "/logout", null, null,
      bearer(other.getString("access_token"))));
    requests.put("303 verify link", () -> app.get(BASE + "/verify?type=recovery&token=nope"));
    requests.put("400 bad JSON", () -> app.request("POST", BASE + "/signup", "application/json", "{nope"));
    requests.put("400 form token error", () -> app.postForm(BASE + "/token", "grant_type=password"));
    requests.put("401 no Bearer", () -> app.get(BASE + "/user"));
    requests.put("403 bad JWT", () -> app.get(BASE + "/user", bearer("a.b.c")));
    requests.put("404 unknown path", () -> app.get(BASE + "/nope"));
    requests.put("404 outside the base", () -> app.get("/"));
    requests.put("405 wrong method", () -> app.request("DELETE", BASE + "/signup", null, null));
    requests.put("413 body too large", () -> app.postJson(BASE + "/signup",
      new JsonObject().put("email", "x".repeat(20_000))));
    requests.put("422 taken email", () -> app.postJson(BASE + "/signup",
      new JsonObject().put("email", session.getJsonObject("user").getString("email")).put("password", PASSWORD)));
    requests.put("403 origin not allowed", () -> app.request("POST", BASE + "/token?grant_type=password",
      "application/json", "{}", "Origin", "http://evil.example"));
    requests.put("CORS preflight", () -> app.request("OPTIONS", BASE + "/token", null, null,
      "Origin", "http://localhost:3000", "Access-Control-Request-Method", "POST"));

    requests.forEach((what, send) -> {
      TestApp.Response r = send.get();
      String status = what.substring(0, 3);
      if (Character.isDigit(status.charAt(0))) {
        assertEquals(Integer.parseInt(status), r.status(), what + ": " + r.raw());
      }
      assertSecurityHeaders(what, r);
      assertNull(r.header("Strict-Transport-Security"), what + ": HSTS behind a plain-http external URL");
    });
  }

  @Test
  void anHttpsExternalUrlAddsStrictTransportSecurity() {
    try (TestApp https = TestApp.start(Map.of("PORTCULLIS_EXTERNAL_URL", "https://auth.example.com"))) {
      for (TestApp.Response r : List.of(https.get(BASE + "/health"), https.get(BASE + "/nope"),
        https.get(BASE + "/user"))) {
        String hsts = r.header("Strict-Transport-Security");
        assertNotNull(hsts, r.status() + " without HSTS");
        assertTrue(hsts.startsWith("max-age=") && Long.parseLong(hsts.replaceAll("max-age=(\\d+).*", "$1")) >= 31_536_000,
          hsts);
        assertSecurityHeaders(r.status() + " over https", r);
      }
    }
  }

  @Test
  void answersCarryingTokensAreNotStored() {
    String email = TestApp.uniqueEmail();
    TestApp.Response signup = app.postJson(BASE + "/signup",
      new JsonObject().put("email", email).put("password", PASSWORD));
    assertEquals(200, signup.status(), signup.raw());
    assertNoStore("signup", signup);

    TestApp.Response password = app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", PASSWORD));
    assertEquals(200, password.status(), password.raw());
    assertNoStore("password grant", password);

    TestApp.Response form = app.postForm(BASE + "/token", "grant_type=password&username="
      + URLEncoder.encode(email, StandardCharsets.UTF_8) + "&password=" + PASSWORD);
    assertEquals(200, form.status(), form.raw());
    assertNoStore("form password grant", form);

    TestApp.Response refresh = app.refresh(password.json().getString("refresh_token"));
    assertEquals(200, refresh.status(), refresh.raw());
    assertNoStore("refresh grant", refresh);

    TestApp.Response formRefresh = app.postForm(BASE + "/token", "grant_type=refresh_token&refresh_token="
      + refresh.json().getString("refresh_token"));
    assertEquals(200, formRefresh.status(), formRefresh.raw());
    assertNoStore("form refresh grant", formRefresh);
  }

  @Test
  void theMailLinkRedirectCarryingTokensIsNotStored() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    TestApp.Response recover = app.postJson(BASE + "/recover", new JsonObject().put("email", email));
    assertEquals(200, recover.status(), recover.raw());
    Mailbox.Mail mail = mailbox.next(email);

    TestApp.Response r = app.get(mail.linkPath());

    assertEquals(303, r.status(), r.raw());
    assertTrue(r.header("Location").contains("access_token="), r.header("Location"));
    assertNoStore("303 with tokens in the Location fragment", r);
    assertSecurityHeaders("303 verify link", r);
  }

  // ---- size limits: answered at once (a 4xx), never a hang ----
  // Vert.x's HTTP/1.1 decoder refuses these before any route runs; HttpVerticle's invalid-request handler still
  // answers in the contract's JSON shape with the security headers.

  @Test
  void aRequestLineOver8KiBIsRefusedQuickly() throws IOException {
    String path = BASE + "/health?pad=" + "a".repeat(9 * 1024);

    Raw r = raw("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

    assertEquals(414, r.status(), r.toString());
    assertJsonError(r, "request_too_large");
    assertEquals(200, app.get(BASE + "/health").status(), "the server is still healthy");
    assertEquals(200, app.get(BASE + "/health?pad=" + "a".repeat(7 * 1024)).status(), "7 KiB is within the limit");
  }

  @Test
  void aHeaderOver16KiBIsRefusedQuickly() throws IOException {
    Raw r = raw("GET " + BASE + "/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + "a".repeat(17 * 1024)
      + "\r\nConnection: close\r\n\r\n");

    assertEquals(431, r.status(), r.toString());
    assertJsonError(r, "request_too_large");
    assertEquals(200, app.get(BASE + "/health").status(), "the server is still healthy");
  }

  @Test
  void manyHeadersTogetherOver16KiBAreRefusedQuickly() throws IOException {
    StringBuilder headers = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      headers.append("X-Pad-").append(i).append(": ").append("b".repeat(500)).append("\r\n");
    }

    Raw r = raw("GET " + BASE + "/health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "Connection: close\r\n\r\n");

    assertEquals(431, r.status(), r.toString());
    assertEquals(200, app.get(BASE + "/health").status(), "the server is still healthy");
  }

  private static void assertJsonError(Raw r, String code) {
    assertTrue(r.headers().getOrDefault("content-type", "").startsWith("application/json"), r.toString());
    assertEquals("nosniff", r.headers().get("x-content-type-options"), r.toString());
    assertEquals(code, new io.vertx.core.json.JsonObject(r.body().trim()).getString("error_code"), r.toString());
  }

  /** A response read off a plain socket: status, headers (lower-case names) and body. */
  record Raw(int status, Map<String, String> headers, String body) {
  }

  /** Sends {@code request} as is and reads the answer until the server closes; fails if nothing comes in 10 s. */
  private static Raw raw(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", app.port)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      byte[] buffer = new byte[8192];
      try {
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
          received.write(buffer, 0, n);
          if (complete(received.toString(StandardCharsets.ISO_8859_1))) {
            break;
          }
        }
      } catch (SocketTimeoutException e) {
        if (received.size() == 0) {
          fail("no answer within 10 s");
        }
      } catch (IOException e) {
        // The server may reset the connection right after answering: what came is the answer.
        if (received.size() == 0) {
          throw e;
        }
      }
      return parse(received.toString(StandardCharsets.ISO_8859_1));
    }
  }

  private static boolean complete(String text) {
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      return false;
    }
    Matcher length = Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(text.substring(0, end));
    return length.find() && text.length() - end - 4 >= Integer.parseInt(length.group(1));
  }

  private static Raw parse(String text) {
    int end = text.indexOf("\r\n\r\n");
    assertTrue(end > 0, "not an HTTP answer: " + text);
    String[] lines = text.substring(0, end).split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
    }
    return new Raw(status, headers, text.substring(end + 4));
  }
}
