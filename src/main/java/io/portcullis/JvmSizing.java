package io.portcullis;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Tunes the JVM that runs {@code serve} from inside, so that {@code java -jar} alone keeps a small footprint: a
 * JVM sizes its heap from the machine (a quarter of its memory) and keeps what it grew to, and the manifest cannot
 * carry JVM options. What can still be changed in a running HotSpot JVM is set once, at the start:
 * <ul>
 *   <li>{@code MinHeapFreeRatio=10}, {@code MaxHeapFreeRatio=30}: after a collection that resizes the heap, at most
 *   30 % of it stays free (defaults 40-70 %);</li>
 *   <li>{@code G1PeriodicGCInterval=5000}: G1 runs a concurrent cycle after 5 s without a collection, and its remark
 *   gives the heap back to the operating system down to those ratios, so an idle service shrinks;</li>
 *   <li>glibc's heap is trimmed every 5 s ({@code System.trim_native_heap}, as {@code -XX:TrimNativeHeapInterval}
 *   does; freed native memory of class loading and inflaters otherwise stays with the process).</li>
 * </ul>
 * A setting given on the command line or in {@code JDK_JAVA_OPTIONS}/{@code JAVA_TOOL_OPTIONS} stays as given;
 * {@code PORTCULLIS_JVM_SIZING=off} leaves the JVM as started. Measured by scripts/bench-memory.
 */
public final class JvmSizing {

  /** The opt-out: {@code off} leaves the JVM as started. */
  public static final String SIZING_ENV = "PORTCULLIS_JVM_SIZING";
  /** The manageable flags set, in an order that keeps Min ≤ Max at every step. */
  static final Map<String, String> FLAGS = orderedFlags();
  static final long TRIM_INTERVAL_MS = 5_000;
  private static final String TRIM_OPERATION = "systemTrimNativeHeap";

  private JvmSizing() {
  }

  private static Map<String, String> orderedFlags() {
    Map<String, String> flags = new LinkedHashMap<>();
    flags.put("MinHeapFreeRatio", "10");
    flags.put("MaxHeapFreeRatio", "30");
    flags.put("G1PeriodicGCInterval", "5000");
    return Collections.unmodifiableMap(flags);
  }

  /** Applies the sizing for {@code serve} unless opted out; returns what it changed, for the start-up log. */
  static List<String> apply(String[] args, Map<String, String> env) {
    boolean serve = args.length == 0 || args[0].equals("serve");
    if (!serve || "off".equalsIgnoreCase(env.getOrDefault(SIZING_ENV, "").trim())) {
      return List.of();
    }
    HotSpotDiagnosticMXBean hotspot;
    try {
      hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    } catch (RuntimeException e) {
      return List.of(); // not HotSpot
    }
    List<String> changed = new ArrayList<>();
    FLAGS.forEach((name, value) -> {
      try {
        VMOption option = hotspot.getVMOption(name);
        if (option.getOrigin() == VMOption.Origin.DEFAULT && option.isWriteable()) {
          hotspot.setVMOption(name, value);
          changed.add(name + "=" + value);
        }
      } catch (IllegalArgumentException e) {
        // unknown here, or contradicting a ratio of one's own (Min above our Max): left as it is
      }
    });
    if (!jvmTrimsNativeHeap(hotspot)) {
      Thread trimmer = new Thread(JvmSizing::trimPeriodically, "portcullis-native-trim");
      trimmer.setDaemon(true);
      trimmer.start();
      changed.add("native heap trimmed every " + TRIM_INTERVAL_MS / 1000 + " s");
    }
    return changed;
  }

  /** Whether the JVM trims by itself ({@code -XX:TrimNativeHeapInterval} given, JDK 17.0.9 and later). */
  private static boolean jvmTrimsNativeHeap(HotSpotDiagnosticMXBean hotspot) {
    try {
      return !"0".equals(hotspot.getVMOption("TrimNativeHeapInterval").getValue());
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * Every {@link #TRIM_INTERVAL_MS}, {@code System.trim_native_heap} through the diagnostic-command MBean. The MBean
   * server is first touched after one interval, not during start-up; a JVM without the command (before 17.0.9,
   * or not on glibc) ends the thread.
   */
  private static void trimPeriodically() {
    try {
      TimeUnit.MILLISECONDS.sleep(TRIM_INTERVAL_MS);
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      ObjectName diagnostics = new ObjectName("com.sun.management:type=DiagnosticCommand");
      if (Arrays.stream(server.getMBeanInfo(diagnostics).getOperations())
        .noneMatch(operation -> operation.getName().equals(TRIM_OPERATION))) {
        return;
      }
      while (true) {
        server.invoke(diagnostics, TRIM_OPERATION, new Object[] {new String[0]},
          new String[] {String[].class.getName()});
        TimeUnit.MILLISECONDS.sleep(TRIM_INTERVAL_MS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      // the command failed (e.g. not glibc): nothing to trim
    }
  }
}
