package io.portcullis.http;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.input.Inputs;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;

/**
 * The account-security routes: the caller's sessions (and an admin's view of a user's), TOTP factors with their
 * challenges and recovery codes, anonymous sign-in, and re-authentication. Each turns the request into a bus message; the work is
 * behind the bus.
 */
final class SecurityRoutes {

  private final AuthBus bus;

  private final Limits limits;

  SecurityRoutes(AuthBus bus, Limits limits) {
    this.bus = bus;
    this.limits = limits;
  }

  /**
   * Registers the routes. {@code alive} is the Bearer-route check (user and session alive), {@code admin} the
   * admin check; both run after {@code bearer}.
   */
  void register(Router router, Handler<RoutingContext> body, Handler<RoutingContext> bearer,
                Handler<RoutingContext> alive, Handler<RoutingContext> admin, Handler<RoutingContext> failures) {
    String base = HttpVerticle.BASE;
    router.get(base + "/user/sessions").handler(bearer).handler(alive).handler(this::listSessions)
      .failureHandler(failures);
    router.delete(base + "/user/sessions/:sid").handler(body).handler(bearer).handler(alive).handler(this::endSession)
      .failureHandler(failures);
    String users = base + "/admin/users/:id";
    router.get(users + "/sessions").handler(bearer).handler(admin).handler(this::adminListSessions)
      .failureHandler(failures);
    router.delete(users + "/sessions/:sid").handler(body).handler(bearer).handler(admin).handler(this::adminEndSession)
      .failureHandler(failures);

    router.get(base + "/reauthenticate").handler(bearer).handler(limits.otp).handler(alive)
      .handler(this::reauthenticate).failureHandler(failures);
    String factors = base + "/factors";
    router.post(factors).handler(body).handler(bearer).handler(alive).handler(this::notAnonymous)
      .handler(this::enroll).failureHandler(failures);
    // Before the factor-id routes, which would take "recovery_codes" for an id.
    router.post(factors + "/recovery_codes").handler(body).handler(bearer).handler(alive).handler(this::notAnonymous)
      .handler(this::generateRecoveryCodes).failureHandler(failures);
    router.post(factors + "/recovery_codes/verify").handler(body).handler(bearer).handler(limits.mfa).handler(alive)
      .handler(this::notAnonymous).handler(this::verifyRecoveryCode).failureHandler(failures);
    router.post(factors + "/:fid/challenge").handler(body).handler(bearer).handler(limits.mfa).handler(alive)
      .handler(this::notAnonymous).handler(this::challenge).failureHandler(failures);
    router.post(factors + "/:fid/verify").handler(body).handler(bearer).handler(limits.mfa).handler(alive)
      .handler(this::notAnonymous).handler(this::verify).failureHandler(failures);
    router.delete(factors + "/:fid").handler(body).handler(bearer).handler(alive).handler(this::notAnonymous)
      .handler(this::unenroll).failureHandler(failures);
    String anonymousUsers = base + "/admin/anonymous_users";
    router.get(anonymousUsers).handler(bearer).handler(admin).handler(this::adminListAnonymous).failureHandler(failures);
    router.delete(anonymousUsers).handler(body).handler(bearer).handler(admin).handler(this::adminDeleteAnonymous)
      .failureHandler(failures);
    router.get(users + "/factors").handler(bearer).handler(admin).handler(this::adminListFactors)
      .failureHandler(failures);
    router.delete(users + "/factors/:fid").handler(body).handler(bearer).handler(admin)
      .handler(this::adminDeleteFactor).failureHandler(failures);
  }

  /**
   * Before {@code PUT /user} (after the Bearer check): a change of email or password needs an aal2 session when
   * the user has a verified factor (401 insufficient_aal, as GoTrue).
   */
  void beforeUserUpdate(RoutingContext ctx) {
    JsonObject body = Requests.json(ctx, false);
    JsonObject user = ctx.get(AuthRoutes.USER);
    if (user.getBoolean("is_anonymous", false) && body.getValue("password") != null && blank(body.getValue("email"))) {
      throw AuthException.withStatus(ErrorCode.VALIDATION_FAILED, 422,
        "Updating password of an anonymous user without an email or phone is not allowed");
    }
    boolean credentials = body.getValue("email") != null || body.getValue("password") != null
      || body.getValue("phone") != null;
    if (!credentials) {
      ctx.next();
      return;
    }
    JsonObject claims = ctx.get(AuthRoutes.CLAIMS);
    JsonObject caller = new JsonObject().put("user_id", claims.getString("sub"))
      .put("session_id", claims.getString("session_id"));
    bus.request(Addresses.SECURITY, caller.copy().put("op", "require_aal"))
      .compose(aal -> body.getValue("password") == null
        ? Future.succeededFuture(aal)
        : bus.request(Addresses.SECURITY, caller.copy().put("op", "reauthentication_check")
          .put("nonce", body.getValue("nonce") instanceof String nonce ? nonce : null)))
      .onSuccess(ok -> ctx.next())
      .onFailure(ctx::fail);
  }

