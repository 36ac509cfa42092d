package io.portcullis.http;

import io.portcullis.bus.Addresses;
import io.portcullis.account.Redirects;
import io.portcullis.bus.AuthBus;
import io.portcullis.bus.BusErrors;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.limit.HashGate;
import io.portcullis.session.LiveUser;
import io.portcullis.session.SessionCache;
import io.portcullis.token.Introspection;
import io.portcullis.token.TokenVerifier;
import io.portcullis.user.UserVerticle;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.Map;

/**
 * The GoTrue endpoints that act for a caller: sign-up, the token grants, the user, sign-out, userinfo. Each turns
 * the request into a bus message and the reply into a response; the work happens behind the bus.
 */
final class AuthRoutes {

  static final String USER = "portcullis.user";
  static final String CLAIMS = "portcullis.claims";
  /** The same user as {@link #USER}, with its JSON encoding kept with the session cache's entry. */
  static final String LIVE_USER = "portcullis.live-user";

  private final AuthBus bus;
  private final Config config;
  private final HashGate hashing;
  private final SessionCache sessions;
  private final SessionCookies cookies;
  private final TokenVerifier verifier;
  /** The session checks under way, by session and user: this verticle instance's, used on its event loop only. */
  private final Map<String, Check> checks = new HashMap<>();

  private record Check(Future<LiveUser> answer, long generation) {
  }

  AuthRoutes(AuthBus bus, Config config, HashGate hashing, SessionCache sessions, SessionCookies cookies,
             TokenVerifier verifier) {
    this.cookies = cookies;
    this.verifier = verifier;
    this.bus = bus;
    this.config = config;
    this.hashing = hashing;
    this.sessions = sessions;
  }

  /** Sends a request that hashes a password, unless too many already wait for the hashing workers. */
  private Future<JsonObject> sendHashing(RoutingContext ctx, String address, JsonObject body) {
    if (!hashing.tryEnter()) {
      ctx.response().putHeader("Retry-After", "1");
      return Future.failedFuture(new AuthException(ErrorCode.SERVICE_UNAVAILABLE,
        "Too many sign-ins at once; retry in a moment"));
    }
    return send(ctx, address, body).andThen(done -> hashing.leave());
  }

  void signup(RoutingContext ctx) {
    JsonObject body = withRedirect(ctx, Requests.json(ctx, false));
    reply(ctx, sendHashing(ctx, Addresses.USERS_SIGNUP, body), true);
  }

  /** {@code recover}, {@code otp} and {@code resend}: always {@code 200 {}} unless the input is invalid. */
  void mailFlow(RoutingContext ctx, String address) {
    JsonObject body = withRedirect(ctx, Requests.json(ctx, false));
    reply(ctx, send(ctx, address, body), false);
  }

  void verify(RoutingContext ctx) {
    JsonObject body = withRedirect(ctx, Requests.json(ctx, false));
    body.remove("link"); // only the mail link's own route may ask for a PKCE code
    reply(ctx, send(ctx, Addresses.ACCOUNT_VERIFY, body), true);
  }

  /**
   * The link in mails: 303 to the allowed {@code redirect_to} (else the site URL) with the session in the
   * fragment, as supabase-js's implicit flow reads it, or the error in the fragment.
   */
  void verifyLink(RoutingContext ctx) {
    String type = ctx.request().getParam("type", "");
    String token = ctx.request().getParam("token", "");
    String target = Redirects.resolve(config, ctx.request().getParam("redirect_to"));
    JsonObject body = new JsonObject().put("type", type).put("token_hash", token).put("link", true);
    send(ctx, Addresses.ACCOUNT_VERIFY, body)
      .map(session -> session.containsKey("auth_code")
        // A PKCE flow: the app exchanges the code with its verifier (grant_type=pkce).
        ? "?code=" + URLEncoder.encode(session.getString("auth_code"), StandardCharsets.UTF_8)
        : "#" + (session.containsKey("access_token")
        ? fragment("access_token", session.getString("access_token"),
            "token_type", "bearer",
            "expires_in", String.valueOf(session.getLong("expires_in")),
            "expires_at", String.valueOf(session.getLong("expires_at")),
            "refresh_token", session.getString("refresh_token"),
            "type", type)
        : fragment("message", session.getString("msg", ""))))
      .otherwise(error -> {
        AuthException auth = BusErrors.toAuthException(error);
        return "#" + fragment("error", auth.status() >= 500 ? "server_error" : "access_denied",
          "error_code", auth.code().code(),
          "error_description", auth.getMessage());
      })
      .onSuccess(fragment -> ctx.response()
        .setStatusCode(303)
        .putHeader("Location", withSuffix(target, fragment))
        .putHeader("Cache-Control", "no-store")
        .putHeader("Pragma", "no-cache")
        .putHeader("Content-Type", "application/json")
        .end("{}"));
  }

