package io.portcullis;

import io.portcullis.app.Server;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keeps the packages of {@code io.portcullis} depending one way: the package graph of the compiled main classes
 * (as the JDK's jdeps reads it) has no cycle. A cycle means two packages can only be understood together.
 */
class PackageCyclesTest {

  private static final String ROOT = "io.portcullis";

  @Test
  void packagesDependOneWay() throws Exception {
    Map<String, Set<String>> graph = packageGraph(mainClasses());
    assertTrue(graph.size() > 10, "jdeps found the packages: " + graph.keySet());
    List<Set<String>> cycles = cycles(graph);
    assertEquals(List.of(), cycles, "packages that depend on each other (each group is a cycle)");
  }

  @Test
  void aCycleIsFound() {
    Map<String, Set<String>> graph = new TreeMap<>(Map.of(
      "a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a", "d"), "d", Set.of()));
    assertEquals(List.of(new TreeSet<>(Set.of("a", "b", "c"))), cycles(graph));
  }

  private static Path mainClasses() throws URISyntaxException {
    return Path.of(Server.class.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  /** {@code jdeps -verbose:package}: lines {@code   from.package -> to.package  location}. */
  private static Map<String, Set<String>> packageGraph(Path classes) {
    ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("no jdeps in this JDK"));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:package", "-filter:none",
      classes.toString());
    assertEquals(0, status, err.toString());
    Map<String, Set<String>> graph = new TreeMap<>();
    for (String line : out.toString().split("\n")) {
      String[] parts = line.trim().split("\\s+");
      if (parts.length >= 3 && parts[1].equals("->") && inProject(parts[0]) && inProject(parts[2])) {
        graph.computeIfAbsent(parts[0], p -> new TreeSet<>());
        graph.computeIfAbsent(parts[2], p -> new TreeSet<>());
        if (!parts[0].equals(parts[2])) {
          graph.get(parts[0]).add(parts[2]);
        }
      }
    }
    return graph;
  }

  private static boolean inProject(String pkg) {
    return pkg.equals(ROOT) || pkg.startsWith(ROOT + ".");
  }

  /** The strongly connected groups of more than one package (Tarjan), each sorted. */
  static List<Set<String>> cycles(Map<String, Set<String>> graph) {
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    Set<String> onStack = new TreeSet<>();
    List<Set<String>> groups = new ArrayList<>();
    for (String start : graph.keySet()) {
      if (!index.containsKey(start)) {
        visit(start, graph, index, low, stack, onStack, groups);
      }
    }
    return groups;
  }

  private static void visit(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
                            Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                            List<Set<String>> groups) {
    index.put(v, index.size());
    low.put(v, index.get(v));
    stack.push(v);
    onStack.add(v);
    for (String w : graph.getOrDefault(v, Set.of())) {
      if (!index.containsKey(w)) {
        visit(w, graph, index, low, stack, onStack, groups);
        low.put(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.contains(w)) {
        low.put(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v).equals(index.get(v))) {
      Set<String> group = new TreeSet<>();
      String w;
      do {
        w = stack.pop();
        onStack.remove(w);
        group.add(w);
      } while (!w.equals(v));
      if (group.size() > 1) {
        groups.add(group);
      }
    }
  }
}
