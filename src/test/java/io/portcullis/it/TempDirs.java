package io.portcullis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * Temporary directories of the test JVM (each app's data directory holds a whole PostgreSQL cluster, ~40 MB),
 * removed when the JVM exits: a suite starts a hundred apps, and a directory may outlive its app (restart tests
 * start a second app on the first one's data).
 */
public final class TempDirs {

  private static final List<Path> CREATED = new CopyOnWriteArrayList<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> CREATED.forEach(TempDirs::delete), "test-temp-dirs"));
  }

  private TempDirs() {
  }

  public static Path create(String prefix) throws IOException {
    Path dir = Files.createTempDirectory(prefix);
    CREATED.add(dir);
    return dir;
  }

  private static void delete(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // Best effort at exit: a file still in use stays for the operating system's temp cleanup.
    }
  }
}
