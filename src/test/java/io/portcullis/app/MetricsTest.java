package io.portcullis.app;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.PrometheusText;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * GET /metrics: Prometheus text with Vert.x's HTTP (by route), pool, event-bus and JVM
 * metrics, and Portcullis's own counters and histograms moving with the actions they count.
 */
@ExtendWith(AppExtension.class)
class MetricsTest {

  private static final String PASSWORD = "password123";
  private static final String PASSWORD_GRANT = BASE + "/token?grant_type=password";
  /** One second past the default refresh-token reuse interval of 10 s. */
  private static final Duration PAST_REUSE_INTERVAL = Duration.ofSeconds(11);

  // The reuse test moves the clock; keep later tokens from looking issued in the future.
  @App({
    "PORTCULLIS_LOCKOUT_ENABLED=true",
    "PORTCULLIS_LOCKOUT_FAILURES=2",
    "PORTCULLIS_JWT_LEEWAY_SECONDS=300"})
  static TestApp app;

  @Test
  void metricsAnswerPrometheusTextWithHttpPoolEventBusAndJvmMetrics() {
    app.signUp(TestApp.uniqueEmail(), PASSWORD);

    TestApp.Response response = app.get("/metrics");

    assertEquals(200, response.status(), response.raw());
    assertTrue(response.header("Content-Type").startsWith("text/plain"), response.header("Content-Type"));
    assertTrue(response.raw().contains("# TYPE "), "Prometheus exposition format");
    PrometheusText metrics = scrapeUntil(m -> m.sum("vertx_http_server_requests_total",
      "route", BASE + "/signup", "method", "POST", "code", "200") >= 1);
    assertFalse(metrics.series("vertx_http_server_response_time_seconds_count", "route", BASE + "/signup").isEmpty(),
      "HTTP response time by route");
    assertTrue(metrics.sum("vertx_pool_completed_total", "pool_type", "sql") >= 1, "SQL pool metrics");
    assertFalse(metrics.series("vertx_pool_in_use", "pool_type", "worker").isEmpty(), "worker pool metrics");
    assertTrue(metrics.sum("vertx_eventbus_handlers", "address", "auth.users.signup") >= 1, "event-bus handlers");
    assertTrue(metrics.sum("vertx_eventbus_processed_total", "address", "auth.users.signup") >= 1,
      "event-bus messages processed");
    assertTrue(metrics.sum("jvm_memory_used_bytes") > 0, "JVM memory");
    assertTrue(metrics.hasPrefix("jvm_gc_"), "JVM GC");
    assertTrue(metrics.hasPrefix("jvm_threads_"), "JVM threads");
  }

  @Test
  void everyTokenRequestIsLabelledWithTheTokenRoute() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    app.signIn(email, PASSWORD);

    PrometheusText metrics = scrapeUntil(m -> m.sum("vertx_http_server_requests_total",
      "route", BASE + "/token", "code", "200") >= 1);

