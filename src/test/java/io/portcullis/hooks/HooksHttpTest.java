package io.portcullis.hooks;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import io.portcullis.it.TestApp;

import static io.portcullis.it.ErrorShapes.assertLegacy;
import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hooks served by HTTP endpoints: each request is signed as Standard Webhooks with the configured secret (the
 * endpoint here refuses any other), carries GoTrue's metadata, and its answer is used as over the bus.
 */
class HooksHttpTest {

  static final String PASSWORD = "hooks-Passw0rd!";
  static byte[] key;
  static HttpServer endpoint;
  static TestApp app;
  static final List<String> refusedSignatures = new CopyOnWriteArrayList<>();
  static final List<String> names = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws IOException {
    key = new byte[32];
    new SecureRandom().nextBytes(key);
    endpoint = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    endpoint.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    endpoint.createContext("/claims", exchange -> answer(exchange, input -> {
      JsonObject claims = input.getJsonObject("claims").put("tier", "platinum");
      if (claims.getString("email").startsWith("slow-")) {
        try {
          Thread.sleep(2_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return new JsonObject().put("claims", claims);
    }));
    endpoint.createContext("/signups", exchange -> answer(exchange, input ->
      input.getJsonObject("user").getString("email").startsWith("blocked-")
        ? new JsonObject().put("decision", "reject").put("message", "Invitation only")
        : new JsonObject()));
    endpoint.start();
    String base = "http://127.0.0.1:" + endpoint.getAddress().getPort();
    String secret = "v1,whsec_" + Base64.getEncoder().encodeToString(key);
    app = TestApp.start(Map.of(
      "PORTCULLIS_HOOKS_TIMEOUT_MS", "700",
      "PORTCULLIS_HOOKS_CUSTOM_ACCESS_TOKEN_ENABLED", "true",
      "PORTCULLIS_HOOKS_CUSTOM_ACCESS_TOKEN_URI", base + "/claims",
      "PORTCULLIS_HOOKS_CUSTOM_ACCESS_TOKEN_SECRET", secret,
      "PORTCULLIS_HOOKS_BEFORE_USER_CREATED_ENABLED", "true",
      "PORTCULLIS_HOOKS_BEFORE_USER_CREATED_URI", base + "/signups",
      "PORTCULLIS_HOOKS_BEFORE_USER_CREATED_SECRET", secret));
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
    endpoint.stop(0);
  }

  /** Checks the Standard Webhooks signature (401 when it does not match), then answers. */
  static void answer(HttpExchange exchange, java.util.function.Function<JsonObject, JsonObject> hook) throws IOException {
    byte[] body = exchange.getRequestBody().readAllBytes();
    String id = exchange.getRequestHeaders().getFirst("webhook-id");
    String timestamp = exchange.getRequestHeaders().getFirst("webhook-timestamp");
    String signature = exchange.getRequestHeaders().getFirst("webhook-signature");
    byte[] expected;
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      expected = ("v1," + Base64.getEncoder().encodeToString(
        mac.doFinal((id + "." + timestamp + "." + new String(body, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8))))
        .getBytes(StandardCharsets.UTF_8);
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException(e);
    }
    byte[] answer;
    int status;
    if (signature == null || !MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.UTF_8))
      || Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(timestamp)) > 300) {
      refusedSignatures.add(String.valueOf(signature));
      status = 401;
      answer = "{}".getBytes(StandardCharsets.UTF_8);
    } else {
      JsonObject input = new JsonObject(new String(body, StandardCharsets.UTF_8));
      names.add(input.getJsonObject("metadata").getString("name"));
      status = 200;
      answer = hook.apply(input).encode().getBytes(StandardCharsets.UTF_8);
    }
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, answer.length);
    exchange.getResponseBody().write(answer);
    exchange.close();
  }

  @Test
  void signedWebhooksAddClaimsAndRefuseSignUps() {
    TestApp.Response signedUp = app.postJson(BASE + "/signup",
      new JsonObject().put("email", TestApp.uniqueEmail()).put("password", PASSWORD));

    assertEquals(200, signedUp.status(), signedUp.raw());
    String token = signedUp.json().getString("access_token");
    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[1])));
    assertEquals("platinum", claims.getString("tier"), claims.encode());
    assertEquals(200, app.get(BASE + "/user", TestApp.bearer(token)).status());
    TestApp.Response refused = app.postJson(BASE + "/signup",
      new JsonObject().put("email", "blocked-" + TestApp.uniqueEmail()).put("password", PASSWORD));
    assertEquals("Invitation only", assertLegacy(refused, 403, "hook_rejected").getString("msg"));
    assertEquals(List.of(), refusedSignatures);
    assertTrue(names.containsAll(List.of("before-user-created", "customize-access-token")), names.toString());
  }

  @Test
  void anEndpointTooSlowToAnswerFailsTheSignUpClosed() {
    long start = System.nanoTime();
    TestApp.Response r = app.postJson(BASE + "/signup",
      new JsonObject().put("email", "slow-" + TestApp.uniqueEmail()).put("password", PASSWORD));

    assertLegacy(r, 500, "hook_failed");
    assertTrue(System.nanoTime() - start < 1_900_000_000L, "answered when the hook timed out, not when it answered");
  }
}
