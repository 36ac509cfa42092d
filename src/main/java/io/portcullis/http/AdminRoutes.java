package io.portcullis.http;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.error.AuthException;
import io.portcullis.token.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** GoTrue's admin routes under {@code /auth/v1/admin}, for admin tokens only; the work is behind the bus. */
final class AdminRoutes {

  static final String ACTOR = "portcullis.actor";
  private static final int DEFAULT_PER_PAGE = 50;
  private static final int MAX_PER_PAGE = 1000;

  private final AuthBus bus;

  AdminRoutes(AuthBus bus) {
    this.bus = bus;
  }

  /** After JWTAuthHandler: a service key, or a user whose current roles make them an admin. */
  void requireAdmin(RoutingContext ctx) {
    JsonObject claims = TokenVerifier.claims(ctx.user());
    JsonObject check = new JsonObject()
      .put("user_id", claims.getString("sub"))
      .put("session_id", claims.getString("session_id"))
      .put("role", claims.getString("role"));
    bus.request(Addresses.ADMIN_CHECK, check)
      .onSuccess(admin -> {
        ctx.put(ACTOR, admin.getString("actor_id"));
        ctx.next();
      })
      .onFailure(ctx::fail);
  }

  void listUsers(RoutingContext ctx) {
    int page = number(ctx, "page", 1, Integer.MAX_VALUE, 1);
    int perPage = number(ctx, "per_page", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE);
    op(ctx, new JsonObject().put("op", "list").put("page", page).put("per_page", perPage))
      .onSuccess(result -> {
        long total = result.getLong("total");
        paginate(ctx, HttpVerticle.BASE + "/admin/users", page, perPage, total);
        ctx.json(new JsonObject().put("users", result.getJsonArray("users")).put("aud", result.getString("aud")));
      })
      .onFailure(ctx::fail);
  }

  void audit(RoutingContext ctx) {
    int page = number(ctx, "page", 1, Integer.MAX_VALUE, 1);
    int perPage = number(ctx, "per_page", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE);
    op(ctx, new JsonObject().put("op", "audit").put("page", page).put("per_page", perPage))
      .onSuccess(result -> {
        paginate(ctx, HttpVerticle.BASE + "/admin/audit", page, perPage, result.getLong("total"));
        JsonArray entries = result.getJsonArray("entries");
        ctx.response().putHeader("Content-Type", "application/json").end(entries.encode());
      })
      .onFailure(ctx::fail);
  }

  void createUser(RoutingContext ctx) {
    reply(ctx, op(ctx, new JsonObject().put("op", "create").put("body", Requests.json(ctx, false))));
  }

  void getUser(RoutingContext ctx) {
    reply(ctx, op(ctx, new JsonObject().put("op", "get").put("id", ctx.pathParam("id"))));
  }

  void updateUser(RoutingContext ctx) {
    reply(ctx, op(ctx, new JsonObject().put("op", "update").put("id", ctx.pathParam("id"))
      .put("body", Requests.json(ctx, false))));
  }

  void deleteUser(RoutingContext ctx) {
    JsonObject body = Requests.json(ctx, true);
    Object soft = body.getValue("should_soft_delete");
    if (soft != null && !(soft instanceof Boolean)) {
      throw AuthException.validation("Field 'should_soft_delete' must be a boolean");
    }
    reply(ctx, op(ctx, new JsonObject().put("op", "delete").put("id", ctx.pathParam("id"))
      .put("soft", Boolean.TRUE.equals(soft))));
  }

  /** Adds the next signing key; it is published now and signs after {@code jwt.rotation_delay_seconds}. */
  void rotateKeys(RoutingContext ctx) {
    reply(ctx, bus.request(Addresses.KEYS_ROTATE, new JsonObject()));
  }

  /** Clears a brute-force lockout. */
  void unlock(RoutingContext ctx) {
    reply(ctx, op(ctx, new JsonObject().put("op", "unlock").put("id", ctx.pathParam("id"))));
  }

  /** {@code POST /admin/generate_link}: the link and code a mail would carry, not sent. */
  void generateLink(RoutingContext ctx) {
    reply(ctx, bus.request(Addresses.ADMIN_GENERATE_LINK, Requests.json(ctx, false), Requests.ip(ctx),
      Requests.userAgent(ctx)));
  }

  /** {@code POST /invite}: creates the user and mails an invitation. */
  void invite(RoutingContext ctx) {
    reply(ctx, bus.request(Addresses.ADMIN_INVITE, Requests.json(ctx, false), Requests.ip(ctx),
      Requests.userAgent(ctx)));
  }

  private Future<JsonObject> op(RoutingContext ctx, JsonObject message) {
    message.put("actor_id", ctx.<String>get(ACTOR));
    return bus.request(Addresses.ADMIN, message, Requests.ip(ctx), Requests.userAgent(ctx));
  }

  private static void reply(RoutingContext ctx, Future<JsonObject> result) {
    result.onSuccess(ctx::json).onFailure(ctx::fail);
  }

  /** {@code X-Total-Count} and a {@code Link} header with {@code page} first, as supabase-js parses it. */
  private static void paginate(RoutingContext ctx, String path, int page, int perPage, long total) {
    long last = Math.max(1, (total + perPage - 1) / perPage);
    StringBuilder link = new StringBuilder();
    if (page < last) {
      link.append('<').append(path).append("?page=").append(page + 1).append("&per_page=").append(perPage)
        .append(">; rel=\"next\", ");
    }
    link.append('<').append(path).append("?page=").append(last).append("&per_page=").append(perPage)
      .append(">; rel=\"last\"");
    ctx.response().putHeader("X-Total-Count", Long.toString(total)).putHeader("Link", link.toString());
  }

  /** A query number; absent or empty (supabase-js sends {@code page=&per_page=}) means the default. */
  private static int number(RoutingContext ctx, String name, int min, int max, int fallback) {
    String raw = ctx.request().getParam(name);
    if (raw == null || raw.isEmpty()) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(raw);
      if (value < min || value > max) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw AuthException.validation("Query parameter '" + name + "' must be a number from " + min + " to " + max);
    }
  }
}
