package io.portcullis.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code serve} tunes the JVM it runs in (one process, no second JVM): G1's periodic collection as the running JVM
 * reports it ({@code jcmd VM.flags}), and the native-heap trimming thread; a setting of one's own stays;
 * {@code PORTCULLIS_JVM_SIZING=off} leaves the JVM's defaults.
 */
class JvmSizingTest {

  private static final Map<String, String> CHEAP = Map.of("PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB", "64",
    "PORTCULLIS_PASSWORD_ARGON2_ITERATIONS", "1");

  @Test
  void serveTunesItsOwnJvm() throws Exception {
    try (ServerProcess server = ServerProcess.start(TempDirs.create("portcullis-sizing"), CHEAP)) {
      server.awaitReady(Duration.ofSeconds(120));
      assertEquals(200, server.get("/health").status());
      Map<String, String> flags = flags(server.process.pid());
      assertEquals("5000", flags.get("G1PeriodicGCInterval"), flags.toString());
      assertFalse(flags.containsKey("MaxHeapFreeRatio"), "the free ratios stay the JVM's: " + flags);
      assertTrue(jcmd(server.process.pid(), "Thread.print").contains("\"portcullis-native-trim\""),
        "the trimming thread runs");
      assertTrue(server.output().contains("JVM sizing: G1PeriodicGCInterval=5000, native heap trimmed every 5 s"),
        server.output());
      assertEquals(0, server.process.children().filter(p -> p.info().command().orElse("").endsWith("/java")).count(),
        "served by the JVM started, not a child");
    }
  }

  @Test
  void aSettingOfOnesOwnStaysAndTheOptOutLeavesTheDefaults() throws Exception {
    try (ServerProcess own = ServerProcess.start(TempDirs.create("portcullis-sizing"), CHEAP,
      List.of("-XX:G1PeriodicGCInterval=60000"))) {
      own.awaitReady(Duration.ofSeconds(120));
      Map<String, String> flags = flags(own.process.pid());
      assertEquals("60000", flags.get("G1PeriodicGCInterval"), "the caller's own setting: " + flags);
    }
    Map<String, String> off = new HashMap<>(CHEAP);
    off.put("PORTCULLIS_JVM_SIZING", "off");
    try (ServerProcess plain = ServerProcess.start(TempDirs.create("portcullis-sizing"), off)) {
      plain.awaitReady(Duration.ofSeconds(120));
      Map<String, String> flags = flags(plain.process.pid());
      assertFalse(flags.containsKey("G1PeriodicGCInterval"), "only flags not at their defaults are listed: " + flags);
      assertFalse(jcmd(plain.process.pid(), "Thread.print").contains("\"portcullis-native-trim\""));
      assertFalse(plain.output().contains("JVM sizing"), plain.output());
    }
  }

  /** The flags {@code jcmd VM.flags} lists: those set on the command line, ergonomically or at run time. */
  private static Map<String, String> flags(long pid) throws Exception {
    Map<String, String> flags = new HashMap<>();
    Matcher matcher = Pattern.compile("-XX:(\\w+)=(\\S+)").matcher(jcmd(pid, "VM.flags"));
    while (matcher.find()) {
      flags.put(matcher.group(1), matcher.group(2));
    }
    return flags;
  }

  private static String jcmd(long pid, String command) throws IOException, InterruptedException {
    Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
      Long.toString(pid), command).redirectErrorStream(true).start();
    String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(jcmd.waitFor(30, TimeUnit.SECONDS), "jcmd finished");
    assertEquals(0, jcmd.exitValue(), out);
    return out;
  }
}
