package io.portcullis;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
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
 *   <li>{@code G1PeriodicGCInterval=5000}: G1 runs a concurrent cycle after 5 s without a collection, and its remark
 *   gives unused heap back to the operating system, so an idle service shrinks (by default G1 keeps what it grew to
 *   until a full collection);</li>
 *   <li>glibc's heap is trimmed every 5 s ({@code System.trim_native_heap}, as {@code -XX:TrimNativeHeapInterval}
 *   does; freed native memory of class loading and inflaters otherwise stays with the process).</li>
 * </ul>
 * The heap free ratios stay the JVM's (40-70 %): tighter ones (10-30 %) made G1 alternate between shrinking at a
 * remark and growing at the next pause under load, with a concurrent cycle every few hundred milliseconds, for the
 * same idle and peak RSS (measured beside each other, sign-ups, guarded traffic and a sign-in flood). After a
 * burst of hashing, {@code HashMemory} collects once with tight ratios. A setting given on the command line or in
 * {@code JDK_JAVA_OPTIONS}/{@code JAVA_TOOL_OPTIONS} stays as given; {@code PORTCULLIS_JVM_SIZING=off} leaves the
 * JVM as started. Measured by scripts/bench-memory.
 */
public final class JvmSizing {

  /** The opt-out: {@code off} leaves the JVM as started. */
  public static final String SIZING_ENV = "PORTCULLIS_JVM_SIZING";
  /** The manageable flags set. */
  static final Map<String, String> FLAGS = Map.of("G1PeriodicGCInterval", "5000");
  static final long TRIM_INTERVAL_MS = 5_000;
  private static final String TRIM_OPERATION = "systemTrimNativeHeap";

  private JvmSizing() {
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
        // unknown to this JVM: left as it is
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
