package io.portcullis.credential;

import io.portcullis.it.PrometheusText;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lockout against guesses sent in parallel: however many arrive at once, at most {@code lockout.failures}
 * of them are checked against the real hash before the lock applies, so the right password hidden in a burst of
 * wrong ones gets no session.
 */
class LockoutBurstTest {

  private static final int FAILURES = 5;
  private static final int WRONG_GUESSES = 30;
  private static final String PASSWORD = "password123";
  private static final String LOCKOUTS = "portcullis_lockouts_total";
  private static final String QUEUE_WAIT = "portcullis_password_hash_queue_wait_seconds_count";
  /** Hashing slow enough (tens of ms) that the burst is still being checked when the right guess arrives. */
  private static final Map<String, String> SETTINGS = Map.of(
    "PORTCULLIS_LOCKOUT_ENABLED", "true",
    "PORTCULLIS_LOCKOUT_FAILURES", Integer.toString(FAILURES),
    "PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB", "8192",
    "PORTCULLIS_PASSWORD_ARGON2_ITERATIONS", "4",
    "PORTCULLIS_PASSWORD_HASH_QUEUE", "256");
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void theRightPasswordInsideABurstOfWrongOnesGetsNoSessionAndOnlyTheAllowedFailuresAreChecked() throws Exception {
    try (TestApp app = TestApp.start(SETTINGS)) {
      String email = TestApp.uniqueEmail();
      app.signUp(email, PASSWORD);
      double lockoutsBefore = metric(app, LOCKOUTS);
      double hashingBefore = metric(app, QUEUE_WAIT);

      List<CompletableFuture<HttpResponse<String>>> wrong = new ArrayList<>();
      for (int i = 0; i < WRONG_GUESSES; i++) {
        wrong.add(signIn(app, email, "wrong-guess-" + i));
      }
      // The right guess goes out while the wrong ones are being checked, none of them answered yet.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (metric(app, QUEUE_WAIT) == hashingBefore && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(wrong.stream().noneMatch(CompletableFuture::isDone), "the burst is still in flight");
      HttpResponse<String> right = signIn(app, email, PASSWORD).get(60, TimeUnit.SECONDS);

      assertEquals(400, right.statusCode(), right.body());
      assertEquals("invalid_credentials", new JsonObject(right.body()).getString("error_code"), right.body());
      for (CompletableFuture<HttpResponse<String>> guess : wrong) {
        HttpResponse<String> answer = guess.get(60, TimeUnit.SECONDS);
        assertEquals(400, answer.statusCode(), answer.body());
        assertEquals("invalid_credentials", new JsonObject(answer.body()).getString("error_code"), answer.body());
      }
      // A lockout is counted when a checked failure locks the account: one means that exactly FAILURES guesses
      // were checked and every other one was refused unchecked (each further checked failure would count again).
      assertEquals(1.0, metric(app, LOCKOUTS) - lockoutsBefore, "lockouts from one burst");
    }
  }

  private static CompletableFuture<HttpResponse<String>> signIn(TestApp app, String email, String password) {
    return HTTP.sendAsync(HttpRequest.newBuilder(URI.create(app.url(BASE + "/token?grant_type=password")))
      .timeout(Duration.ofSeconds(60))
      .header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("email", email).put("password", password).encode()))
      .build(), HttpResponse.BodyHandlers.ofString());
  }

  private static double metric(TestApp app, String name) {
    return PrometheusText.parse(app.get("/metrics").raw()).sum(name);
  }
}
