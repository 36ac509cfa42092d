package io.portcullis.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/** External commands for tests that drive Node, Python or Chromium: finding them, and running one to its end. */
public final class Processes {

  public static final Path BASEDIR = Path.of(System.getProperty("basedir", "")).toAbsolutePath();

  private Processes() {
  }

  public record Outcome(int exitCode, String output) {
  }

  /** The executable of that name on PATH, or null. */
  public static Path onPath(String command) {
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

  /** Runs a command with stdout and stderr merged into a file (no pipe to fill up); kills it when it overruns. */
  public static Outcome run(List<String> command, Path dir, Map<String, String> env, Duration timeout)
    throws IOException, InterruptedException {
    Path log = Files.createTempFile(Files.createDirectories(BASEDIR.resolve("target")), "process-", ".out");
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

  public static String read(Path log) {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