    List<String> tokenRoutes = metrics.series("vertx_http_server_requests_total").stream()
      .map(s -> s.labels().get("route"))
      .filter(route -> route != null && route.contains("/token"))
      .distinct()
      .toList();
    assertEquals(List.of(BASE + "/token"), tokenRoutes);
  }

  @Test
  void signInsAreCountedByOutcome() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    PrometheusText before = scrape();

    app.signIn(email, PASSWORD);
    TestApp.Response wrong = app.postJson(PASSWORD_GRANT,
      new JsonObject().put("email", email).put("password", "not-the-password"));
    assertEquals(400, wrong.status(), wrong.raw());
    assertEquals("invalid_credentials", wrong.errorCode());

    PrometheusText after = scrapeUntil(m -> delta(before, m, "portcullis_signins_total", "outcome", "invalid_credentials") >= 1);
    assertEquals(1, delta(before, after, "portcullis_signins_total", "outcome", "success"));
    assertEquals(1, delta(before, after, "portcullis_signins_total", "outcome", "invalid_credentials"));
  }

  @Test
  void refreshesAreCountedByOutcome() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    PrometheusText before = scrape();

    TestApp.Response ok = app.refresh(session.getString("refresh_token"));
    assertEquals(200, ok.status(), ok.raw());
    TestApp.Response unknown = app.refresh("unknown-refresh-token");
    assertEquals(400, unknown.status(), unknown.raw());
    assertEquals("refresh_token_not_found", unknown.errorCode());

    PrometheusText after = scrapeUntil(m -> delta(before, m, "portcullis_refreshes_total",
      "outcome", "refresh_token_not_found") >= 1);
    assertEquals(1, delta(before, after, "portcullis_refreshes_total", "outcome", "success"));
    assertEquals(1, delta(before, after, "portcullis_refreshes_total", "outcome", "refresh_token_not_found"));
  }

  @Test
  void aRefreshTokenReuseIsCounted() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String r0 = session.getString("refresh_token");
    TestApp.Response first = app.refresh(r0);
    assertEquals(200, first.status(), first.raw());
    TestApp.Response second = app.refresh(first.json().getString("refresh_token"));
    assertEquals(200, second.status(), second.raw());
    app.clock.advance(PAST_REUSE_INTERVAL);
    PrometheusText before = scrape();

    TestApp.Response reuse = app.refresh(r0);

    assertEquals(400, reuse.status(), reuse.raw());
    assertEquals("refresh_token_already_used", reuse.errorCode());
    PrometheusText after = scrapeUntil(m -> delta(before, m, "portcullis_refresh_token_reuse_total") >= 1);
    assertEquals(1, delta(before, after, "portcullis_refresh_token_reuse_total"));
    assertEquals(1, delta(before, after, "portcullis_refreshes_total", "outcome", "refresh_token_already_used"));
  }

  @Test
  void aLockoutIsCounted() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    PrometheusText before = scrape();

    for (int i = 0; i < 2; i++) {
      TestApp.Response wrong = app.postJson(PASSWORD_GRANT,
        new JsonObject().put("email", email).put("password", "wrong-password-" + i));
      assertEquals(400, wrong.status(), wrong.raw());
      assertEquals("invalid_credentials", wrong.errorCode());
    }
    // Locked: the right password is refused too.
    TestApp.Response locked = app.postJson(PASSWORD_GRANT, new JsonObject().put("email", email).put("password", PASSWORD));
    assertEquals(400, locked.status(), locked.raw());
    assertEquals("invalid_credentials", locked.errorCode());

    PrometheusText after = scrapeUntil(m -> delta(before, m, "portcullis_lockouts_total") >= 1);
    assertEquals(1, delta(before, after, "portcullis_lockouts_total"));
    assertEquals(3, delta(before, after, "portcullis_signins_total", "outcome", "invalid_credentials"));
  }

  @Test
  void passwordHashTimeAndQueueWaitHistogramsGrowWithSignIns() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    PrometheusText before = scrape();

    app.signIn(email, PASSWORD);
    app.signIn(email, PASSWORD);

    PrometheusText after = scrapeUntil(m -> delta(before, m, "portcullis_password_hash_seconds_count") >= 2
      && delta(before, m, "portcullis_password_hash_queue_wait_seconds_count") >= 2);
    assertEquals(2, delta(before, after, "portcullis_password_hash_seconds_count"));
    assertEquals(2, delta(before, after, "portcullis_password_hash_queue_wait_seconds_count"));
    assertTrue(after.sum("portcullis_password_hash_seconds_sum") > before.sum("portcullis_password_hash_seconds_sum"));
    assertFalse(after.series("portcullis_password_hash_seconds_bucket", "le", "+Inf").isEmpty(), "a histogram");
    assertFalse(after.series("portcullis_password_hash_queue_wait_seconds_bucket", "le", "+Inf").isEmpty(),
      "a histogram");
  }

  @Test
  void aRateLimitHitIsCountedByRoute() {
    try (TestApp limited = TestApp.start(Map.of("PORTCULLIS_RATE_LIMITS", "on", "PORTCULLIS_RATE_LIMIT_BURST", "1"))) {
      JsonObject session = limited.signUp(TestApp.uniqueEmail(), PASSWORD);
      String[] bearer = TestApp.bearer(session.getString("access_token"));
      JsonObject update = new JsonObject().put("data", new JsonObject().put("nickname", "x"));

      TestApp.Response first = limited.putJson(BASE + "/user", update, bearer);
      TestApp.Response second = limited.putJson(BASE + "/user", update, bearer);

      assertEquals(200, first.status(), first.raw());
      assertEquals(429, second.status(), second.raw());
      assertEquals("over_request_rate_limit", second.errorCode());
      assertNotNull(second.header("Retry-After"));
      PrometheusText metrics = PrometheusText.parse(limited.get("/metrics").raw());
      assertEquals(1, metrics.sum("portcullis_rate_limited_total", "route", "user_update"));
      assertEquals(1, metrics.sum("portcullis_rate_limited_total"));
    }
  }

  // ---- helpers ----

  private static PrometheusText scrape() {
    TestApp.Response response = app.get("/metrics");
    assertEquals(200, response.status(), response.raw());
    return PrometheusText.parse(response.raw());
  }

  /**
   * Vert.x records an HTTP request's metrics when its response completes, which may be just after the client has
   * it; scrape again (a bounded number of times) until {@code condition} holds.
   */
  private static PrometheusText scrapeUntil(Predicate<PrometheusText> condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    PrometheusText metrics = scrape();
    while (!condition.test(metrics)) {
      if (System.nanoTime() > deadline) {
        fail("metrics never met the expected condition");
      }
      metrics = scrape();
    }
    return metrics;
  }

  private static long delta(PrometheusText before, PrometheusText after, String name, String... labels) {
    return Math.round(after.sum(name, labels) - before.sum(name, labels));
  }
}
