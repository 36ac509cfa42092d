package io.portcullis.credential;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.TestApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A sign-up's hash runs on a hashing thread whose nice value is 10, as the kernel reports it
 * ({@code /proc/self/task/<tid>/stat}); every Vert.x thread keeps 0 (a thread inherits the nice value of the one that
 * starts it, so only threads that start none may be lowered). Skipped where there is no {@code /proc} or no
 * {@code renice}.
 */
@ExtendWith(AppExtension.class)
class HashPriorityTest {

  @App
  static TestApp app;

  @Test
  void hashingThreadsRunBelowTheEventLoops() throws IOException {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "no /proc");
    assumeTrue(Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
      .anyMatch(dir -> Files.isExecutable(Path.of(dir, "renice"))), "no renice");

    app.signUp(TestApp.uniqueEmail(), "pass-word-1");

    Map<String, Integer> nice = threadNiceValues();
    assertTrue(nice.entrySet().stream().anyMatch(t -> t.getKey().startsWith("portcullis-hash")
      && t.getValue() == HashPriority.NICE), "a hashing thread at nice 10: " + nice);
    assertFalse(nice.entrySet().stream().anyMatch(t -> t.getKey().startsWith("vert.x-") && t.getValue() != 0),
      "every Vert.x thread (event loops, workers) at nice 0: " + nice);
    assertEquals(0, nice.entrySet().stream().filter(t -> t.getKey().endsWith("#self")).findFirst().orElseThrow()
      .getValue(), "this test's own thread untouched");
  }

  /** Each thread's nice value by "comm#tid" (the kernel's 15-character name), and this thread's as "comm#self". */
  private static Map<String, Integer> threadNiceValues() throws IOException {
    Map<String, Integer> nice = new HashMap<>();
    String self = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"), StandardCharsets.UTF_8);
        } catch (IOException gone) {
          continue; // the thread ended meanwhile
        }
        String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        // After "(comm)": state is field 3, nice field 19.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        String tid = task.getFileName().toString();
        nice.put(comm + "#" + (tid.equals(self) ? "self" : tid), Integer.parseInt(fields[16]));
      }
    }
    return nice;
  }
}
