import com.password4j.Argon2Function;
import com.password4j.types.Argon2;
import io.portcullis.credential.Argon2id;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Time and allocation per argon2id hash, Portcullis's Argon2id against password4j's Argon2Function, with the
 * service's defaults (19 MiB, 2 iterations, 1 lane, 32 bytes). Run by scripts/bench-argon2; alternates the two in
 * rounds so that a busy machine slows both alike.
 */
public final class Argon2Speed {

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    int memory = args.length > 2 ? Integer.parseInt(args[2]) : 19456;
    Argon2id.Parameters parameters = new Argon2id.Parameters(Argon2id.Type.ID, Argon2id.VERSION_13, memory, 2, 1, 32);
    Argon2id ours = new Argon2id(parameters, 1);
    Argon2Function theirs = Argon2Function.getInstance(memory, 2, 1, 32, Argon2.ID, Argon2Function.ARGON2_VERSION_13);
    byte[] salt = "0123456789abcdef".getBytes();
    byte[] password = Argon2id.utf8("correct horse battery staple");
    // Warm-up: both compiled by C2 before anything is timed.
    for (int i = 0; i < 10; i++) {
      ours.hash(password, salt, parameters);
      theirs.hash(password, salt);
    }
    double[] oursMs = new double[rounds];
    double[] theirsMs = new double[rounds];
    long[] oursBytes = new long[rounds];
    long[] theirsBytes = new long[rounds];
    for (int r = 0; r < rounds; r++) {
      long[] o = time(() -> ours.hash(password, salt, parameters), perRound);
      long[] t = time(() -> theirs.hash(password, salt), perRound);
      oursMs[r] = o[0] / 1e6 / perRound;
      theirsMs[r] = t[0] / 1e6 / perRound;
      oursBytes[r] = o[1] / perRound;
      theirsBytes[r] = t[1] / perRound;
      System.out.printf("round %d: Argon2id %.1f ms %d KiB allocated, password4j %.1f ms %d KiB allocated%n", r + 1,
        oursMs[r], oursBytes[r] / 1024, theirsMs[r], theirsBytes[r] / 1024);
    }
    java.util.Arrays.sort(oursMs);
    java.util.Arrays.sort(theirsMs);
    System.out.printf("RESULT argon2id_ms=%.1f password4j_ms=%.1f ratio=%.2f argon2id_alloc_kib=%d"
        + " password4j_alloc_kib=%d gc=%s%n", oursMs[rounds / 2], theirsMs[rounds / 2],
      oursMs[rounds / 2] / theirsMs[rounds / 2], oursBytes[rounds - 1] / 1024, theirsBytes[rounds - 1] / 1024,
      ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName).toList());
  }

  /** Elapsed nanoseconds and bytes this thread allocated for {@code count} runs. */
  private static long[] time(Runnable work, int count) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long allocated = ((com.sun.management.ThreadMXBean) threads).getCurrentThreadAllocatedBytes();
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      work.run();
    }
    long elapsed = System.nanoTime() - start;
    return new long[] {elapsed, ((com.sun.management.ThreadMXBean) threads).getCurrentThreadAllocatedBytes() - allocated};
  }
}
