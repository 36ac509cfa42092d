package io.portcullis.http;

import io.portcullis.it.BrowserHarness;
import io.portcullis.it.Processes;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * /docs as a person uses it: headless Chromium opens Swagger UI, signs in through "Authorize" (OAuth2 password
 * flow against /auth/v1/token), runs {@code GET /auth/v1/user} with "Try it out" and reads the 200 and the user's
 * email on the page (src/test/js/swagger-ui-e2e/e2e.mjs, through {@link BrowserHarness}). A failing run leaves a
 * screenshot in target/swagger-ui-failure.png. Skipped when node, npm or /usr/bin/chromium is missing.
 */
class SwaggerUiBrowserTest {

  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(150);

  static TestApp app;

  @BeforeAll
  static void installDriverAndStart() throws Exception {
    if (!BrowserHarness.present()) {
      return;
    }
    BrowserHarness.install();
    app = TestApp.start();
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  @Test
  void signingInThroughAuthorizeLetsSwaggerUiRunGetUserWith200() throws Exception {
    // Here rather than in @BeforeAll: Surefire counts an aborted class as no test at all, not as a skipped one.
    assumeTrue(BrowserHarness.present(), BrowserHarness.absence() + ": the Swagger UI browser test needs them");
    String email = TestApp.uniqueEmail();
    String password = "swagger-ui password";
    app.signUp(email, password);

    JsonObject result = BrowserHarness.runScript("e2e.mjs", Map.of(
        "PORTCULLIS_URL", app.url(""),
        "E2E_EMAIL", email,
        "E2E_PASSWORD", password),
      Processes.BASEDIR.resolve("target/swagger-ui-failure.png"), RUN_TIMEOUT);
    assertEquals(200, result.getInteger("status"), result.encode());
    assertEquals(email, result.getString("email"), result.encode());
  }
}
