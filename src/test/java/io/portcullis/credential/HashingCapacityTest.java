package io.portcullis.credential;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bound on password hashing: with one hashing worker and a queue of one, a burst of concurrent
 * sign-ins hashes at most two at a time and turns the rest away at once with 503 service_unavailable and
 * Retry-After, instead of queueing 64 MiB argon2id hashes; the service stays healthy.
 */
@ExtendWith(AppExtension.class)
class HashingCapacityTest {

  private static final String PASSWORD = "password123";
  private static final int CONCURRENT = 12;

  // Costly hashes (64 MiB; some 300 ms each here), so that the burst arrives while the first one runs.
  @App({
    "PORTCULLIS_PASSWORD_HASH_WORKERS=1",
    "PORTCULLIS_PASSWORD_HASH_QUEUE=1",
    "PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB=65536",
    "PORTCULLIS_PASSWORD_ARGON2_ITERATIONS=2"})
  static TestApp app;

  /** One answer and how long it took from the moment the burst was sent. */
  private record Timed(int status, String errorCode, String retryAfter, long millis, String raw) {
  }

  @Test
  void beyondWorkersPlusQueueSignInsAreTurnedAwayQuicklyWith503AndTheServiceStaysHealthy() throws Exception {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest request = HttpRequest.newBuilder(URI.create(app.url(BASE + "/token?grant_type=password")))
      .timeout(Duration.ofSeconds(60))
      .header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(
        new JsonObject().put("email", email).put("password", PASSWORD).encode()))
      .build();

    List<CompletableFuture<Timed>> burst = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < CONCURRENT; i++) {
      burst.add(client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(r -> new Timed(
        r.statusCode(),
        new TestApp.Response(r.statusCode(), r.headers(), r.body()).errorCode(),
        r.headers().firstValue("Retry-After").orElse(null),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
        r.body())));
    }
    CompletableFuture.allOf(burst.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
    List<Timed> answers = burst.stream().map(CompletableFuture::join).toList();

    List<Timed> signedIn = answers.stream().filter(t -> t.status() == 200).toList();
    List<Timed> refused = answers.stream().filter(t -> t.status() != 200).toList();
    String summary = answers.stream().map(t -> t.status() + "/" + t.millis() + "ms").toList().toString();
    assertFalse(signedIn.isEmpty(), "no sign-in succeeded: " + summary);
    assertFalse(refused.isEmpty(), "no sign-in was turned away: " + summary);
    for (Timed t : refused) {
      assertEquals(503, t.status(), t.raw());
      assertEquals("service_unavailable", t.errorCode(), t.raw());
      assertNotNull(t.retryAfter(), "503 without Retry-After: " + t.raw());
      assertTrue(Long.parseLong(t.retryAfter()) > 0, t.retryAfter());
    }
    long slowestSuccess = signedIn.stream().mapToLong(Timed::millis).max().orElseThrow();
    long slowestRefusal = refused.stream().mapToLong(Timed::millis).max().orElseThrow();
    assertTrue(slowestRefusal < slowestSuccess,
      "refusals must not wait for a hash: slowest refusal " + slowestRefusal + " ms, slowest success "
        + slowestSuccess + " ms; " + summary);

    TestApp.Response health = app.get("/health");
    assertEquals(200, health.status(), health.raw());
    app.signIn(email, PASSWORD);
  }
}
