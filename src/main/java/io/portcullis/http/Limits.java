package io.portcullis.http;

import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.limit.RateLimiter;
import io.portcullis.metrics.AuthMetrics;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The per-client-IP rate limits of the abuse-prone routes (429 over_request_rate_limit with Retry-After). The
 * refresh grant has its own, generous bucket: a 429 there logs supabase-js users out.
 */
final class Limits {

  final Handler<RoutingContext> signup;
  final Handler<RoutingContext> recover;
  final Handler<RoutingContext> otp;
  final Handler<RoutingContext> resend;
  final Handler<RoutingContext> verify;
  final Handler<RoutingContext> userUpdate;
  /** MFA challenges, verifications and recovery codes; and anonymous sign-ins, which have their own bucket. */
  final Handler<RoutingContext> mfa;
  final Handler<RoutingContext> anonymous;
  private final Handler<RoutingContext> password;
  private final Handler<RoutingContext> refresh;

  Limits(Config config, RateLimiter limiter, AuthMetrics metrics) {
    Map<String, RateLimiter.Limit> limits = byName(config);
    boolean on = config.rateLimitsEnabled();
    this.password = handler(on, limiter, metrics, limits.get("password_grant"));
    this.refresh = handler(on, limiter, metrics, limits.get("refresh"));
    this.signup = handler(on, limiter, metrics, limits.get("signup"));
    this.recover = handler(on, limiter, metrics, limits.get("recover"));
    this.otp = handler(on, limiter, metrics, limits.get("otp"));
    this.resend = handler(on, limiter, metrics, limits.get("resend"));
    this.verify = handler(on, limiter, metrics, limits.get("verify"));
    this.userUpdate = handler(on, limiter, metrics, limits.get("user_update"));
    this.mfa = handler(on, limiter, metrics, limits.get("mfa"));
    this.anonymous = handler(on, limiter, metrics, limits.get("anonymous"));
  }

  /** Every limit by its name (the first part of its buckets' keys, as {@link RateLimiter#evictFull} reads them). */
  static Map<String, RateLimiter.Limit> byName(Config config) {
    Config.RateLimit r = config.rateLimit();
    return Stream.of(
        new RateLimiter.Limit("password_grant", r.passwordGrant(), r.burst()),
        new RateLimiter.Limit("refresh", r.refresh(), r.refreshBurst()),
        new RateLimiter.Limit("signup", r.signup(), r.burst()),
        new RateLimiter.Limit("recover", r.recover(), r.burst()),
        new RateLimiter.Limit("otp", r.otp(), r.burst()),
        new RateLimiter.Limit("resend", r.resend(), r.burst()),
        new RateLimiter.Limit("verify", r.verify(), r.burst()),
        new RateLimiter.Limit("user_update", r.userUpdate(), r.burst()),
        new RateLimiter.Limit("mfa", r.mfa(), r.burst()),
        new RateLimiter.Limit("anonymous", r.anonymous(), r.burst()))
      .collect(Collectors.toUnmodifiableMap(RateLimiter.Limit::name, limit -> limit));
  }

  /** The token route's bucket depends on the grant (query, form field or JSON field). */
  void token(RoutingContext ctx) {
    ("refresh_token".equals(Requests.grantType(ctx)) ? refresh : password).handle(ctx);
  }

  private static Handler<RoutingContext> handler(boolean on, RateLimiter limiter, AuthMetrics metrics,
                                                 RateLimiter.Limit limit) {
    if (!on) {
      return RoutingContext::next;
    }
    return ctx -> limiter.acquireShared(limit, String.valueOf(Requests.ip(ctx))).onSuccess(wait -> {
      if (wait == 0) {
        ctx.next();
        return;
      }
      metrics.rateLimited(limit.name());
      ctx.response().putHeader("Retry-After", Long.toString(wait));
      ctx.fail(new AuthException(ErrorCode.OVER_REQUEST_RATE_LIMIT, "Request rate limit reached"));
    });
  }
}
