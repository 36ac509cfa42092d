package io.portcullis.http;

import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.Handler;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * Cookie mode, for apps that keep tokens out of JavaScript: answers carrying a session also set the tokens as
 * HttpOnly cookies (the refresh token only ever sent to the token endpoint, SameSite=Strict; the access token
 * SameSite=Lax) and a readable CSRF cookie. Bearer routes accept the access cookie when no Authorization header
 * is sent, the refresh grant the refresh cookie when the body has no token; a request that a cookie authenticates
 * and that changes state must echo the CSRF cookie in {@code X-CSRF-Token} (double submit), else 403 csrf_failed.
 * <p>
 * Over https the names get the browser-enforced prefixes: {@code __Host-} (Secure, Path=/, no Domain, so no
 * sibling subdomain can plant it) on the access and CSRF cookies, and {@code __Secure-} on the refresh cookie,
 * which cannot take {@code __Host-} because its Path is the token endpoint.
 */
final class SessionCookies {

  static final String CSRF_HEADER = "X-CSRF-Token";
  private static final String BY_COOKIE = "portcullis.cookie_auth";
  private static final Set<HttpMethod> SAFE = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);
  /**
   * GET routes that act (start linking an identity, mail a re-authentication code): the Lax access cookie rides
   * along on a cross-site top-level navigation, so these need the CSRF header like a POST.
   */
  private static final Set<String> ACTING_GETS = Set.of(HttpVerticle.BASE + "/user/identities/authorize",
    HttpVerticle.BASE + "/reauthenticate");
  private static final long REFRESH_MAX_AGE = 30L * 24 * 3600;

  private final boolean enabled;
  private final boolean secure;
  private final String access;
  private final String refresh;
  private final String csrf;
  private final String refreshPath;
  private final long accessMaxAge;
  private final SecureRandom random = new SecureRandom();

  SessionCookies(Config config) {
    this.enabled = config.cookiesEnabled();
    this.secure = config.externalUrl().startsWith("https://");
    this.access = (secure ? "__Host-" : "") + "portcullis-access";
    this.refresh = (secure ? "__Secure-" : "") + "portcullis-refresh";
    this.csrf = (secure ? "__Host-" : "") + "portcullis-csrf";
    this.refreshPath = HttpVerticle.BASE + "/token";
    this.accessMaxAge = config.jwt().exp();
  }

  boolean enabled() {
    return enabled;
  }

  /** Sets the cookies of a session answer (anything with both tokens); other answers pass untouched. */
  void issue(RoutingContext ctx, JsonObject answer) {
    if (!enabled || !(answer.getValue("access_token") instanceof String accessToken)
      || !(answer.getValue("refresh_token") instanceof String refreshToken)) {
      return;
    }
    byte[] token = new byte[32];
    random.nextBytes(token);
    ctx.response()
      .addCookie(cookie(access, accessToken, "/", CookieSameSite.LAX, accessMaxAge, true))
      .addCookie(cookie(refresh, refreshToken, refreshPath, CookieSameSite.STRICT, REFRESH_MAX_AGE, true))
      .addCookie(cookie(csrf, Base64.getUrlEncoder().withoutPadding().encodeToString(token), "/",
        CookieSameSite.STRICT, REFRESH_MAX_AGE, false));
  }

  /** Before a sign-out is answered, whatever the answer: the cookies go. */
  void clearOnSignOut(RoutingContext ctx) {
    if (enabled) {
      ctx.addHeadersEndHandler(v -> ctx.response()
        .addCookie(cookie(access, "", "/", CookieSameSite.LAX, 0, true))
        .addCookie(cookie(refresh, "", refreshPath, CookieSameSite.STRICT, 0, true))
        .addCookie(cookie(csrf, "", "/", CookieSameSite.STRICT, 0, false)));
    }
    ctx.next();
  }

  /**
   * Runs before every route: a request without an Authorization header but with the access cookie is
   * authenticated by the cookie (Bearer routes read the header), and remembered as such for {@link #guard}.
   */
  void bearerFromCookie(RoutingContext ctx) {
    if (enabled && ctx.request().getHeader("Authorization") == null) {
      Cookie cookie = ctx.request().getCookie(access);
      if (cookie != null && !cookie.getValue().isEmpty()) {
        ctx.request().headers().set("Authorization", "Bearer " + cookie.getValue());
        ctx.put(BY_COOKIE, true);
      }
    }
    ctx.next();
  }

  /** The Bearer check, preceded by the CSRF check for state-changing requests a cookie authenticates. */
  Handler<RoutingContext> guard(Handler<RoutingContext> bearer) {
    return ctx -> {
      if (Boolean.TRUE.equals(ctx.get(BY_COOKIE))
        && (!SAFE.contains(ctx.request().method()) || ACTING_GETS.contains(ctx.request().path()))) {
        checkCsrf(ctx);
      }
      bearer.handle(ctx);
    };
  }

  /** The refresh cookie, when the body carried no token (CSRF-checked: a cookie authenticates the request). */
  Object refreshToken(RoutingContext ctx, Object fromBody) {
    if (!enabled || (fromBody instanceof String s && !s.isEmpty())) {
      return fromBody;
    }
    Cookie cookie = ctx.request().getCookie(refresh);
    if (cookie == null || cookie.getValue().isEmpty()) {
      return fromBody;
    }
    checkCsrf(ctx);
    return cookie.getValue();
  }

  private void checkCsrf(RoutingContext ctx) {
    Cookie cookie = ctx.request().getCookie(csrf);
    String header = ctx.request().getHeader(CSRF_HEADER);
    if (cookie == null || header == null || cookie.getValue().isEmpty()
      || !MessageDigest.isEqual(cookie.getValue().getBytes(StandardCharsets.UTF_8),
        header.getBytes(StandardCharsets.UTF_8))) {
      throw new AuthException(ErrorCode.CSRF_FAILED,
        "A request authenticated by cookie must send the " + CSRF_HEADER + " header with the CSRF cookie's value");
    }
  }

  private Cookie cookie(String name, String value, String path, CookieSameSite sameSite, long maxAge,
                        boolean httpOnly) {
    return Cookie.cookie(name, value).setPath(path).setHttpOnly(httpOnly).setSecure(secure).setSameSite(sameSite)
      .setMaxAge(maxAge);
  }
}
