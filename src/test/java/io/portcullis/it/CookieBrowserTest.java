package io.portcullis.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonObject;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Cookie mode in a real browser: headless Chromium (playwright-core, through the shared BrowserHarness)
 * opens a page served from the site origin, which signs in through an OpenID Connect provider (mock-oauth2-server)
 * with PKCE and real redirects, exchanges the code, then works with cookies only: {@code GET /user}, a state change
 * refused without the CSRF header and accepted with it, sign-out clearing the cookies. Skipped when node, npm or
 * /usr/bin/chromium is missing.
 */
class CookieBrowserTest {

  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(150);
  private static final Path SCREENSHOT = Processes.BASEDIR.resolve("target/cookie-mode-failure.png");

  static MockOAuth2Server provider;
  static HttpServer site;
  static TestApp app;

  @BeforeAll
  static void start() throws Exception {
    if (!BrowserHarness.present()) {
      return;
    }
    BrowserHarness.install();
    provider = new MockOAuth2Server();
    provider.start(InetAddress.getByName("127.0.0.1"), 0);
    site = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    String siteUrl = "http://127.0.0.1:" + site.getAddress().getPort();
    app = TestApp.start(Map.of(
      "PORTCULLIS_SITE_URL", siteUrl,
      "PORTCULLIS_COOKIES_ENABLED", "true",
      "PORTCULLIS_EXTERNAL_KEYCLOAK_ENABLED", "true",
      "PORTCULLIS_EXTERNAL_KEYCLOAK_CLIENT_ID", "browser-app",
      "PORTCULLIS_EXTERNAL_KEYCLOAK_SECRET", "client-secret",
      "PORTCULLIS_EXTERNAL_KEYCLOAK_URL", provider.issuerUrl("default").toString()));
    String auth = app.url("");
    site.createContext("/cb", ex -> page(ex, CALLBACK_PAGE.replace("%AUTH%", auth)));
    site.createContext("/", ex -> page(ex, START_PAGE.replace("%AUTH%", auth)));
    site.start();
  }

  @AfterAll
  static void stop() {
    try {
      if (app != null) {
        app.close();
      }
    } finally {
      if (site != null) {
        site.stop(0);
      }
      if (provider != null) {
        provider.shutdown();
      }
    }
  }

  @Test
  void aBrowserAppSignsInThroughTheProviderAndWorksWithCookiesAndCsrf() throws Exception {
    assumeTrue(BrowserHarness.present(), BrowserHarness.absence() + ": the cookie-mode browser test needs them");
    String email = "browser-" + UUID.randomUUID() + "@example.com";
    provider.enqueueCallback(new DefaultOAuth2TokenCallback("default", "browser-" + UUID.randomUUID(), "JWT",
      List.of("browser-app"), Map.of("email", email, "email_verified", true), 3600));
    JsonObject result = BrowserHarness.runScript("cookie-signin.mjs",
      Map.of("E2E_START", "http://127.0.0.1:" + site.getAddress().getPort() + "/"), SCREENSHOT, RUN_TIMEOUT);
    String json = result.encode();
    assertEquals(200, result.getInteger("exchange"), json);
    assertEquals(true, result.getBoolean("csrfReadable"), json);
    assertEquals(false, result.getBoolean("accessReadable"), "the access cookie is HttpOnly: " + json);
    assertEquals(200, result.getInteger("user"), json);
    assertEquals(email, result.getString("email"), json);
    assertEquals(403, result.getInteger("withoutCsrf"), json);
    assertEquals("csrf_failed", result.getString("withoutCsrfCode"), json);
    assertEquals(200, result.getInteger("withCsrf"), json);
    assertEquals(204, result.getInteger("logout"), json);
    assertEquals(401, result.getInteger("afterLogout"), json);
    assertEquals(false, result.getBoolean("csrfAfterLogout"), json);
    assertFalse(result.getJsonArray("cookiesLeft").stream().anyMatch(c -> c.toString().startsWith("portcullis-")),
      json);
    assertTrue(result.getJsonArray("exchanges").stream().anyMatch(e -> e.toString().contains("/default/authorize")),
      "the browser went to the provider: " + json);
  }

  private static void page(HttpExchange ex, String html) throws IOException {
    byte[] bytes = html.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
    ex.sendResponseHeaders(200, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  /** Starts a PKCE sign-in: the verifier kept in sessionStorage, the browser sent to Portcullis's authorize. */
  private static final String START_PAGE = """
    <!doctype html><title>app</title><script type="module">
    const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\\+/g, '-').replace(/\\//g, '_')
      .replace(/=+$/, '');
    const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
    sessionStorage.setItem('verifier', verifier);
    const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256',
      new TextEncoder().encode(verifier))));
    location.href = '%AUTH%/auth/v1/authorize?provider=keycloak&redirect_to='
      + encodeURIComponent(location.origin + '/cb') + '&code_challenge=' + challenge + '&code_challenge_method=s256';
    </script>
    """;

  /** Back with the code: exchanges it, then uses the API with cookies only and reports what it saw. */
  private static final String CALLBACK_PAGE = """
    <!doctype html><title>app</title><script type="module">
    const auth = '%AUTH%';
    const out = {};
    const call = (method, path, body, headers = {}) => fetch(auth + path, { method, credentials: 'include',
      headers: { 'Content-Type': 'application/json', ...headers }, body: body ? JSON.stringify(body) : undefined });
    try {
      const code = new URLSearchParams(location.search).get('code');
      let r = await call('POST', '/auth/v1/token?grant_type=pkce',
        { auth_code: code, code_verifier: sessionStorage.getItem('verifier') });
      out.exchange = r.status;
      const csrf = (document.cookie.match(/(?:^|; )portcullis-csrf=([^;]+)/) || [])[1];
      out.csrfReadable = !!csrf;
      out.accessReadable = document.cookie.includes('portcullis-access');
      r = await fetch(auth + '/auth/v1/user', { credentials: 'include' });
      out.user = r.status;
      out.email = (await r.json()).email;
      r = await call('PUT', '/auth/v1/user', { data: { theme: 'dark' } });
      out.withoutCsrf = r.status;
      out.withoutCsrfCode = (await r.json()).error_code;
      r = await call('PUT', '/auth/v1/user', { data: { theme: 'dark' } }, { 'X-CSRF-Token': csrf });
      out.withCsrf = r.status;
      r = await call('POST', '/auth/v1/logout', null, { 'X-CSRF-Token': csrf });
      out.logout = r.status;
      r = await fetch(auth + '/auth/v1/user', { credentials: 'include' });
      out.afterLogout = r.status;
      out.csrfAfterLogout = document.cookie.includes('portcullis-csrf');
      out.ok = true;
    } catch (e) {
      out.ok = false;
      out.error = String(e && e.stack || e);
    }
    window.result = out;
    </script>
    """;
}
