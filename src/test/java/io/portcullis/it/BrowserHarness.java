package io.portcullis.it;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Headless Chromium (Debian's {@code chromium}) driven by {@code playwright-core}, pinned by the committed
 * package-lock.json in src/test/js/swagger-ui-e2e, for the tests that use a page as a person would. The scripts
 * there share harness.mjs (launch, step log, screenshot and exchanges on failure, a JSON summary on success).
 * An npm install that fails fails the test, since CI has node and the registry.
 */
public final class BrowserHarness {

  public static final String PLAYWRIGHT_VERSION = "1.65.1";
  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  private static final Path SOURCES = Processes.BASEDIR.resolve("src/test/js/swagger-ui-e2e");
  private static final Path INSTALL_DIR = Processes.BASEDIR.resolve("target/swagger-ui-e2e");

  private static final NodeHarness NODE = new NodeHarness("swagger-ui-e2e", "swagger-ui-e2e", "playwright-core",
    PLAYWRIGHT_VERSION);

  private BrowserHarness() {
  }

  public static boolean present() {
    return NODE.present() && Files.isExecutable(CHROMIUM);
  }

  public static String absence() {
    return "node, npm and " + CHROMIUM + " are not all there (" + NODE.describe() + ")";
  }

  /** Checks Node's version, then {@code npm ci} from the committed lock file unless target/ holds the driver. */
  public static synchronized void install() throws IOException, InterruptedException {
    NODE.install();
  }

  /**
   * Runs one of the scripts with {@code env} (plus CHROMIUM, E2E_SCREENSHOT and E2E_TIMEOUT_MS), asserts it
   * exited 0 and answers the JSON summary it printed. A failing run leaves a screenshot at {@code screenshot}.
   */
  public static JsonObject runScript(String script, Map<String, String> env, Path screenshot, Duration timeout)
    throws IOException, InterruptedException {
    Files.deleteIfExists(screenshot);
    try (Stream<Path> sources = Files.list(SOURCES)) {
      for (Path source : sources.filter(p -> p.toString().endsWith(".mjs")).toList()) {
        Files.copy(source, INSTALL_DIR.resolve(source.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Map<String, String> all = new HashMap<>(env);
    all.put("CHROMIUM", CHROMIUM.toString());
    all.put("E2E_SCREENSHOT", screenshot.toString());
    all.put("E2E_TIMEOUT_MS", Long.toString(timeout.toMillis() - 20_000));
    Processes.Outcome outcome = Processes.run(List.of(NODE.node.toString(), script), INSTALL_DIR, all, timeout);
    System.out.println(outcome.output());
    assertEquals(0, outcome.exitCode(), script + " failed (screenshot: "
      + (Files.exists(screenshot) ? screenshot : "none") + "):\n" + outcome.output());
    String summary = outcome.output().substring(outcome.output().indexOf('{'));
    JsonObject result = new JsonObject(summary.substring(0, summary.lastIndexOf('}') + 1));
    assertEquals(true, result.getValue("ok"), summary);
    assertEquals("playwright-core@" + PLAYWRIGHT_VERSION, result.getString("client"), summary);
    return result;
  }
}
