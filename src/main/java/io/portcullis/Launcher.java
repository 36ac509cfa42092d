package io.portcullis;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Sizes the JVM that runs {@code serve}. A plain {@code java -jar} sizes its heap from the machine (a quarter of
 * its memory) and G1 keeps what every argon2id hash (~19 MiB) made it grow; the manifest cannot carry -Xmx. So
 * when {@code serve} was started without heap settings, this runs it again as a child {@code java} with
 * {@link #OPTIONS}, forwards SIGTERM/SIGINT to it (its own shutdown hook drains and stops the embedded
 * PostgreSQL) and exits with its code; stdio is the child's. {@code PORTCULLIS_JVM_SIZING=off}, or any heap
 * setting of one's own ({@code -Xmx}, {@code -XX:MaxRAMPercentage}, ... on the command line, in
 * {@code JDK_JAVA_OPTIONS} or {@code JAVA_TOOL_OPTIONS}), runs the service in this JVM as started.
 * Deliberately free of dependencies: the waiting parent loads nothing but this class.
 */
public final class Launcher {

  /** The opt-out: {@code off} runs {@code serve} in the JVM as started. */
  public static final String SIZING_ENV = "PORTCULLIS_JVM_SIZING";
  /** Set on the child: the parent's pid, watched so that the child stops when the parent is killed outright. */
  static final String PARENT_PROPERTY = "portcullis.launcher.pid";

  /**
   * The child's settings besides the heap limit, measured by scripts/bench-memory (BENCHMARKS.md, "Memory"). The
   * serial collector: on 2 cores it serves the guarded route as fast as G1 without G1's remembered sets, which
   * the argon2 memory (19,456 1-KiB arrays per hash) makes large. The metaspace and code-cache caps bound what class
   * loading and compilation may take; MALLOC_ARENA_MAX (below) bounds glibc's per-thread arenas.
   */
  public static final List<String> OPTIONS = List.of("-XX:+UseSerialGC", "-Xms24m", "-XX:-ShrinkHeapInSteps",
    "-XX:MaxMetaspaceSize=128m", "-XX:ReservedCodeCacheSize=64m", "-XX:MaxDirectMemorySize=64m", "-Xss512k");
  private static final List<String> COLLECTOR_OPTIONS = List.of("-XX:+UseSerialGC");
  /**
   * glibc keeps freed native memory (class loading, the jar's inflaters) in its heap: trimmed every 5 s, an idle
   * child is ~16 MiB smaller. The flag exists from JDK 17.0.9 on; an older JVM would refuse to start with it.
   */
  public static final String TRIM_OPTION = "-XX:TrimNativeHeapInterval=5000";
  /** Heap for everything but password hashing: measured live set after load ~25 MiB, with room for the young gen. */
  private static final int BASE_HEAP_MIB = 96;

  private static final List<String> HEAP_SETTINGS = List.of("-Xmx", "-Xms", "-XX:MaxHeapSize", "-XX:InitialHeapSize",
    "-XX:MaxRAM", "-XX:InitialRAMPercentage", "-XX:MinRAMPercentage");

  private Launcher() {
  }

  /** True when {@code serve} should run in a sized child: not opted out, not a child, no heap setting given. */
  static boolean shouldRelaunch(String[] args, List<String> jvmArguments, Map<String, String> env) {
    boolean serve = args.length == 0 || args[0].equals("serve");
    return serve && !"off".equalsIgnoreCase(env.getOrDefault(SIZING_ENV, "").trim())
      && System.getProperty(PARENT_PROPERTY) == null
      && jvmArguments.stream().noneMatch(arg -> HEAP_SETTINGS.stream().anyMatch(arg::startsWith));
  }

  static boolean shouldRelaunch(String[] args) {
    return shouldRelaunch(args, ManagementFactory.getRuntimeMXBean().getInputArguments(), System.getenv());
  }

