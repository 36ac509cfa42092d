package io.portcullis.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
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
  private static final int MIN_NODE_MAJOR = 20;
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(150);

  private static final Path BASEDIR = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
  static final Path SOURCES = BASEDIR.resolve("src/test/js/swagger-ui-e2e");
  static final Path INSTALL_DIR = BASEDIR.resolve("target/swagger-ui-e2e");
  private static final Path SCREENSHOT = BASEDIR.resolve("target/swagger-ui-failure.png");

  static Path node;
  static Path npm;
  static TestApp app;

  @BeforeAll
  static void installDriverAndStart() throws Exception {
    node = onPath("node");
    npm = onPath("npm");
    if (!toolsPresent()) {
      return;
    }
    Outcome version = run(List.of(node.toString(), "--version"), BASEDIR, Map.of(), Duration.ofSeconds(30));
    assertEquals(0, version.exitCode(), "node --version failed:\n" + version.output());
    int major = Integer.parseInt(version.output().trim().replaceFirst("^v(\\d+)\\..*$", "$1"));
    assertTrue(major >= MIN_NODE_MAJOR, "playwright-core " + PLAYWRIGHT_VERSION + " needs Node.js >= "
      + MIN_NODE_MAJOR + ", found " + version.output().trim() + " at " + node);
    installDriver();
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
    assumeTrue(toolsPresent(), "node, npm and " + CHROMIUM + " are not all there (node=" + node + ", npm=" + npm
      + "): the Swagger UI browser test needs them");
    String email = TestApp.uniqueEmail();
    String password = "swagger-ui password";
    app.signUp(email, password);

    Files.deleteIfExists(SCREENSHOT);
    Files.copy(SOURCES.resolve("e2e.mjs"), INSTALL_DIR.resolve("e2e.mjs"), StandardCopyOption.REPLACE_EXISTING);
    Outcome outcome = run(List.of(node.toString(), "e2e.mjs"), INSTALL_DIR, Map.of(
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

  static boolean toolsPresent() {
    return node != null && npm != null && Files.isExecutable(CHROMIUM);
  }

  /** {@code npm ci} from the committed lock file, unless target/ already holds the pinned driver. */
  static void installDriver() throws IOException, InterruptedException {
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
    Outcome install = run(List.of(npm.toString(), "ci", "--no-audit", "--no-fund"), INSTALL_DIR, Map.of(),
      INSTALL_TIMEOUT);
    assertEquals(0, install.exitCode(), "npm ci in " + INSTALL_DIR + " failed:\n" + install.output());
    assertEquals(PLAYWRIGHT_VERSION, installedDriverVersion(),
      "npm ci did not install playwright-core " + PLAYWRIGHT_VERSION + ":\n" + install.output());
  }

  private static String installedDriverVersion() throws IOException {
    Path manifest = INSTALL_DIR.resolve("node_modules/playwright-core/package.json");
    if (!Files.exists(manifest)) {
      return null;
    }
    return new JsonObject(Files.readString(manifest)).getString("version");
  }

  static Path onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, command);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  record Outcome(int exitCode, String output) {
  }

  /** Runs a command with stdout and stderr merged into a file (no pipe to fill up); kills it when it overruns. */
  static Outcome run(List<String> command, Path dir, Map<String, String> env, Duration timeout)
    throws IOException, InterruptedException {
    Path log = Files.createTempFile(Files.createDirectories(BASEDIR.resolve("target")), "swagger-ui-", ".out");
    try {
      ProcessBuilder builder = new ProcessBuilder(command)
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
      builder.environment().putAll(env);
      builder.environment().put("NO_COLOR", "1");
      Process process = builder.start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        fail(String.join(" ", command) + " did not finish within " + timeout.toSeconds() + " s:\n" + read(log));
      }
      return new Outcome(process.exitValue(), read(log));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  private static String read(Path log) {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
