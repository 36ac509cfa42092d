package io.portcullis.http;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;

/**
 * The account-security routes: the caller's sessions (and an admin's view of a user's), TOTP factors with their
 * challenges and recovery codes, and re-authentication. Each turns the request into a bus message; the work is
 * behind the bus.
 */
final class SecurityRoutes {

  private final AuthBus bus;

  SecurityRoutes(AuthBus bus) {
    this.bus = bus;
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
    if (uuid(sessionId) == null) {
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
    if (uuid(id) == null) {
      throw AuthException.withStatus(ErrorCode.USER_NOT_FOUND, 404, "User not found");
    }
    return id;
  }

  private static UUID uuid(String value) {
    try {
      return value == null ? null : UUID.fromString(value);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private Future<JsonObject> send(RoutingContext ctx, String address, JsonObject body) {
    return bus.request(address, body, Requests.ip(ctx), Requests.userAgent(ctx));
  }
}
