package io.portcullis.http;

import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;
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
    String id = given != null && SANE.matcher(given).matches() ? given : UUID.randomUUID().toString();
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
    return id == null ? UUID.randomUUID().toString() : id;
  }
}
