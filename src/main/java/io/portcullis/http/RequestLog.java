package io.portcullis.http;

import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * A request id for every request (the caller's {@code X-Request-Id} when it is sane, else a new one), returned in
 * {@code X-Request-Id} and in 5xx bodies, and one access-log line per request. The line names the path without
 * its query string: mail links carry their token there.
 */
final class RequestLog {

  private static final Logger ACCESS = LoggerFactory.getLogger("io.portcullis.access");
  private static final String ID = "portcullis.request_id";
  private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private RequestLog() {
  }

  static void handle(RoutingContext ctx) {
    String given = ctx.request().getHeader("X-Request-Id");
    String id = given != null && SANE.matcher(given).matches() ? given : newId();
    ctx.put(ID, id);
    ctx.response().putHeader("X-Request-Id", id);
    long start = System.nanoTime();
    if (!ACCESS.isInfoEnabled()) {
      ctx.next();
      return;
    }
    ctx.addEndHandler(done -> ACCESS.atInfo()
      .addKeyValue("request_id", id)
      .addKeyValue("method", ctx.request().method().name())
      .addKeyValue("path", ctx.request().path())
      .addKeyValue("status", ctx.response().getStatusCode())
      .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000.0)
      .addKeyValue("ip", Requests.ip(ctx))
      .log("request"));
    ctx.next();
  }

  static String id(RoutingContext ctx) {
    String id = ctx.get(ID);
    return id == null ? newId() : id;
  }

  /**
   * A fresh id, a random (version 4) UUID. It names a request and guards nothing, so it comes from the thread's own
   * generator: {@code UUID.randomUUID()} draws from the process's one SecureRandom, whose lock every event loop
   * took on every request without an id of its own.
   */
  private static String newId() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xF000L) | 0x4000L;
    long low = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(high, low).toString();
  }
}
