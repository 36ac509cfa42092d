package io.portcullis.app;

import io.portcullis.config.ConfigLoader;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The README's configuration table names every setting with its environment variable, and the FastAPI code it
 * shows is the tested example's.
 */
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

  /** Every line of the README's Python blocks is a line of examples/fastapi/app.py, the file the suite runs. */
  @Test
  void fastApiCodeShownIsTheTestedExample() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    List<String> example = Files.readAllLines(Path.of("examples/fastapi/app.py"));
    Matcher block = Pattern.compile("```python\n(.*?)```", Pattern.DOTALL).matcher(readme);
    List<String> foreign = new ArrayList<>();
    int blocks = 0;
    while (block.find()) {
      blocks++;
      block.group(1).lines().filter(line -> !line.isBlank() && !example.contains(line)).forEach(foreign::add);
    }
    assertEquals(3, blocks, "Python blocks in the README");
    assertEquals(List.of(), foreign, "README lines not in examples/fastapi/app.py");
  }
}
