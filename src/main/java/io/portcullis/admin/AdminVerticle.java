package io.portcullis.admin;

import io.portcullis.db.DatabaseVerticle;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.input.Inputs;
import io.portcullis.error.AuthException;
import io.portcullis.error.Futures;
import io.portcullis.events.Events;
import io.portcullis.config.Config;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.core.json.JsonObject;

import java.time.Clock;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * User administration on the bus ({@code auth.internal.admin}); the HTTP layer has already checked that the
 * caller is an admin. Messages are {@code {op, actor_id?, ...}}.
 */
public final class AdminVerticle extends DatabaseVerticle {


  private final Config config;
  private final Clock clock;
  private final Consumer<String> userChanged;

  public AdminVerticle(PgConnectOptions database, Config config, Clock clock, Consumer<String> userChanged) {
    super(database, config.db().poolSize());
    this.config = config;
    this.clock = clock;
    this.userChanged = userChanged;
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, config.http().busTimeoutMs());
    AdminService admin = new AdminService(config, clock, pool, bus, new Events(vertx, pool, clock, userChanged));
    return bus.serve(Addresses.ADMIN, msg -> handle(admin, msg.body()));
  }

  private static Future<JsonObject> handle(AdminService admin, JsonObject body) {
    return Futures.attempt(() -> {
      String op = Inputs.requiredString(body, "op");
      UUID actor = Inputs.uuidOrNull(Inputs.optionalString(body, "actor_id"));
      JsonObject data = Inputs.optionalObject(body, "body");
      return switch (op) {
        case "list" -> admin.list(body.getInteger("page", 1), body.getInteger("per_page", 50));
        case "audit" -> admin.audit(body.getInteger("page", 1), body.getInteger("per_page", 50));
        case "create" -> admin.create(data == null ? new JsonObject() : data, actor);
        case "get" -> admin.get(required(body));
        case "update" -> admin.update(required(body), data == null ? new JsonObject() : data, actor);
        case "delete" -> admin.delete(required(body), body.getBoolean("soft", false), actor);
        case "unlock" -> admin.unlock(required(body));
        default -> Future.failedFuture(AuthException.validation("Unknown admin operation"));
      };
    });
  }

  private static UUID required(JsonObject body) {
    UUID id = Inputs.uuidOrNull(Inputs.optionalString(body, "id"));
    if (id == null) {
      throw AuthException.withStatus(io.portcullis.error.ErrorCode.USER_NOT_FOUND, 404, "User not found");
    }
    return id;
  }
}
