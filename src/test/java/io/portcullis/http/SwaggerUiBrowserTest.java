package io.portcullis.http;

import io.portcullis.it.NodeHarness;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * /docs as a person uses it: headless Chromium (Debian's {@code chromium}), driven by {@code playwright-core}
 * pinned by the committed package-lock.json in src/test/js/swagger-ui-e2e, opens Swagger UI, signs in through
 * "Authorize" (OAuth2 password flow against /auth/v1/token), runs {@code GET /auth/v1/user} with "Try it out"
 * and reads the 200 and the user's email on the page. A failing run leaves a screenshot in
 * target/swagger-ui-failure.png. Skipped when node, npm or /usr/bin/chromium is missing; an npm install that
 * fails fails the test, since CI has node and the registry.
 */
class SwaggerUiBrowserTest {

  private static final String PLAYWRIGHT_VERSION = "1.65.1";
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(150);
  private static final Path SCREENSHOT = NodeHarness.BASEDIR.resolve("target/swagger-ui-failure.png");
  private static final NodeHarness NODE = new NodeHarness("swagger-ui-e2e", "swagger-ui-e2e", "playwright-core",
    PLAYWRIGHT_VERSION);

  static TestApp app;

  @BeforeAll
  static void installDriverAndStart() throws Exception {
    if (!toolsPresent()) {
      return;
    }
    NODE.install();
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
    assumeTrue(toolsPresent(), "node, npm and " + CHROMIUM + " are not all there (" + NODE.describe()
      + "): the Swagger UI browser test needs them");
    String email = TestApp.uniqueEmail();
    String password = "swagger-ui password";
    app.signUp(email, password);

    Files.deleteIfExists(SCREENSHOT);
    NodeHarness.Outcome outcome = NODE.runScript("e2e.mjs", Map.of(
        "PORTCULLIS_URL", app.url(""),
        "E2E_EMAIL", email,
        "E2E_PASSWORD", password,
        "CHROMIUM", CHROMIUM.toString(),
        "E2E_SCREENSHOT", SCREENSHOT.toString(),
        "E2E_TIMEOUT_MS", Long.toString(RUN_TIMEOUT.toMillis() - 20_000)),
      RUN_TIMEOUT);
    System.out.println(outcome.output());
    assertEquals(0, outcome.exitCode(), "Swagger UI at " + app.url("/docs") + " failed (screenshot: "
      + (Files.exists(SCREENSHOT) ? SCREENSHOT : "none") + "):\n" + outcome.output());
    String summary = outcome.output().substring(outcome.output().indexOf('{'));
    JsonObject result = new JsonObject(summary.substring(0, summary.lastIndexOf('}') + 1));
    assertEquals(true, result.getValue("ok"), summary);
    assertEquals(200, result.getInteger("status"), summary);
    assertEquals(email, result.getString("email"), summary);
    assertEquals("playwright-core@" + PLAYWRIGHT_VERSION, result.getString("client"), summary);
  }

  private static boolean toolsPresent() {
    return NODE.present() && Files.isExecutable(CHROMIUM);
  }
}