  // ---- re-authentication ----

  /** Mails the caller a nonce for {@code PUT /user {password, nonce}} → {@code {}}. */
  void reauthenticate(RoutingContext ctx) {
    reply(ctx, send(ctx, caller(ctx, "reauthenticate")), false);
  }

  // ---- anonymous users ----

  /** Before the sign-up limit: a sign-up without email, phone and password is anonymous, with its own bucket. */
  void signupLimit(RoutingContext ctx) {
    (anonymous(ctx) ? limits.anonymous : limits.signup).handle(ctx);
  }

  /** An anonymous sign-up is answered here; any other goes on to the password sign-up. */
  void anonymousSignup(RoutingContext ctx) {
    if (!anonymous(ctx)) {
      ctx.next();
      return;
    }
    JsonObject body = Requests.json(ctx, false);
    reply(ctx, send(ctx, new JsonObject().put("op", "anonymous_signup").put("data", body.getValue("data"))), true);
  }

  private static boolean anonymous(RoutingContext ctx) {
    JsonObject body;
    try {
      body = Requests.json(ctx, false);
    } catch (RuntimeException e) {
      return false; // the password sign-up reports what is wrong with the body
    }
    return blank(body.getValue("email")) && blank(body.getValue("phone")) && blank(body.getValue("password"));
  }

  private static boolean blank(Object value) {
    return value == null || value instanceof String s && s.isEmpty();
  }

  /** {@code ?inactive_days=30&limit=100}: anonymous users without a session active in that time, oldest first. */
  void adminListAnonymous(RoutingContext ctx) {
    reply(ctx, send(ctx, new JsonObject().put("op", "anonymous_list")
      .put("inactive_days", number(ctx, "inactive_days", 0, 36_500, 30))
      .put("limit", number(ctx, "limit", 1, 1000, 100))), false);
  }

  /** {@code ?inactive_days=30}: deletes those users → {@code {deleted}}. */
  void adminDeleteAnonymous(RoutingContext ctx) {
    reply(ctx, send(ctx, new JsonObject().put("op", "anonymous_delete")
      .put("inactive_days", number(ctx, "inactive_days", 0, 36_500, 30))
      .put("actor_id", ctx.<String>get(AdminRoutes.ACTOR))), false);
  }

  private static int number(RoutingContext ctx, String name, int min, int max, int fallback) {
    String raw = ctx.request().getParam(name);
    if (raw == null || raw.isEmpty()) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(raw);
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw AuthException.validation("Query parameter '" + name + "' must be a number from " + min + " to " + max);
  }

  // ---- MFA ----

  /** GoTrue's factor routes refuse anonymous users. */
  void notAnonymous(RoutingContext ctx) {
    JsonObject user = ctx.get(AuthRoutes.USER);
    if (user.getBoolean("is_anonymous", false)) {
      throw AuthException.withStatus(ErrorCode.NO_AUTHORIZATION, 403, "Anonymous user not allowed to perform these actions");
    }
    ctx.next();
  }

  void enroll(RoutingContext ctx) {
    JsonObject body = Requests.json(ctx, false);
    JsonObject user = ctx.get(AuthRoutes.USER);
    String email = user.getString("email", "");
    JsonObject message = caller(ctx, "factor_enroll")
      .put("account", email.isEmpty() ? user.getString("id") : email);
    for (String field : new String[] {"factor_type", "friendly_name", "issuer"}) {
      message.put(field, body.getValue(field));
    }
    reply(ctx, send(ctx, message), false);
  }

  void challenge(RoutingContext ctx) {
    reply(ctx, send(ctx, caller(ctx, "factor_challenge").put("factor_id", ctx.pathParam("fid"))), false);
  }

  void verify(RoutingContext ctx) {
    JsonObject body = Requests.json(ctx, false);
    reply(ctx, send(ctx, caller(ctx, "factor_verify").put("factor_id", ctx.pathParam("fid"))
      .put("challenge_id", body.getValue("challenge_id")).put("code", body.getValue("code"))), true);
  }

  void unenroll(RoutingContext ctx) {
    reply(ctx, send(ctx, caller(ctx, "factor_unenroll").put("factor_id", ctx.pathParam("fid"))), false);
  }

  void generateRecoveryCodes(RoutingContext ctx) {
    reply(ctx, send(ctx, caller(ctx, "recovery_codes_generate")), true);
  }

  void verifyRecoveryCode(RoutingContext ctx) {
    JsonObject body = Requests.json(ctx, false);
    reply(ctx, send(ctx, caller(ctx, "recovery_codes_verify").put("code", body.getValue("code"))), true);
  }

