import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Hot spots of a JFR recording, for scripts/bench: {@code java JfrTop.java <file.jfr> <n> [label=fromMs-toMs ...]}
 * reads the jdk.ExecutionSample events (threads running Java code), of the whole recording or, per label, of a
 * time window (epoch milliseconds; each window's output starts with {@code window <label>}), and prints the n
 * largest of each kind as tab-separated lines:
 * {@code area <share> <name>}: each sample charged to the component that spends the time (the first frame from
 * the top that belongs to a known library; JDK collections, strings etc. are charged to their caller, JDK crypto to
 * crypto); {@code self <share> <method>}: the methods most often on top of the stack; {@code thread <share>
 * <thread>}; {@code portcullis <share> <method>}: Portcullis's own methods by the share of samples they are
 * on the stack of (their callees included).
 */
public final class JfrTop {

  public static void main(String[] args) throws Exception {
    int limit = Integer.parseInt(args[1]);
    List<RecordedEvent> samples = new ArrayList<>();
    for (RecordedEvent event : RecordingFile.readAllEvents(Path.of(args[0]))) {
      if (event.getEventType().getName().equals("jdk.ExecutionSample") && event.getStackTrace() != null
        && !event.getStackTrace().getFrames().isEmpty()) {
        samples.add(event);
      }
    }
    if (args.length == 2) {
      report(samples, limit);
      return;
    }
    for (int i = 2; i < args.length; i++) {
      int eq = args[i].lastIndexOf('=');
      String[] range = args[i].substring(eq + 1).split("-");
      Instant from = Instant.ofEpochMilli(Long.parseLong(range[0]));
      Instant to = Instant.ofEpochMilli(Long.parseLong(range[1]));
      System.out.println("window " + args[i].substring(0, eq));
      report(samples.stream()
        .filter(e -> !e.getStartTime().isBefore(from) && e.getStartTime().isBefore(to))
        .toList(), limit);
    }
  }

  private static void report(List<RecordedEvent> events, int limit) {
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> total = new HashMap<>();
    Map<String, Integer> areas = new HashMap<>();
    Map<String, Integer> threads = new HashMap<>();
    int samples = 0;
    for (RecordedEvent event : events) {
      samples++;
      List<RecordedFrame> frames = event.getStackTrace().getFrames();
      self.merge(name(frames.get(0)), 1, Integer::sum);
      areas.merge(area(frames), 1, Integer::sum);
      Set<String> seen = new HashSet<>();
      for (RecordedFrame frame : frames) {
        String name = frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
        if (seen.add(name)) {
          total.merge(name, 1, Integer::sum);
        }
      }
      var thread = event.getThread("sampledThread");
      threads.merge(thread == null ? "?" : thread.getJavaName(), 1, Integer::sum);
    }
    System.out.println("samples " + samples);
    print("area", areas, samples, limit);
    print("self", self, samples, limit);
    total.keySet().removeIf(name -> !name.startsWith("io.portcullis.") || name.contains("$$Lambda") || name.contains("lambda$"));
    print("portcullis", total, samples, limit);
    print("thread", threads, samples, limit);
  }

  /** Package prefixes, checked in order against each frame from the top of the stack. */
  private static final String[][] AREAS = {
    {"sun.security.ec.", "ECDSA / EC arithmetic (JDK)"},
    {"sun.security.util.math.", "ECDSA / EC arithmetic (JDK)"},
    {"sun.security.", "other JDK crypto (SHA, HMAC, RSA, SecureRandom)"},
    {"com.sun.crypto.", "other JDK crypto (SHA, HMAC, RSA, SecureRandom)"},
    {"javax.crypto.", "other JDK crypto (SHA, HMAC, RSA, SecureRandom)"},
    {"java.security.Signature", "other JDK crypto (SHA, HMAC, RSA, SecureRandom)"},
    {"java.security.MessageDigest", "other JDK crypto (SHA, HMAC, RSA, SecureRandom)"},
    {"java.security.SecureRandom", "other JDK crypto (SHA, HMAC, RSA, SecureRandom)"},
    {"com.password4j.", "argon2id (password4j)"},
    {"liquibase.", "Liquibase (migrations check)"},
    {"org.postgresql.", "PostgreSQL JDBC driver (migrations)"},
    {"io.zonky.", "embedded PostgreSQL (zonky)"},
    {"org.tukaani.", "embedded PostgreSQL (zonky)"},
    {"org.apache.commons.compress.", "embedded PostgreSQL (zonky)"},
    {"jdk.internal.loader.", "class loading (JDK)"},
    {"java.lang.ClassLoader", "class loading (JDK)"},
    {"com.fasterxml.jackson.", "JSON (Jackson, Vert.x JSON)"},
    {"io.vertx.core.json.", "JSON (Jackson, Vert.x JSON)"},
    {"io.vertx.pgclient.", "PostgreSQL client"},
    {"io.vertx.sqlclient.", "PostgreSQL client"},
    {"io.vertx.ext.auth.", "vertx-auth-jwt (parsing, claims)"},
    {"io.vertx.ext.web.", "Vert.x Web (router, handlers)"},
    {"io.micrometer.", "metrics (Micrometer)"},
    {"io.vertx.micrometer.", "metrics (Micrometer)"},
    {"ch.qos.logback.", "logging"},
    {"org.slf4j.", "logging"},
    {"io.portcullis.", "Portcullis code"},
    {"io.vertx.core.eventbus.", "Vert.x event bus"},
    {"io.netty.", "HTTP and sockets (Netty, Vert.x HTTP)"},
    {"io.vertx.core.http.", "HTTP and sockets (Netty, Vert.x HTTP)"},
    {"io.vertx.core.net.", "HTTP and sockets (Netty, Vert.x HTTP)"},
    {"io.vertx.", "Vert.x core (futures, contexts)"},
  };

  private static String area(List<RecordedFrame> frames) {
    for (RecordedFrame frame : frames) {
      String type = frame.getMethod().getType().getName();
      for (String[] area : AREAS) {
        if (type.startsWith(area[0])) {
          return area[1];
        }
      }
      if (!(type.startsWith("java.") || type.startsWith("jdk.") || type.startsWith("sun."))) {
        return "other libraries";
      }
    }
    return "JDK (other)";
  }

  private static String name(RecordedFrame frame) {
    var method = frame.getMethod();
    String type = method.getType().getName();
    return type.substring(type.lastIndexOf('.') + 1) + "." + method.getName();
  }

  private static void print(String kind, Map<String, Integer> counts, int samples, int limit) {
    counts.entrySet().stream()
      .sorted((a, b) -> b.getValue() - a.getValue())
      .limit(limit)
      .forEach(e -> System.out.printf("%s\t%.1f%%\t%s%n", kind, 100.0 * e.getValue() / Math.max(1, samples), e.getKey()));
  }
}
