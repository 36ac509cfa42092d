package io.portcullis.http;

import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.limit.RateLimiter;
import io.portcullis.metrics.AuthMetrics;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;

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
  private final Map<String, RateLimiter.Limit> byName;

  Limits(Config config, RateLimiter limiter, AuthMetrics metrics) {
    Config.RateLimit r = config.rateLimit();
    boolean on = config.rateLimitsEnabled();
    RateLimiter.Limit passwordLimit = new RateLimiter.Limit("password_grant", r.passwordGrant(), r.burst());
    RateLimiter.Limit refreshLimit = new RateLimiter.Limit("refresh", r.refresh(), r.refreshBurst());
    RateLimiter.Limit signupLimit = new RateLimiter.Limit("signup", r.signup(), r.burst());
    RateLimiter.Limit recoverLimit = new RateLimiter.Limit("recover", r.recover(), r.burst());
    RateLimiter.Limit otpLimit = new RateLimiter.Limit("otp", r.otp(), r.burst());
    RateLimiter.Limit resendLimit = new RateLimiter.Limit("resend", r.resend(), r.burst());
    RateLimiter.Limit verifyLimit = new RateLimiter.Limit("verify", r.verify(), r.burst());
    RateLimiter.Limit userUpdateLimit = new RateLimiter.Limit("user_update", r.userUpdate(), r.burst());
    RateLimiter.Limit mfaLimit = new RateLimiter.Limit("mfa", r.mfa(), r.burst());
    RateLimiter.Limit anonymousLimit = new RateLimiter.Limit("anonymous", r.anonymous(), r.burst());
    this.byName = Map.of("password_grant", passwordLimit, "refresh", refreshLimit, "signup", signupLimit,
      "recover", recoverLimit, "otp", otpLimit, "resend", resendLimit, "verify", verifyLimit,
      "user_update", userUpdateLimit, "mfa", mfaLimit, "anonymous", anonymousLimit);
    this.password = handler(on, limiter, metrics, passwordLimit);
    this.refresh = handler(on, limiter, metrics, refreshLimit);
    this.signup = handler(on, limiter, metrics, signupLimit);
    this.recover = handler(on, limiter, metrics, recoverLimit);
    this.otp = handler(on, limiter, metrics, otpLimit);
    this.resend = handler(on, limiter, metrics, resendLimit);
    this.verify = handler(on, limiter, metrics, verifyLimit);
    this.userUpdate = handler(on, limiter, metrics, userUpdateLimit);
    this.mfa = handler(on, limiter, metrics, mfaLimit);
    this.anonymous = handler(on, limiter, metrics, anonymousLimit);
  }

  /** The token route's bucket depends on the grant (query, or form field). */
  void token(RoutingContext ctx) {
    String grant = ctx.request().getParam("grant_type");
    if (grant == null && Requests.isForm(ctx)) {
      grant = ctx.request().getFormAttribute("grant_type");
    }
    ("refresh_token".equals(grant) ? refresh : password).handle(ctx);
  }

  Map<String, RateLimiter.Limit> byName() {
    return byName;
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
