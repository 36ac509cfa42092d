package io.portcullis.http;

import io.portcullis.it.ErrorShapes;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-client-IP rate limits through HTTP: a budget of three at once on the password grant and the
 * other abuse-prone routes, 429 over_request_rate_limit with Retry-After in both error shapes, the refresh grant's
 * own bucket, refill by time, and which address counts as the client's (X-Forwarded-For only from a trusted proxy).
 *
 * <p>Buckets live in the memory of one process (shared by its HTTP verticles), not in the database: two instances
 * behind a load balancer each grant the full budget. Every test here talks to one process.
 */
class RateLimitTest {

  private static final String PASSWORD = "password123";
  private static final String PASSWORD_GRANT = BASE + "/token?grant_type=password";
  private static final int BURST = 3;
  /** One token every 100 s on the password grant. */
  private static final int PASSWORD_GRANT_PER_HOUR = 36;
  private static final Map<String, String> LIMITS = Map.of(
    "PORTCULLIS_RATE_LIMITS", "on",
    "PORTCULLIS_RATE_LIMIT_BURST", Integer.toString(BURST),
    "PORTCULLIS_RATE_LIMIT_PASSWORD_GRANT", Integer.toString(PASSWORD_GRANT_PER_HOUR));

  /** No trusted proxy: the socket's address is the client. */
  static TestApp app;
  /** 127.0.0.1 is a trusted proxy: X-Forwarded-For names the client. */
  static TestApp proxied;

  @BeforeAll
  static void start() {
    app = TestApp.start(LIMITS);
    Map<String, String> withProxy = new HashMap<>(LIMITS);
    withProxy.put("PORTCULLIS_HTTP_TRUSTED_PROXIES", "127.0.0.1");
    proxied = TestApp.start(withProxy);
  }

  @AfterAll
  static void stop() {
    try {
      proxied.close();
    } finally {
      app.close();
    }
  }

  /** Every test starts with full buckets: an hour refills any of them. */
  @BeforeEach
  void refillAllBuckets() {
    app.clock.advance(Duration.ofHours(2));
    proxied.clock.advance(Duration.ofHours(2));
  }

  @Test
  void fourthPasswordGrantFromOneAddressIsRateLimitedInBothShapesWithRetryAfter() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    for (int i = 0; i < BURST; i++) {
      assertEquals(200, signIn(app, email).status());
    }

    ErrorShapes.Both limited = ErrorShapes.assertError(429, "over_request_rate_limit",
      headers -> app.postJson(PASSWORD_GRANT, credentials(email), headers));

