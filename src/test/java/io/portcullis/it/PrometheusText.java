package io.portcullis.it;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A scraped Prometheus text exposition, parsed into samples so tests can read one series or sum several. */
public final class PrometheusText {

  /** One sample line: metric name, labels, value. */
  public record Sample(String name, Map<String, String> labels, double value) {
  }

  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private final List<Sample> samples;

  private PrometheusText(List<Sample> samples) {
    this.samples = samples;
  }

  public static PrometheusText parse(String text) {
    List<Sample> samples = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int end = line.lastIndexOf(' ');
      String name;
      Map<String, String> labels = new LinkedHashMap<>();
      if (brace >= 0 && brace < end) {
        name = line.substring(0, brace);
        String inside = line.substring(brace + 1, line.lastIndexOf('}'));
        Matcher m = LABEL.matcher(inside);
        while (m.find()) {
          labels.put(m.group(1), m.group(2).replace("\\\"", "\"").replace("\\\\", "\\"));
        }
      } else {
        name = line.substring(0, line.indexOf(' '));
      }
      samples.add(new Sample(name, labels, Double.parseDouble(line.substring(end + 1).trim())));
    }
    return new PrometheusText(samples);
  }

  /** The samples of one metric whose labels include {@code labels} (name, value, name, value ...). */
  public List<Sample> series(String name, String... labels) {
    List<Sample> found = new ArrayList<>();
    for (Sample sample : samples) {
      if (sample.name().equals(name) && matches(sample.labels(), labels)) {
        found.add(sample);
      }
    }
    return found;
  }

  /** The sum over {@link #series}; 0 when there is none (a counter not incremented yet is absent). */
  public double sum(String name, String... labels) {
    return series(name, labels).stream().mapToDouble(Sample::value).sum();
  }

  public boolean hasPrefix(String prefix) {
    return samples.stream().anyMatch(s -> s.name().startsWith(prefix));
  }

  public List<Sample> withPrefix(String prefix) {
    return samples.stream().filter(s -> s.name().startsWith(prefix)).toList();
  }

  private static boolean matches(Map<String, String> actual, String... wanted) {
    for (int i = 0; i < wanted.length; i += 2) {
      if (!wanted[i + 1].equals(actual.get(wanted[i]))) {
        return false;
      }
    }
    return true;
  }
}
