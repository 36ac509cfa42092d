package io.portcullis.http;

import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.portcullis.bus.BusErrors;
import io.portcullis.db.DatabaseUnavailable;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.regex.Pattern;

/**
 * Renders every HTTP error in GoTrue's shapes: the versioned {@code {code, message}} when the
 * request carries {@code X-Supabase-Api-Version} ≥ 2024-01-01, else the legacy {@code {code, error_code, msg}};
 * plus RFC 6749 §5.2's {@code error} for form-body token requests.
 */
public final class FailureHandler implements Handler<RoutingContext> {

  static final String API_VERSION = "X-Supabase-Api-Version";
  static final String FORM_REQUEST = "portcullis.form";
  private static final Pattern VERSION = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");
  private static final Pattern BEARER = Pattern.compile("(?i)bearer\\s+\\S.*");
  private static final Logger LOG = LoggerFactory.getLogger(FailureHandler.class);

  private final boolean bearerRoute;
  private final int emailSendInterval;

  /**
   * {@code bearerRoute}: 400/401 come from JWTAuthHandler and are token errors. {@code emailSendInterval}: the
   * per-address mail interval, the {@code Retry-After} of over_email_send_rate_limit.
   */
  FailureHandler(boolean bearerRoute, int emailSendInterval) {
    this.bearerRoute = bearerRoute;
    this.emailSendInterval = emailSendInterval;
  }

  @Override
  public void handle(RoutingContext ctx) {
    render(ctx, -1);
  }

  /**
   * For {@code router.errorHandler(status, ...)}: vert.x-web calls it without failing the context when routing
   * itself fails (a path that does not decode is its 400), so the status is only known here.
   */
  Handler<RoutingContext> forStatus(int status) {
    return ctx -> render(ctx, status);
  }

  private void render(RoutingContext ctx, int routerStatus) {
    HttpServerResponse response = ctx.response();
    if (response.ended() || response.closed() || response.headWritten()) {
      return;
    }
    AuthException error = toAuthException(ctx, routerStatus);
    JsonObject body = body(ctx, error);
    if (error.status() >= 500) {
      // Every 5xx body names its request, so that a report of it can be found in the log.
      String requestId = RequestLog.id(ctx);
      if (error.code() == ErrorCode.UNEXPECTED_FAILURE) {
        LOG.error("Request {} {} failed: request_id={}", ctx.request().method(), ctx.request().path(), requestId,
          ctx.failure());
      }
      body.put("request_id", requestId);
    }
    if (error.status() == 401) {
      response.putHeader("WWW-Authenticate", "Bearer");
    }
    if (error.code() == ErrorCode.SERVICE_UNAVAILABLE && !response.headers().contains("Retry-After")) {
      // The database or a worker is back within seconds in the usual outage (a restart, a fail-over); a handler
      // that knows better (the full hashing queue) has set its own.
      response.putHeader("Retry-After", Integer.toString(DatabaseUnavailable.RETRY_AFTER_SECONDS));
    }
    if (error.code() == ErrorCode.OVER_EMAIL_SEND_RATE_LIMIT) {
      // The whole interval: retrying after it is sure to pass; the same for every address, so it tells nothing.
      response.putHeader("Retry-After", Integer.toString(emailSendInterval));
    }
    response.setStatusCode(error.status())
      .putHeader("Content-Type", "application/json")
      .putHeader("x-sb-error-code", error.code().code())
      .end(body.encode());
  }

  /**
   * For {@code HttpServer#invalidRequestHandler}: a request HTTP/1.1 decoding refuses (a request line or headers
   * too long, a header value with a NUL) is answered in the legacy error shape too, then its connection closes.
   * Its headers are not known, so there is no versioned shape and no echo.
   */
  static void invalidRequest(HttpServerRequest request, SecurityHeaders securityHeaders) {
    Throwable cause = request.decoderResult() == null ? null : request.decoderResult().cause();
    AuthException error = cause instanceof TooLongHttpLineException
      ? AuthException.withStatus(ErrorCode.REQUEST_TOO_LARGE, 414, "Request line too long")
      : cause instanceof TooLongHttpHeaderException
        ? AuthException.withStatus(ErrorCode.REQUEST_TOO_LARGE, 431, "Request headers too large")
        : AuthException.validation("Malformed HTTP request");
    securityHeaders.write(request.response().headers());
    request.response()
      .setStatusCode(error.status())
      .putHeader("Content-Type", "application/json")
      .putHeader("x-sb-error-code", error.code().code())
      .end(error.toJson().encode())
      .onComplete(done -> request.connection().close());
  }