    for (TestApp.Response r : new TestApp.Response[] {limited.legacy(), limited.versioned()}) {
      long retryAfter = retryAfter(r);
      assertTrue(retryAfter > 0 && retryAfter <= 3600 / PASSWORD_GRANT_PER_HOUR, "Retry-After " + retryAfter);
    }
  }

  @Test
  void formPasswordGrantCountsAgainstTheSameBucket() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    for (int i = 0; i < BURST; i++) {
      assertEquals(200, signIn(app, email).status());
    }

    TestApp.Response r = app.postForm(BASE + "/token",
      "grant_type=password&username=" + URLEncoder.encode(email, StandardCharsets.UTF_8) + "&password=" + PASSWORD);

    assertEquals(429, r.status(), r.raw());
    assertEquals("over_request_rate_limit", r.errorCode());
    assertNotNull(r.header("Retry-After"));
  }

  @Test
  void refreshGrantHasItsOwnBucketAndWorksWhilePasswordGrantsAreLimited() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    exhaust(() -> signIn(app, email));

    TestApp.Response refreshed = app.refresh(session.getString("refresh_token"));

    assertEquals(200, refreshed.status(), refreshed.raw());
    assertNotNull(refreshed.json().getString("access_token"));
    TestApp.Response stillLimited = signIn(app, email);
    assertEquals(429, stillLimited.status(), stillLimited.raw());
    assertEquals("over_request_rate_limit", stillLimited.errorCode());
  }

  @Test
  void refreshGrantNamedInTheJsonBodyUsesTheRefreshBucket() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    exhaust(() -> signIn(app, email));

    TestApp.Response refreshed = app.postJson(BASE + "/token", new JsonObject()
      .put("grant_type", "refresh_token").put("refresh_token", session.getString("refresh_token")));

    assertEquals(200, refreshed.status(), refreshed.raw());
    assertNotNull(refreshed.json().getString("access_token"));
  }

  @Test
  void waitingRetryAfterSecondsRefillsOneRequest() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    TestApp.Response limited = exhaust(() -> signIn(app, email));

    app.clock.advance(Duration.ofSeconds(retryAfter(limited)));

    TestApp.Response again = signIn(app, email);
    assertEquals(200, again.status(), again.raw());
    TestApp.Response next = signIn(app, email);
    assertEquals(429, next.status(), next.raw());
    assertEquals("over_request_rate_limit", next.errorCode());
  }

  @Test
  void signupIsRateLimited() {
    exhaust(() -> app.postJson(BASE + "/signup",
      new JsonObject().put("email", TestApp.uniqueEmail()).put("password", PASSWORD)));
  }

  @Test
  void recoverIsRateLimited() {
    exhaust(() -> app.postJson(BASE + "/recover", new JsonObject().put("email", TestApp.uniqueEmail())));
  }

  @Test
  void otpAndMagicLinkAreRateLimited() {
    exhaust(() -> app.postJson(BASE + "/otp",
      new JsonObject().put("email", TestApp.uniqueEmail()).put("create_user", false)));

    TestApp.Response magicLink = app.postJson(BASE + "/magiclink", new JsonObject().put("email", TestApp.uniqueEmail()));
    assertEquals(429, magicLink.status(), magicLink.raw());
    assertEquals("over_request_rate_limit", magicLink.errorCode());
  }

  @Test
  void resendIsRateLimited() {
    exhaust(() -> app.postJson(BASE + "/resend",
      new JsonObject().put("type", "signup").put("email", TestApp.uniqueEmail())));
  }

  @Test
  void verifyIsRateLimitedAndTheMailLinkSharesItsBucket() {
    exhaust(() -> app.postJson(BASE + "/verify",
      new JsonObject().put("type", "email").put("email", TestApp.uniqueEmail()).put("token", "123456")));

    TestApp.Response link = app.get(BASE + "/verify?type=signup&token=guess");
    assertEquals(429, link.status(), link.raw());
    assertEquals("over_request_rate_limit", link.errorCode());
  }

  @Test
  void userUpdateIsRateLimited() {
    String token = app.signUp(TestApp.uniqueEmail(), PASSWORD).getString("access_token");
    int[] n = {0};
    exhaust(() -> app.putJson(BASE + "/user",
      new JsonObject().put("data", new JsonObject().put("n", n[0]++)), bearer(token)));
  }

  @Test
  void forwardedForFromAnUntrustedPeerIsIgnoredSoASpoofedHeaderGetsNoFreshBucket() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    int[] n = {0};

    exhaust(() -> app.postJson(PASSWORD_GRANT, credentials(email), "X-Forwarded-For", "198.51.100." + ++n[0]));
  }

  @Test
  void forwardedForFromATrustedProxyGivesEachForwardedClientItsOwnBucket() {
    String email = TestApp.uniqueEmail();
    proxied.signUp(email, PASSWORD);
    exhaust(() -> proxied.postJson(PASSWORD_GRANT, credentials(email), "X-Forwarded-For", "198.51.100.7"));

    TestApp.Response other = proxied.postJson(PASSWORD_GRANT, credentials(email), "X-Forwarded-For", "198.51.100.8");
    assertEquals(200, other.status(), other.raw());
    // A client prepending addresses to the header it sends still counts as the address the proxy saw.
    TestApp.Response spoofed = proxied.postJson(PASSWORD_GRANT, credentials(email),
      "X-Forwarded-For", "203.0.113.99, 198.51.100.7");
    assertEquals(429, spoofed.status(), spoofed.raw());
    assertEquals("over_request_rate_limit", spoofed.errorCode());
    // The proxy's own requests (no header) have a bucket of their own too.
    TestApp.Response direct = signIn(proxied, email);
    assertEquals(200, direct.status(), direct.raw());
  }

  // ---- helpers ----

  /**
   * Sends {@code BURST} requests that the limit lets through (whatever they answer otherwise), then one more
   * that must be refused; answers that refusal.
   */
  private static TestApp.Response exhaust(Supplier<TestApp.Response> send) {
    for (int i = 0; i < BURST; i++) {
      TestApp.Response r = send.get();
      assertNotEquals("over_request_rate_limit", r.errorCode(), "request " + (i + 1) + " within the burst: " + r.raw());
      assertTrue(r.status() < 500, r.raw());
    }
    TestApp.Response limited = send.get();
    assertEquals(429, limited.status(), limited.raw());
    assertEquals("over_request_rate_limit", limited.errorCode());
    assertTrue(retryAfter(limited) > 0);
    return limited;
  }

  private static long retryAfter(TestApp.Response r) {
    String value = r.header("Retry-After");
    assertNotNull(value, "429 without Retry-After: " + r.raw());
    return Long.parseLong(value);
  }

  private static JsonObject credentials(String email) {
    return new JsonObject().put("email", email).put("password", PASSWORD);
  }

  private static TestApp.Response signIn(TestApp target, String email) {
    return target.postJson(PASSWORD_GRANT, credentials(email));
  }
}