  /** {@code target} with a {@code ?query} (merged into any query it has) or a {@code #fragment} appended. */
  static String withSuffix(String target, String suffix) {
    return suffix.startsWith("?") && target.contains("?") ? target + "&" + suffix.substring(1) : target + suffix;
  }

  static String fragment(String... pairs) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < pairs.length; i += 2) {
      if (out.length() > 0) {
        out.append('&');
      }
      out.append(pairs[i]).append('=').append(URLEncoder.encode(pairs[i + 1], StandardCharsets.UTF_8));
    }
    return out.toString();
  }

  /** supabase-js sends {@code redirect_to} (emailRedirectTo / redirectTo) as a query parameter. */
  private static JsonObject withRedirect(RoutingContext ctx, JsonObject body) {
    String redirectTo = ctx.request().getParam("redirect_to");
    if (redirectTo != null && !redirectTo.isEmpty()) {
      body.put("redirect_to", redirectTo);
    }
    return body;
  }

  /** RFC 6749 §4.3 and §6, in JSON (supabase-js) or form bodies (OAuth clients); grant_type in query or form. */
  void token(RoutingContext ctx) {
    boolean form = Requests.isForm(ctx);
    ctx.put(FailureHandler.FORM_REQUEST, form);
    JsonObject body = Requests.tokenBody(ctx);
    String grantType = Requests.grantType(ctx);
    if (grantType == null || grantType.isEmpty()) {
      throw AuthException.validation("grant_type is required");
    }
    switch (grantType) {
      case "password" -> {
        JsonObject credentials = new JsonObject()
          .put("email", form ? body.getValue("username") : body.getValue("email"))
          .put("password", body.getValue("password"));
        if (!form && body.getValue("email") == null && body.getValue("phone") != null) {
          throw AuthException.validation("Phone sign-in is not enabled");
        }
        reply(ctx, sendHashing(ctx, Addresses.TOKENS_PASSWORD, credentials), true);
      }
      case "refresh_token" -> reply(ctx, send(ctx, Addresses.TOKENS_REFRESH,
        new JsonObject().put("refresh_token", cookies.refreshToken(ctx, body.getValue("refresh_token")))), true);
      case "id_token" -> reply(ctx, idToken(ctx, body), true);
      case "pkce" -> reply(ctx, send(ctx, Addresses.FLOW_PKCE, new JsonObject()
        .put("auth_code", body.getValue("auth_code"))
        .put("code_verifier", body.getValue("code_verifier"))), true);
      default -> throw new AuthException(ErrorCode.UNSUPPORTED_GRANT_TYPE, "Unsupported grant type");
    }
  }

  /**
   * {@code grant_type=id_token}; with {@code link_identity: true} (linkIdentity with a token) the caller's Bearer
   * token names the user the provider identity is linked to, checked like on Bearer routes.
   */
  private Future<JsonObject> idToken(RoutingContext ctx, JsonObject body) {
    JsonObject request = new JsonObject()
      .put("provider", body.getValue("provider"))
      .put("id_token", body.getValue("id_token"))
      .put("access_token", body.getValue("access_token"))
      .put("nonce", body.getValue("nonce"));
    if (!Boolean.TRUE.equals(body.getValue("link_identity"))) {
      return send(ctx, Addresses.EXTERNAL_ID_TOKEN, request);
    }
    if (!config.federation().manualLinkingEnabled()) {
      return Future.failedFuture(new AuthException(ErrorCode.MANUAL_LINKING_DISABLED, "Manual linking is disabled"));
    }
    String authorization = ctx.request().getHeader("Authorization");
    String bearer = authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
      ? authorization.substring(7).trim() : "";
    return bus.request(Addresses.TOKENS_VERIFY, new JsonObject().put("token", bearer))
      .compose(verified -> send(ctx, Addresses.EXTERNAL_ID_TOKEN, request.put("link_user_id",
        verified.getString("user_id"))));
  }

  /**
   * RFC 7662 (admin Bearer): form or JSON {@code token=...}. An access token is checked here as on Bearer routes:
   * this instance's verifier, then the liveness of its user and session from the same cache (a bus request and a
   * query only when the cache does not know the session). A refresh token is looked up behind the bus.
   */
  void introspect(RoutingContext ctx) {
    JsonObject body = Requests.isForm(ctx) ? Requests.form(ctx) : Requests.json(ctx, false);
    String token = body.getValue("token") instanceof String s ? s : null;
    if (token == null || token.isEmpty()) {
      throw AuthException.validation("token is required");
    }
    if (!Introspection.looksLikeJwt(token)) {
      reply(ctx, send(ctx, Addresses.TOKENS_INTROSPECT, new JsonObject().put("token", token)), true);
      return;
    }
    reply(ctx, verifier.verify(token)
      .compose(claims -> liveUser(claims).map(user -> Introspection.active(claims)))
      .recover(Introspection::inactiveUnlessUnavailable), true);
  }

  /** RFC 7009: form or JSON {@code token=<refresh token>} → 200 whether or not the token was known. */
  void revoke(RoutingContext ctx) {
    boolean form = Requests.isForm(ctx);
    ctx.put(FailureHandler.FORM_REQUEST, form);
    JsonObject body = form ? Requests.form(ctx) : Requests.json(ctx, false);
    reply(ctx, send(ctx, Addresses.TOKENS_REVOKE, new JsonObject().put("token", body.getValue("token"))), true);
  }

  /**
   * Runs after JWTAuthHandler: checks the claims it does not, then that the user and the token's session still
   * exist, so sign-out takes effect at once on every Bearer route.
   */
  void alive(RoutingContext ctx) {
    JsonObject claims = TokenVerifier.claims(ctx.user());
    if (claims.getString("sub") == null) {
      throw new AuthException(ErrorCode.USER_NOT_FOUND, "This endpoint requires a user's token");
    }
    ctx.put(CLAIMS, claims);
    liveUser(claims)
      .onSuccess(user -> {
        ctx.put(USER, user.json());
        ctx.put(LIVE_USER, user);
        ctx.next();
      })
      .onFailure(ctx::fail);
  }

  /**
   * The user of verified claims when user and session live (the session cache, else the users' verticle, whose
   * answer is cached); a token without a user only when it is a service key. Fails as the Bearer routes refuse.
   * A cached session due for a check is served and checked in the background (see SessionCache).
   */
  private Future<LiveUser> liveUser(JsonObject claims) {
    String userId = claims.getString("sub");
    String sessionId = claims.getString("session_id");
    if (userId == null) {
      return UserVerticle.serviceKey(config, claims.getString("role"), sessionId).map(LiveUser::new);
    }
    LiveUser cached = sessions.get(sessionId, userId);
    if (cached == null) {
      return check(userId, sessionId);
    }
    if (sessions.dueForCheck(sessionId)) {
      check(userId, sessionId).onFailure(error -> {
        if (error instanceof AuthException e && e.status() < 500) {
          sessions.forget(sessionId);
        }
      });
    }
    return Future.succeededFuture(cached);
  }

  /**
   * Asks the users' verticle whether the session lives, and caches the answer. Requests of one session that come
   * while a check of this event loop is under way share its answer, unless the user changed since it began (a
   * sign-out must not be answered by a check that started before it).
   */
  private Future<LiveUser> check(String userId, String sessionId) {
    String key = sessionId + ' ' + userId;
    long generation = sessions.generation(userId);
    Check running = checks.get(key);
    if (running != null && running.generation() == generation) {
      return running.answer();
    }
    JsonObject check = new JsonObject()
      .put("user_id", userId)
      .put("session_id", sessionId);
    Future<LiveUser> answer = bus.request(Addresses.SESSIONS_CHECK, check)
      .map(user -> sessions.put(sessionId, userId, user, generation));
    Check started = new Check(answer, generation);
    checks.put(key, started);
    answer.onComplete(done -> checks.remove(key, started));
    return answer;
  }

  /** The user's JSON as encoded once for the cached session. */
  void getUser(RoutingContext ctx) {
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .end(ctx.<LiveUser>get(LIVE_USER).encoded());
  }

  void updateUser(RoutingContext ctx) {
    JsonObject body = Requests.json(ctx, false);
    JsonObject claims = ctx.get(CLAIMS);
    JsonObject update = new JsonObject()
      .put("user_id", claims.getString("sub"))
      .put("session_id", claims.getString("session_id"));
    for (String field : new String[] {"email", "password", "data", "code_challenge", "code_challenge_method"}) {
      if (body.containsKey(field)) {
        update.put(field, body.getValue(field));
      }
    }
    if (body.getValue("phone") instanceof String phone && !phone.isEmpty()) {
      throw AuthException.validation("Phone numbers are not supported");
    }
    reply(ctx, update.containsKey("password")
      ? sendHashing(ctx, Addresses.USERS_UPDATE, withRedirect(ctx, update))
      : send(ctx, Addresses.USERS_UPDATE, withRedirect(ctx, update)), false);
  }

  void logout(RoutingContext ctx) {
    String scope = ctx.request().getParam("scope", "global");
    JsonObject claims = ctx.get(CLAIMS);
    String userId = claims.getString("sub");
    String sessionId = claims.getString("session_id");
    JsonObject end = switch (scope) {
      case "global" -> new JsonObject().put("user_id", userId);
      case "local" -> new JsonObject().put("user_id", userId).put("session_id", sessionId);
      case "others" -> new JsonObject().put("user_id", userId).put("except_session_id", sessionId);
      default -> throw AuthException.validation("Unsupported logout scope \"" + scope + "\"");
    };
    send(ctx, Addresses.SESSIONS_END, end)
      .onSuccess(ended -> ctx.response().setStatusCode(204).end())
      .onFailure(ctx::fail);
  }

  /** OpenID Connect Core §5.3. */
  void userinfo(RoutingContext ctx) {
    JsonObject user = ctx.get(USER);
    JsonObject info = new JsonObject()
      .put("sub", user.getString("id"))
      .put("email", user.getString("email"))
      .put("email_verified", user.containsKey("email_confirmed_at"))
      .put("phone", user.getString("phone"))
      .put("phone_verified", user.containsKey("phone_confirmed_at"))
      .put("updated_at", OffsetDateTime.parse(user.getString("updated_at")).toEpochSecond())
      .put("app_metadata", user.getJsonObject("app_metadata"))
      .put("user_metadata", user.getJsonObject("user_metadata"));
    ctx.json(info);
  }

  private Future<JsonObject> send(RoutingContext ctx, String address, JsonObject body) {
    return bus.request(address, body, Requests.ip(ctx), Requests.userAgent(ctx));
  }

  /** Replies with the JSON; answers that may carry tokens are never cached (RFC 6749 §5.1). */
  private void reply(RoutingContext ctx, Future<JsonObject> result, boolean carriesTokens) {
    result.onSuccess(json -> {
      if (carriesTokens) {
        ctx.response().putHeader("Cache-Control", "no-store").putHeader("Pragma", "no-cache");
        cookies.issue(ctx, json);
      }
      ctx.json(json);
    }).onFailure(ctx::fail);
  }
}
