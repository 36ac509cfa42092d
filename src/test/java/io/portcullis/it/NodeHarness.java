package io.portcullis.it;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Node.js project under src/test/js that a test drives (the supabase-js client, Swagger UI through Playwright):
 * finds node and npm on PATH, installs the project's pinned packages with {@code npm ci} into target/ (once, while
 * the lock file and the package's version stay the same), and runs its script.
 */
public final class NodeHarness {

  private static final int MIN_NODE_MAJOR = 20;
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);

  public final Path node = Processes.onPath("node");
  public final Path npm = Processes.onPath("npm");
  private final Path sources;
  private final Path installDir;
  private final String pkg;
  private final String version;
  private final List<String> alsoNeeded;

  /**
   * {@code project}: the folder under src/test/js; {@code installDir}: where under target/ it is installed;
   * {@code pkg} at {@code version}: the package that must be there, and {@code alsoNeeded} other modules.
   */
  public NodeHarness(String project, String installDir, String pkg, String version, String... alsoNeeded) {
    this.sources = Processes.BASEDIR.resolve("src/test/js").resolve(project);
    this.installDir = Processes.BASEDIR.resolve("target").resolve(installDir);
    this.pkg = pkg;
    this.version = version;
    this.alsoNeeded = List.of(alsoNeeded);
  }

  /** Whether node and npm are both on PATH (tests that need them are skipped otherwise). */
  public boolean present() {
    return node != null && npm != null;
  }

  public String describe() {
    return "node=" + node + ", npm=" + npm;
  }

  /** Checks node's version, then installs the pinned packages unless they are installed already. */
  public void install() throws IOException, InterruptedException {
    Processes.Outcome nodeVersion = Processes.run(List.of(node.toString(), "--version"), Processes.BASEDIR,
      Map.of(), Duration.ofSeconds(30));
    assertEquals(0, nodeVersion.exitCode(), "node --version failed:\n" + nodeVersion.output());
    int major = Integer.parseInt(nodeVersion.output().trim().replaceFirst("^v(\\d+)\\..*$", "$1"));
    assertTrue(major >= MIN_NODE_MAJOR, pkg + " " + version + " needs Node.js >= " + MIN_NODE_MAJOR + ", found "
      + nodeVersion.output().trim() + " at " + node);
    Files.createDirectories(installDir);
    Path lock = sources.resolve("package-lock.json");
    Path installedLock = installDir.resolve("package-lock.json");
    boolean sameLock = Files.exists(installedLock) && Arrays.equals(Files.readAllBytes(lock),
      Files.readAllBytes(installedLock));
    if (sameLock && version.equals(installedVersion())
      && alsoNeeded.stream().allMatch(module -> Files.isDirectory(module(module)))) {
      return;
    }
    Files.copy(sources.resolve("package.json"), installDir.resolve("package.json"),
      StandardCopyOption.REPLACE_EXISTING);
    Files.copy(lock, installedLock, StandardCopyOption.REPLACE_EXISTING);
    Processes.Outcome install = Processes.run(List.of(npm.toString(), "ci", "--no-audit", "--no-fund"), installDir,
      Map.of(), INSTALL_TIMEOUT);
    assertEquals(0, install.exitCode(), "npm ci in " + installDir + " failed:\n" + install.output());
    assertEquals(version, installedVersion(), "npm ci did not install " + pkg + " " + version + ":\n"
      + install.output());
  }

  /** Copies {@code script} from the project's sources (the working copy's, not a stale one) and runs it. */
  public Processes.Outcome runScript(String script, Map<String, String> env, Duration timeout)
    throws IOException, InterruptedException {
    Files.copy(sources.resolve(script), installDir.resolve(script), StandardCopyOption.REPLACE_EXISTING);
    return Processes.run(List.of(node.toString(), script), installDir, env, timeout);
  }

  private String installedVersion() throws IOException {
    Path manifest = module(pkg).resolve("package.json");
    return Files.exists(manifest) ? new JsonObject(Files.readString(manifest)).getString("version") : null;
  }

  private Path module(String name) {
    return installDir.resolve("node_modules").resolve(name);
  }
}
