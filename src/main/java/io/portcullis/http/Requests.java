package io.portcullis.http;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.multipart.DefaultHttpDataFactory;
import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import io.portcullis.error.AuthException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Locale;

/** Reading requests: JSON bodies, form bodies, and who is calling. */
final class Requests {

  private Requests() {
  }

  /**
   * Whether Netty's form decoder can be set up for the request's Content-Type: BodyHandler sets one up for form
   * and multipart types, and it throws on some (an empty multipart boundary, an unknown charset), which would
   * answer 500. Tried here on a copy of the request line and Content-Type.
   */
  static boolean formDecodable(RoutingContext ctx) {
    String type = ctx.request().getHeader("Content-Type");
    String lower = type == null ? "" : type.toLowerCase(Locale.ROOT);
    if (!lower.startsWith("multipart/form-data") && !lower.startsWith("application/x-www-form-urlencoded")) {
      return true;
    }
    DefaultHttpRequest probe = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/");
    probe.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
    try {
      new HttpPostRequestDecoder(new DefaultHttpDataFactory(false), probe).destroy();
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  static boolean isForm(RoutingContext ctx) {
    String type = ctx.request().getHeader("Content-Type");
    return type != null && type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded");
  }

  /** The JSON object body; an empty body is {@code {}} when {@code optional}, else a validation failure. */
  static JsonObject json(RoutingContext ctx, boolean optional) {
    Buffer raw = ctx.body().buffer();
    if (raw == null || raw.length() == 0) {
      if (optional) {
        return new JsonObject();
      }
      throw AuthException.validation("Request body is required");
    }
    String type = ctx.request().getHeader("Content-Type");
    if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      throw AuthException.validation("Content-Type must be application/json");
    }
    Object value = Json.decodeValue(raw);
    if (!(value instanceof JsonObject object)) {
      throw AuthException.validation("Request body must be a JSON object");
    }
    return object;
  }

  /** The form fields of an {@code application/x-www-form-urlencoded} body as a JSON object of strings. */
  static JsonObject form(RoutingContext ctx) {
    JsonObject form = new JsonObject();
    ctx.request().formAttributes().forEach(entry -> {
      if (form.containsKey(entry.getKey())) {
        // RFC 6749 §3.2: request parameters must not be included more than once.
        throw AuthException.validation("Parameter '" + entry.getKey() + "' is repeated");
      }
      form.put(entry.getKey(), entry.getValue());
    });
    return form;
  }

  private static final String TOKEN_BODY = "portcullis.token-body";

  /**
   * The body of a token-endpoint request (RFC 6749's form fields, or supabase-js's JSON object), read once and
   * kept for the rest of the request.
   */
  static JsonObject tokenBody(RoutingContext ctx) {
    JsonObject body = ctx.get(TOKEN_BODY);
    if (body == null) {
      body = isForm(ctx) ? form(ctx) : json(ctx, false);
      ctx.put(TOKEN_BODY, body);
    }
    return body;
  }

  /**
   * The grant a token-endpoint request asks for: {@code grant_type} of the query, else of the body; null when
   * neither names one or the body does not parse (its handler then refuses it). The one place that reads it, so
   * that the rate limit and the handler agree on the grant.
   */
  static String grantType(RoutingContext ctx) {
    String grant = ctx.request().getParam("grant_type");
    if (grant != null) {
      return grant;
    }
    try {
      return tokenBody(ctx).getValue("grant_type") instanceof String g ? g : null;
    } catch (RuntimeException e) {
      return null;
    }
  }

  static final String CLIENT_IP = "portcullis.ip";

  /** The client's address as HttpVerticle resolved it (trusted proxies honoured). */
  static String ip(RoutingContext ctx) {
    String resolved = ctx.get(CLIENT_IP);
    if (resolved != null) {
      return resolved;
    }
    return ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress();
  }

  static String userAgent(RoutingContext ctx) {
    String ua = ctx.request().getHeader("User-Agent");
    return ua == null || ua.length() <= 512 ? ua : ua.substring(0, 512);
  }
}
