package io.portcullis.it;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Headless Chromium (Debian's {@code chromium}) driven by {@code playwright-core}, pinned by the committed
 * package-lock.json in src/test/js/swagger-ui-e2e, for the tests that use a page as a person would. The scripts
 * there share harness.mjs (launch, step log, screenshot and exchanges on failure, a JSON summary on success).
 * An npm install that fails fails the test, since CI has node and the registry.
 */
final class BrowserHarness {

  static final String PLAYWRIGHT_VERSION = "1.65.1";
  private static final int MIN_NODE_MAJOR = 20;
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);

  private static final Path SOURCES = Processes.BASEDIR.resolve("src/test/js/swagger-ui-e2e");
  private static final Path INSTALL_DIR = Processes.BASEDIR.resolve("target/swagger-ui-e2e");

  private static final Path NODE = Processes.onPath("node");
  private static final Path NPM = Processes.onPath("npm");

  private BrowserHarness() {
  }

  static boolean present() {
    return NODE != null && NPM != null && Files.isExecutable(CHROMIUM);
  }

  static String absence() {
    return "node, npm and " + CHROMIUM + " are not all there (node=" + NODE + ", npm=" + NPM + ")";
  }

  /** Checks Node's version, then {@code npm ci} from the committed lock file unless target/ holds the driver. */
  static synchronized void install() throws IOException, InterruptedException {
    Processes.Outcome version = Processes.run(List.of(NODE.toString(), "--version"), Processes.BASEDIR, Map.of(),
      Duration.ofSeconds(30));
    assertEquals(0, version.exitCode(), "node --version failed:\n" + version.output());
    int major = Integer.parseInt(version.output().trim().replaceFirst("^v(\\d+)\\..*$", "$1"));
    assertTrue(major >= MIN_NODE_MAJOR, "playwright-core " + PLAYWRIGHT_VERSION + " needs Node.js >= "
      + MIN_NODE_MAJOR + ", found " + version.output().trim() + " at " + NODE);
    Files.createDirectories(INSTALL_DIR);
    Path lock = SOURCES.resolve("package-lock.json");
    Path installedLock = INSTALL_DIR.resolve("package-lock.json");
    boolean sameLock = Files.exists(installedLock) && Arrays.equals(Files.readAllBytes(lock),
      Files.readAllBytes(installedLock));
    if (sameLock && PLAYWRIGHT_VERSION.equals(installedDriverVersion())) {
      return;
    }
    Files.copy(SOURCES.resolve("package.json"), INSTALL_DIR.resolve("package.json"),
      StandardCopyOption.REPLACE_EXISTING);
    Files.copy(lock, installedLock, StandardCopyOption.REPLACE_EXISTING);
    Processes.Outcome install = Processes.run(List.of(NPM.toString(), "ci", "--no-audit", "--no-fund"), INSTALL_DIR,
      Map.of(), INSTALL_TIMEOUT);
    assertEquals(0, install.exitCode(), "npm ci in " + INSTALL_DIR + " failed:\n" + install.output());
    assertEquals(PLAYWRIGHT_VERSION, installedDriverVersion(),
      "npm ci did not install playwright-core " + PLAYWRIGHT_VERSION + ":\n" + install.output());
  }

  /**
   * Runs one of the scripts with {@code env} (plus CHROMIUM, E2E_SCREENSHOT and E2E_TIMEOUT_MS), asserts it
   * exited 0 and answers the JSON summary it printed. A failing run leaves a screenshot at {@code screenshot}.
   */
  static JsonObject runScript(String script, Map<String, String> env, Path screenshot, Duration timeout)
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
    Processes.Outcome outcome = Processes.run(List.of(NODE.toString(), script), INSTALL_DIR, all, timeout);
    System.out.println(outcome.output());
    assertEquals(0, outcome.exitCode(), script + " failed (screenshot: "
      + (Files.exists(screenshot) ? screenshot : "none") + "):\n" + outcome.output());
    String summary = outcome.output().substring(outcome.output().indexOf('{'));
    JsonObject result = new JsonObject(summary.substring(0, summary.lastIndexOf('}') + 1));
    assertEquals(true, result.getValue("ok"), summary);
    assertEquals("playwright-core@" + PLAYWRIGHT_VERSION, result.getString("client"), summary);
    return result;
  }

  private static String installedDriverVersion() throws IOException {
    Path manifest = INSTALL_DIR.resolve("node_modules/playwright-core/package.json");
    if (!Files.exists(manifest)) {
      return null;
    }
    return new JsonObject(Files.readString(manifest)).getString("version");
  }
}
