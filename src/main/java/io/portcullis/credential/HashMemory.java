package io.portcullis.credential;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.portcullis.config.Config;
import io.vertx.core.Vertx;

import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * The process's argon2 block memory (~19 MiB per hashing worker with the defaults): kept between hashes while
 * sign-ins come, so that hashing allocates nothing, and handed back once they pause, so that an idle service is
 * small again.
 */
public final class HashMemory {

  /** Hashing paused this long: the memory goes. Checked every second. */
  private static final Duration IDLE = Duration.ofSeconds(2);
  private static final long CHECK_MS = 1_000;
  /**
   * A release this large is worth a collection, after which the collector can return the heap to the system at
   * once (G1 would otherwise wait for its periodic cycle, the serial collector for its next full collection); cheap
   * test parameters never trigger one.
   */
  private static final long WORTH_A_COLLECTION = 8L * 1024 * 1024;

  private final Argon2id argon2;

  public HashMemory(Config.Password config) {
    this.argon2 = new Argon2id(PasswordHasher.parameters(config), config.hashWorkers());
  }

  public Argon2id argon2() {
    return argon2;
  }

  /**
   * A full collection that leaves at most 30 % of the heap free (the JVM's own collections under load keep 40-70 %
   * free, room that spares them collecting again at once): the heap free ratios are manageable flags.
   */
  private static void collectTightly() {
    HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    if (hotspot == null) {
      System.gc(); // not HotSpot: no such flags
      return;
    }
    String min = hotspot.getVMOption("MinHeapFreeRatio").getValue();
    String max = hotspot.getVMOption("MaxHeapFreeRatio").getValue();
    try {
      hotspot.setVMOption("MinHeapFreeRatio", "10");
      hotspot.setVMOption("MaxHeapFreeRatio", "30");
      System.gc();
    } catch (IllegalArgumentException e) {
      System.gc(); // ratios of one's own the tight ones contradict: collect as they say
    } finally {
      hotspot.setVMOption("MaxHeapFreeRatio", max);
      hotspot.setVMOption("MinHeapFreeRatio", min);
    }
  }

  /** Checks every second whether hashing has paused; then releases the memory and, when it was large, collects. */
  public void releaseWhenIdle(Vertx vertx) {
    vertx.setPeriodic(CHECK_MS, id -> {
      if (argon2.releaseIfIdle(IDLE.toNanos()) >= WORTH_A_COLLECTION) {
        // A full collection stops every thread alike wherever it is called from; a worker keeps its call's wait off
        // the event loop.
        vertx.executeBlocking(() -> {
          collectTightly();
          return null;
        }, false);
      }
    });
  }
}
