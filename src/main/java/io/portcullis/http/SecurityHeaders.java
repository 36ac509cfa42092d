package io.portcullis.http;

import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;

/**
 * The security headers of every response, routed or refused before routing: no sniffing, no referrer, no framing,
 * nothing loaded (the API serves JSON; /docs sets its own policy), and HSTS when the service is reached over HTTPS.
 */
final class SecurityHeaders {

  private final boolean https;

  /** {@code externalUrl}: where clients reach the service; HSTS only makes sense behind {@code https://}. */
  SecurityHeaders(String externalUrl) {
    this.https = externalUrl.startsWith("https://");
  }

  void write(MultiMap headers) {
    headers
      .add("X-Content-Type-Options", "nosniff")
      .add("Referrer-Policy", "no-referrer")
      .add("X-Frame-Options", "DENY")
      .add("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    if (https) {
      headers.add("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    }
  }

  /** As the router's first handler but one, so that even CORS preflight answers carry them. */
  void handle(RoutingContext ctx) {
    write(ctx.response().headers());
    ctx.next();
  }
}