  /** A bare JSON array of the user's factors, as GoTrue answers (supabase-js wraps it as {@code {factors}}). */
  void adminListFactors(RoutingContext ctx) {
    String userId = userId(ctx);
    bus.request(Addresses.USERS_GET, new JsonObject().put("id", userId))
      .compose(user -> bus.request(Addresses.SECURITY, new JsonObject().put("op", "factor_list").put("user_id", userId)))
      .onSuccess(result -> ctx.response().putHeader("Content-Type", "application/json")
        .end(result.getJsonArray("factors").encode()))
      .onFailure(ctx::fail);
  }

  void adminDeleteFactor(RoutingContext ctx) {
    String userId = userId(ctx);
    JsonObject message = new JsonObject().put("op", "factor_admin_delete").put("user_id", userId)
      .put("factor_id", ctx.pathParam("fid")).put("actor_id", ctx.<String>get(AdminRoutes.ACTOR));
    reply(ctx, bus.request(Addresses.USERS_GET, new JsonObject().put("id", userId))
      .compose(user -> send(ctx, message)), false);
  }

  /** An operation on behalf of the token's user and session. */
  private static JsonObject caller(RoutingContext ctx, String op) {
    JsonObject claims = ctx.get(AuthRoutes.CLAIMS);
    return new JsonObject().put("op", op).put("user_id", claims.getString("sub"))
      .put("session_id", claims.getString("session_id"));
  }

  private Future<JsonObject> send(RoutingContext ctx, JsonObject message) {
    return send(ctx, Addresses.SECURITY, message);
  }

  /** Replies with the JSON; answers that carry tokens or recovery codes are never cached. */
  private static void reply(RoutingContext ctx, Future<JsonObject> result, boolean secret) {
    result.onSuccess(json -> {
      if (secret) {
        ctx.response().putHeader("Cache-Control", "no-store").putHeader("Pragma", "no-cache");
      }
      ctx.json(json);
    }).onFailure(ctx::fail);
  }

  // ---- sessions ----

  void listSessions(RoutingContext ctx) {
    JsonObject claims = ctx.get(AuthRoutes.CLAIMS);
    String current = claims.getString("session_id");
    bus.request(Addresses.SESSIONS_LIST, new JsonObject().put("user_id", claims.getString("sub")))
      .onSuccess(result -> {
        JsonArray sessions = result.getJsonArray("sessions");
        sessions.forEach(s -> ((JsonObject) s).put("current", ((JsonObject) s).getString("id").equals(current)));
        ctx.json(new JsonObject().put("sessions", sessions));
      })
      .onFailure(ctx::fail);
  }

  /** Ends one of the caller's own sessions (the current one too); any other id is 404 session_not_found. */
  void endSession(RoutingContext ctx) {
    JsonObject claims = ctx.get(AuthRoutes.CLAIMS);
    end(ctx, claims.getString("sub"), ctx.pathParam("sid"), null);
  }

  void adminListSessions(RoutingContext ctx) {
    String userId = userId(ctx);
    bus.request(Addresses.USERS_GET, new JsonObject().put("id", userId))
      .compose(user -> bus.request(Addresses.SESSIONS_LIST, new JsonObject().put("user_id", userId)))
      .onSuccess(ctx::json)
      .onFailure(ctx::fail);
  }

  void adminEndSession(RoutingContext ctx) {
    end(ctx, userId(ctx), ctx.pathParam("sid"), ctx.get(AdminRoutes.ACTOR));
  }

  private void end(RoutingContext ctx, String userId, String sessionId, String actorId) {
    if (Inputs.uuidOrNull(sessionId) == null) {
      throw sessionNotFound();
    }
    JsonObject end = new JsonObject().put("user_id", userId).put("session_id", sessionId);
    if (actorId != null) {
      end.put("actor_id", actorId);
    }
    send(ctx, Addresses.SESSIONS_END, end)
      .compose(ended -> ended.getInteger("ended", 0) == 0
        ? Future.<JsonObject>failedFuture(sessionNotFound())
        : Future.succeededFuture(ended))
      .onSuccess(ended -> ctx.response().setStatusCode(204).end())
      .onFailure(ctx::fail);
  }

  private static AuthException sessionNotFound() {
    return AuthException.withStatus(ErrorCode.SESSION_NOT_FOUND, 404, "Session not found");
  }

  // ---- helpers ----

  /** The {@code {id}} of an admin user route; not a UUID → 404 user_not_found, as the other admin routes answer. */
  private static String userId(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (Inputs.uuidOrNull(id) == null) {
      throw AuthException.withStatus(ErrorCode.USER_NOT_FOUND, 404, "User not found");
    }
    return id;
  }

  private Future<JsonObject> send(RoutingContext ctx, String address, JsonObject body) {
    return bus.request(address, body, Requests.ip(ctx), Requests.userAgent(ctx));
  }
}
