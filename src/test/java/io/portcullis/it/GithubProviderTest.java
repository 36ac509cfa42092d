package io.portcullis.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GitHub preset against a local stub of GitHub's OAuth and user endpoints (as GitHub Enterprise serves them:
 * web under the base URL, API under /api/v3): the code redeemed with the secret and the PKCE verifier, the identity
 * read from /user and /user/emails.
 */
class GithubProviderTest {

  static final String SITE = "https://app.portcullis.test";
  static HttpServer github;
  static String base;
  static TestApp app;
  /** The user the stub signs in next: {@code /user} and {@code /user/emails} bodies. */
  static final AtomicReference<JsonObject> USER = new AtomicReference<>();
  static final AtomicReference<JsonArray> EMAILS = new AtomicReference<>();

  @BeforeAll
  static void start() throws IOException {
    github = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    base = "http://127.0.0.1:" + github.getAddress().getPort();
    github.createContext("/login/oauth/authorize", ex -> {
      Map<String, String> query = Mailbox.query(ex.getRequestURI().getRawQuery());
      assertEquals("gh-client", query.get("client_id"));
      ex.getResponseHeaders().add("Location", query.get("redirect_uri") + "?code=gh-code&state="
        + URLEncoder.encode(query.get("state"), StandardCharsets.UTF_8));
      ex.sendResponseHeaders(302, -1);
      ex.close();
    });
    github.createContext("/login/oauth/access_token", ex -> {
      Map<String, String> form = Mailbox.query(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      boolean ok = "gh-code".equals(form.get("code")) && "gh-secret".equals(form.get("client_secret"))
        && form.get("code_verifier") != null;
      respond(ex, 200, ok ? new JsonObject().put("access_token", "gho_token").put("token_type", "bearer").encode()
        : new JsonObject().put("error", "bad_verification_code").encode());
    });
    github.createContext("/api/v3/user/emails", ex -> respond(ex, authorized(ex) ? 200 : 401, EMAILS.get().encode()));
    github.createContext("/api/v3/user", ex -> respond(ex, authorized(ex) ? 200 : 401, USER.get().encode()));
    github.start();
    app = TestApp.start(Map.of("PORTCULLIS_SITE_URL", SITE,
      "PORTCULLIS_EXTERNAL_GITHUB_ENABLED", "true",
      "PORTCULLIS_EXTERNAL_GITHUB_CLIENT_ID", "gh-client",
      "PORTCULLIS_EXTERNAL_GITHUB_SECRET", "gh-secret",
      "PORTCULLIS_EXTERNAL_GITHUB_URL", base));
  }

  @AfterAll
  static void stop() {
    try {
      app.close();
    } finally {
      github.stop(0);
    }
  }

  static boolean authorized(HttpExchange ex) {
    return "Bearer gho_token".equals(ex.getRequestHeaders().getFirst("Authorization"));
  }

  static void respond(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  static URI signIn() {
    String toGithub = ExternalProviderTest.location(ExternalProviderTest.get(app.url(BASE
      + "/authorize?provider=github&redirect_to=" + SITE + "/cb")));
    assertTrue(toGithub.startsWith(base + "/login/oauth/authorize?"), toGithub);
    String callback = ExternalProviderTest.location(ExternalProviderTest.get(toGithub));
    return URI.create(ExternalProviderTest.location(ExternalProviderTest.get(callback)));
  }

  @Test
  void aGithubUserSignsInWithThePrimaryVerifiedEmail() {
    long id = System.nanoTime();
    String email = TestApp.uniqueEmail();
    USER.set(new JsonObject().put("id", id).put("login", "octocat").put("name", "Mona Octocat")
      .put("avatar_url", "https://avatars.example/u/1"));
    EMAILS.set(new JsonArray()
      .add(new JsonObject().put("email", "old-" + email).put("primary", false).put("verified", true))
      .add(new JsonObject().put("email", email).put("primary", true).put("verified", true)));
    URI target = signIn();
    Map<String, String> fragment = Mailbox.query(target.getRawFragment());
    assertNotNull(fragment.get("access_token"), target.toString());
    assertEquals("gho_token", fragment.get("provider_token"));
    JsonObject user = app.get(BASE + "/user", TestApp.bearer(fragment.get("access_token"))).json();
    assertEquals(email, user.getString("email"));
    assertEquals("github", user.getJsonObject("app_metadata").getString("provider"));
    assertEquals("octocat", user.getJsonObject("user_metadata").getString("user_name"));
    JsonObject identity = user.getJsonArray("identities").getJsonObject(0);
    assertEquals(String.valueOf(id), identity.getString("id"));
    assertEquals(true, app.get(BASE + "/settings").json().getJsonObject("external").getBoolean("github"));
  }

  @Test
  void anUnverifiedGithubEmailDoesNotTakeOverAnAccount() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, "password123");
    USER.set(new JsonObject().put("id", System.nanoTime()).put("login", "mallory"));
    EMAILS.set(new JsonArray().add(new JsonObject().put("email", email).put("primary", true).put("verified", false)));
    URI target = signIn();
    // No verified address: a new user without email, not the existing account.
    Map<String, String> fragment = Mailbox.query(target.getRawFragment());
    JsonObject user = app.get(BASE + "/user", TestApp.bearer(fragment.get("access_token"))).json();
    assertEquals("", user.getString("email"));
    assertEquals(1, user.getJsonArray("identities").size());
  }

  @Test
  void aRefusedCodeEndsInTheErrorRedirect() {
    String toGithub = ExternalProviderTest.location(ExternalProviderTest.get(app.url(BASE
      + "/authorize?provider=github&redirect_to=" + SITE + "/cb")));
    String callback = ExternalProviderTest.location(ExternalProviderTest.get(toGithub)).replace("code=gh-code",
      "code=stolen");
    URI target = URI.create(ExternalProviderTest.location(ExternalProviderTest.get(callback)));
    assertEquals("bad_oauth_callback", Mailbox.query(target.getRawQuery()).get("error_code"), target.toString());
  }
}
