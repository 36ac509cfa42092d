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
 * The real-client test: the official {@code @supabase/supabase-js}, pinned by the committed package-lock.json in
 * src/test/js/supabase-e2e, drives a running Portcullis through e2e.mjs (sign-up, sign-in, user updates, a password
 * change, refresh, local ES256 verification via JWKS, the error codes the client maps, sign-out). Skipped when node
 * or npm is not on PATH; an npm install that fails fails the test, since CI has node and the registry.
 */
class SupabaseJsTest {

  private static final String CLIENT_VERSION = "2.109.0";
  private static final int MIN_NODE_MAJOR = 20;
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(120);

  private static final Path BASEDIR = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
  private static final Path SOURCES = BASEDIR.resolve("src/test/js/supabase-e2e");
  private static final Path INSTALL_DIR = BASEDIR.resolve("target/supabase-js");

  static Path node;
  static Path npm;
  static TestApp app;

  @BeforeAll
  static void installClientAndStart() throws Exception {
    node = onPath("node");
    npm = onPath("npm");
    if (!toolsPresent()) {
      return;
    }
    Outcome version = run(List.of(node.toString(), "--version"), BASEDIR, Map.of(), Duration.ofSeconds(30));
    assertEquals(0, version.exitCode(), "node --version failed:\n" + version.output());
    int major = Integer.parseInt(version.output().trim().replaceFirst("^v(\\d+)\\..*$", "$1"));
    assertTrue(major >= MIN_NODE_MAJOR, "supabase-js " + CLIENT_VERSION + " needs Node.js >= " + MIN_NODE_MAJOR
      + ", found " + version.output().trim() + " at " + node);
    installClient();
    app = TestApp.start();
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  @Test
  void officialSupabaseJsClientSignsUpSignsInUpdatesRefreshesVerifiesClaimsAndSignsOut() throws Exception {
    // Here rather than in @BeforeAll: Surefire counts an aborted class as no test at all, not as a skipped one.
    assumeTrue(toolsPresent(), "node and npm are not both on PATH (node=" + node + ", npm=" + npm
      + "): the supabase-js real-client test needs them");
    Files.copy(SOURCES.resolve("e2e.mjs"), INSTALL_DIR.resolve("e2e.mjs"), StandardCopyOption.REPLACE_EXISTING);
    Outcome outcome = run(List.of(node.toString(), "e2e.mjs"), INSTALL_DIR,
      Map.of("PORTCULLIS_URL", app.url(""), "E2E_TIMEOUT_MS", Long.toString(RUN_TIMEOUT.toMillis() - 10_000)),
      RUN_TIMEOUT);
    System.out.println(outcome.output());
    assertEquals(0, outcome.exitCode(), "node e2e.mjs failed against " + app.url("") + ":\n" + outcome.output());
    assertTrue(outcome.output().contains("\"ok\": true"), "no success summary:\n" + outcome.output());
    assertTrue(outcome.output().contains("@supabase/supabase-js@" + CLIENT_VERSION),
      "ran another client version:\n" + outcome.output());
  }

  private static boolean toolsPresent() {
    return node != null && npm != null;
  }

  /** {@code npm ci} from the committed lock file, unless target/ already holds the pinned client. */
  private static void installClient() throws IOException, InterruptedException {
    Files.createDirectories(INSTALL_DIR);
    Path lock = SOURCES.resolve("package-lock.json");
    Path installedLock = INSTALL_DIR.resolve("package-lock.json");
    boolean sameLock = Files.exists(installedLock) && Arrays.equals(Files.readAllBytes(lock),
      Files.readAllBytes(installedLock));
    if (sameLock && CLIENT_VERSION.equals(installedClientVersion()) && Files.isDirectory(nodeModule("ws"))) {
      return;
    }
    Files.copy(SOURCES.resolve("package.json"), INSTALL_DIR.resolve("package.json"),
      StandardCopyOption.REPLACE_EXISTING);
    Files.copy(lock, installedLock, StandardCopyOption.REPLACE_EXISTING);
    Outcome install = run(List.of(npm.toString(), "ci", "--no-audit", "--no-fund"), INSTALL_DIR, Map.of(),
      INSTALL_TIMEOUT);
    assertEquals(0, install.exitCode(), "npm ci in " + INSTALL_DIR + " failed:\n" + install.output());
    assertEquals(CLIENT_VERSION, installedClientVersion(),
      "npm ci did not install @supabase/supabase-js " + CLIENT_VERSION + ":\n" + install.output());
  }

  private static String installedClientVersion() throws IOException {
    Path manifest = nodeModule("@supabase/supabase-js").resolve("package.json");
    if (!Files.exists(manifest)) {
      return null;
    }
    return new JsonObject(Files.readString(manifest)).getString("version");
  }

  private static Path nodeModule(String name) {
    return INSTALL_DIR.resolve("node_modules").resolve(name);
  }

  private static Path onPath(String command) {
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

  private record Outcome(int exitCode, String output) {
  }

  /** Runs a command with stdout and stderr merged into a file (no pipe to fill up); kills it when it overruns. */
  private static Outcome run(List<String> command, Path dir, Map<String, String> env, Duration timeout)
    throws IOException, InterruptedException {
    Path log = Files.createTempFile(Files.createDirectories(BASEDIR.resolve("target")), "supabase-js-", ".out");
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