  /** Runs {@code args} in a sized child JVM and returns its exit code. */
  static int relaunch(String[] args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> own = ManagementFactory.getRuntimeMXBean().getInputArguments();
    // A collector chosen by the caller stays; two would be refused ("conflicting collector combinations").
    boolean ownCollector = own.stream().anyMatch(arg -> arg.matches("-XX:\\+Use\\w*GC"));
    command.add("-Xmx" + heapMib(System.getenv()) + "m");
    OPTIONS.stream().filter(option -> !(ownCollector && COLLECTOR_OPTIONS.contains(option))).forEach(command::add);
    if (trimsNativeHeap()) {
      command.add(TRIM_OPTION);
    }
    // The parent's own JVM arguments (-D..., agents, those of JDK_JAVA_OPTIONS and JAVA_TOOL_OPTIONS) come after,
    // so any of them wins; the two variables are dropped below since their contents are already here.
    command.addAll(own);
    command.add("-D" + PARENT_PROPERTY + "=" + ProcessHandle.current().pid());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Portcullis.class.getName());
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
    builder.environment().remove("JDK_JAVA_OPTIONS");
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    // glibc's per-thread malloc arenas (8 x cores) hold native memory that a few dozen threads never need.
    builder.environment().putIfAbsent("MALLOC_ARENA_MAX", "2");
    Process child = builder.start();
    Thread forward = new Thread(() -> {
      child.destroy(); // SIGTERM: the child's shutdown hook drains HTTP and stops the embedded PostgreSQL
      try {
        child.waitFor();
        Runtime.getRuntime().halt(child.exitValue());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "portcullis-launcher-forward");
    Runtime.getRuntime().addShutdownHook(forward);
    int code = child.waitFor();
    try {
      Runtime.getRuntime().removeShutdownHook(forward);
    } catch (IllegalStateException e) {
      // shutting down already: the hook halts with the child's code
      TimeUnit.DAYS.sleep(1);
    }
    return code;
  }

  /**
   * The heap limit: the base plus argon2id memory for every hashing worker (each keeps its block memory between
   * hashes, see credential/Argon2id). Follows
   * PORTCULLIS_PASSWORD_HASH_WORKERS and PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB, else the built-in defaults (2,
   * 19456); raising them in a configuration file instead needs an own -Xmx.
   */
  public static int heapMib(Map<String, String> env) {
    int workers = positive(env.get("PORTCULLIS_PASSWORD_HASH_WORKERS"), 2);
    int memoryKib = positive(env.get("PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB"), 19456);
    return BASE_HEAP_MIB + (int) Math.ceil(workers * memoryKib / 1024.0);
  }

  private static int positive(String value, int fallback) {
    try {
      int parsed = value == null ? fallback : Integer.parseInt(value.trim());
      return parsed > 0 ? parsed : fallback;
    } catch (NumberFormatException e) {
      return fallback; // the child's configuration check reports it
    }
  }

  /** Whether this JVM (the child's too: the same java) knows TrimNativeHeapInterval. */
  public static boolean trimsNativeHeap() {
    try {
      ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption("TrimNativeHeapInterval");
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Prints the JVM options a child would get here (for scripts/bench, which measures the serving JVM alone). */
  public static void main(String[] args) {
    System.out.println("-Xmx" + heapMib(System.getenv()) + "m " + String.join(" ", OPTIONS)
      + (trimsNativeHeap() ? " " + TRIM_OPTION : ""));
  }

  /** In the child: stop (gracefully, through the shutdown hook) when the launcher is gone, e.g. SIGKILLed. */
  static void watchParent() {
    String pid = System.getProperty(PARENT_PROPERTY);
    if (pid == null) {
      return;
    }
    ProcessHandle.of(Long.parseLong(pid)).ifPresentOrElse(
      parent -> parent.onExit().thenRun(() -> System.exit(143)),
      () -> System.exit(143));
  }
}