  private AuthException toAuthException(RoutingContext ctx, int routerStatus) {
    Throwable failure = ctx.failure();
    if (failure instanceof AuthException auth) {
      return auth;
    }
    if (failure instanceof DecodeException) {
      return new AuthException(ErrorCode.BAD_JSON, "Could not parse request body as JSON");
    }
    int status = failure instanceof HttpException http ? http.getStatusCode() : ctx.statusCode();
    if (failure == null && status < 0) {
      status = routerStatus;
    }
    // 400 and 401 come from JWTAuthHandler; a bare 403 is CorsHandler's, on these routes too.
    if (bearerRoute && (status == 400 || status == 401)) {
      String authorization = ctx.request().getHeader("Authorization");
      return authorization != null && BEARER.matcher(authorization).matches()
        ? new AuthException(ErrorCode.BAD_JWT, "invalid JWT: unable to parse or verify signature, token is expired or not valid yet")
        : new AuthException(ErrorCode.NO_AUTHORIZATION, "This endpoint requires a valid Bearer token");
    }
    switch (status) {
      case 400:
        return AuthException.validation("Bad request");
      case 403:
        // Only CorsHandler fails with a bare 403 outside Bearer routes.
        return new AuthException(ErrorCode.ORIGIN_NOT_ALLOWED, "Origin not allowed");
      case 404:
        return new AuthException(ErrorCode.NOT_FOUND, "Not found");
      case 405:
        return new AuthException(ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed");
      case 413:
        return new AuthException(ErrorCode.REQUEST_TOO_LARGE, "Request body too large");
      case 503:
        return new AuthException(ErrorCode.SERVICE_UNAVAILABLE, "Service temporarily unavailable");
      default:
        if (status > 400 && status < 500 && (failure == null || failure instanceof HttpException)) {
          // Another client error of the web layer (417 for an Expect it cannot meet): still the client's.
          return AuthException.withStatus(ErrorCode.VALIDATION_FAILED, status, "Bad request");
        }
        return failure == null
          ? new AuthException(ErrorCode.UNEXPECTED_FAILURE, "Unexpected failure")
          : BusErrors.toAuthException(failure);
    }
  }

  private static JsonObject body(RoutingContext ctx, AuthException error) {
    String version = ctx.request().getHeader(API_VERSION);
    JsonObject body;
    if (version != null && VERSION.matcher(version).matches() && version.compareTo("2024-01-01") >= 0) {
      ctx.response().putHeader(API_VERSION, version);
      body = new JsonObject().put("code", error.code().code()).put("message", error.getMessage());
      if (error.weakPasswordReasons() != null) {
        body.put("weak_password", new JsonObject().put("reasons", error.weakPasswordReasons()));
      }
    } else {
      body = error.toJson();
    }
    if (Boolean.TRUE.equals(ctx.get(FORM_REQUEST))) {
      body.put("error", oauthError(error.code())).put("error_description", error.getMessage());
    }
    return body;
  }

  private static String oauthError(ErrorCode code) {
    switch (code) {
      case UNSUPPORTED_GRANT_TYPE:
        return "unsupported_grant_type";
      case INVALID_CREDENTIALS:
      case EMAIL_NOT_CONFIRMED:
      case USER_BANNED:
      case REFRESH_TOKEN_NOT_FOUND:
      case REFRESH_TOKEN_ALREADY_USED:
        return "invalid_grant";
      case SERVICE_UNAVAILABLE:
        return "temporarily_unavailable";
      case UNEXPECTED_FAILURE:
      case HOOK_FAILED:
        return "server_error";
      default:
        return "invalid_request";
    }
  }
}
