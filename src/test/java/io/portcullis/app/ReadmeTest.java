package io.portcullis.app;

import io.portcullis.config.ConfigLoader;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's configuration table names every setting with its environment variable. */
class ReadmeTest {

  @Test
  void configurationTableListsEverySettingAndItsVariable() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    List<String> missing = new ArrayList<>();
    for (String path : ConfigLoader.settingPaths()) {
      String row = "| `" + path + "` | `" + ConfigLoader.envName(path) + "` |";
      if (!readme.contains(row)) {
        missing.add(path);
      }
    }
    assertEquals(List.of(), missing, "settings missing from the README's configuration table");
  }
}
