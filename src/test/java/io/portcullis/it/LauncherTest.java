package io.portcullis.it;

import io.portcullis.Launcher;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher that sizes the serving JVM: {@code serve} without heap settings runs in a child {@code java} with
 * the launcher's options; SIGTERM to the launcher stops the child and its embedded PostgreSQL; a killed launcher
 * takes the child with it; {@code PORTCULLIS_JVM_SIZING=off} or an own {@code -Xmx} runs in the started JVM.
 */
class LauncherTest {

  private static final Map<String, String> CHEAP = Map.of("PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB", "64",
    "PORTCULLIS_PASSWORD_ARGON2_ITERATIONS", "1");

  @Test
  void serveRunsInASizedChildThatSigtermStopsWithItsEmbeddedDatabase() throws Exception {
    try (ServerProcess server = ServerProcess.start(TempDirs.create("portcullis-launcher"), CHEAP)) {
      server.awaitReady(Duration.ofSeconds(120));
      ProcessHandle child = javaChild(server.process).orElseThrow(() -> new AssertionError("no child JVM:\n" + server.output()));
      // From /proc: ProcessHandle.Info leaves out arguments as long as the test class path.
      List<String> arguments = List.of(Files.readString(Path.of("/proc", Long.toString(child.pid()), "cmdline")).split("\0"));
      assertTrue(arguments.contains("-Xmx97m"), "the heap limit for 2 workers hashing 64 KiB: " + arguments);
      assertTrue(arguments.containsAll(Launcher.OPTIONS.subList(1, Launcher.OPTIONS.size())), arguments.toString());
      assertTrue(arguments.contains("-XX:+UseSerialGC"), "the caller's collector kept: " + arguments);
      assertEquals(Launcher.trimsNativeHeap(), arguments.contains(Launcher.TRIM_OPTION), arguments.toString());
      assertFalse(arguments.contains("-XX:+UseG1GC"), "no second collector: " + arguments);
      assertTrue(arguments.contains("-Dportcullis.launcher.pid=" + server.process.pid()), arguments.toString());
      assertEquals(200, server.get("/health").status(), "served by the child");

      server.process.destroy(); // SIGTERM to the launcher
      assertTrue(server.process.waitFor(60, TimeUnit.SECONDS), "the launcher exits:\n" + server.output());
      assertFalse(child.isAlive(), "the child exited before its launcher");
      assertEquals(143, server.process.exitValue(), "the child's exit code after SIGTERM:\n" + server.output());
      assertFalse(Files.exists(server.pgDir().resolve("postmaster.pid")), "postmaster.pid left:\n" + server.output());
      assertEquals(List.of(), server.postgresProcesses(), "no PostgreSQL process of this data directory remains");
    }
  }

  @Test
  void aKilledLauncherTakesItsChildAndTheEmbeddedDatabaseWithIt() throws Exception {
    try (ServerProcess server = ServerProcess.start(TempDirs.create("portcullis-launcher"), CHEAP)) {
      server.awaitReady(Duration.ofSeconds(120));
      ProcessHandle child = javaChild(server.process).orElseThrow(() -> new AssertionError("no child JVM:\n" + server.output()));
      server.process.destroyForcibly(); // SIGKILL: no hook forwards anything
      assertTrue(child.onExit().get(60, TimeUnit.SECONDS) != null, "the orphaned child stops");
      assertFalse(Files.exists(server.pgDir().resolve("postmaster.pid")), "postmaster.pid left:\n" + server.output());
      assertEquals(List.of(), server.postgresProcesses(), "no PostgreSQL process of this data directory remains");
    }
  }

  @Test
  void theOptOutAndAnOwnHeapLimitServeInTheStartedJvm() throws Exception {
    for (ServerProcess server : List.of(
      ServerProcess.start(TempDirs.create("portcullis-launcher"), withCheap("PORTCULLIS_JVM_SIZING", "off")),
      ServerProcess.start(TempDirs.create("portcullis-launcher"), CHEAP, List.of("-Xmx200m")))) {
      try (server) {
        server.awaitReady(Duration.ofSeconds(120));
        assertEquals(Optional.empty(), javaChild(server.process).map(p -> p.info().commandLine().orElse("?")));
        assertEquals(200, server.get("/health").status());
        assertFalse(server.output().contains("Ignoring unknown environment variable"), server.output());
      }
    }
  }

  private static Map<String, String> withCheap(String name, String value) {
    Map<String, String> settings = new java.util.HashMap<>(CHEAP);
    settings.put(name, value);
    return settings;
  }

  private static Optional<ProcessHandle> javaChild(Process process) {
    return process.children()
      .filter(p -> p.info().command().map(command -> command.endsWith("/java")).orElse(false))
      .findFirst();
  }
}
