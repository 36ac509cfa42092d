package io.portcullis.user;

import io.portcullis.db.DatabaseVerticle;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.input.Inputs;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.config.Config;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authorization.RoleBasedAuthorization;
import io.vertx.ext.auth.sqlclient.SqlAuthorization;
import io.vertx.ext.auth.sqlclient.SqlAuthorizationOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Row;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.UUID;

/** User lookups with the reactive pg client: {@code auth.users.get} and the liveness check of Bearer routes. */
public final class UserVerticle extends DatabaseVerticle {


  private final Config config;
  private final Clock clock;

  public UserVerticle(PgConnectOptions database, Config config, Clock clock) {
    super(database, config.db().poolSize());
    this.config = config;
    this.clock = clock;
  }

  @Override
  protected Future<?> serve() {
    UserRepository users = new UserRepository(pool);
    AuthBus bus = new AuthBus(vertx, config.http().busTimeoutMs());
    // Roles and permissions from SQL, read on every admin request: taking a role away takes effect at once.
    SqlAuthorization authorization = SqlAuthorization.create(pool, new SqlAuthorizationOptions()
      .setRolesQuery("SELECT role FROM user_roles WHERE user_id = $1::text::uuid")
      .setPermissionsQuery("SELECT permission FROM role_permissions WHERE role = $1"));
    return Future.all(
      bus.serve(Addresses.USERS_GET, msg -> get(users, msg.body())),
      bus.serve(Addresses.SESSIONS_CHECK, msg -> check(users, msg.body())),
      bus.serve(Addresses.ADMIN_CHECK, msg -> admin(users, authorization, msg.body())));
  }

  /**
   * An admin is a service key (an admin role claim, no user, no session) or a user, with a living session, whose
   * current database role is an admin role or who holds the {@code admin} role in {@code user_roles}.
   */
  private Future<JsonObject> admin(UserRepository users, SqlAuthorization authorization, JsonObject body) {
    String subject = Inputs.optionalString(body, "user_id");
    if (subject == null) {
      return check(users, body).map(key -> new JsonObject());
    }
    return check(users, body).compose(user -> {
      if (config.adminRoles().contains(user.getString("role"))) {
        return Future.succeededFuture(new JsonObject().put("actor_id", subject));
      }
      User principal = User.fromName(subject);
      return authorization.getAuthorizations(principal).compose(loaded ->
        RoleBasedAuthorization.create("admin").match(principal)
          ? Future.succeededFuture(new JsonObject().put("actor_id", subject))
          : Future.failedFuture(new AuthException(ErrorCode.NOT_ADMIN, "User not allowed")));
    });
  }

  private static Future<JsonObject> get(UserRepository users, JsonObject body) {
    String id = Inputs.optionalString(body, "id");
    String email = Inputs.optionalString(body, "email");
    Future<Row> row;
    if (id != null) {
      row = users.findById(parseUuid(id, "id"));
    } else if (email != null) {
      row = users.findByEmail(Inputs.email(email));
    } else {
      return Future.failedFuture(AuthException.validation("id or email is required"));
    }
    return row.compose(user -> user == null
      ? Future.failedFuture(AuthException.withStatus(ErrorCode.USER_NOT_FOUND, 404, "User not found"))
      : Future.succeededFuture(UserJson.fromRow(user)));
  }

  /**
   * {@code {user_id, session_id?, role?}} → the user when the user exists, is not banned and, for a token that
   * names a session, that session has not ended. A service key (admin role, no subject) has nothing to check.
   */
  private Future<JsonObject> check(UserRepository users, JsonObject body) {
    String subject = Inputs.optionalString(body, "user_id");
    String sessionId = Inputs.optionalString(body, "session_id");
    if (subject == null) {
      String role = Inputs.optionalString(body, "role");
      return config.adminRoles().contains(role) && sessionId == null
        ? Future.succeededFuture(new JsonObject().put("role", role))
        : Future.failedFuture(new AuthException(ErrorCode.NOT_ADMIN, "User not allowed"));
    }
    UUID userId = uuidOrNull(subject);
    UUID session = sessionId == null ? null : uuidOrNull(sessionId);
    if (userId == null || (sessionId != null && session == null)) {
      return Future.failedFuture(new AuthException(ErrorCode.BAD_JWT, "invalid claim: sub or session_id is not a UUID"));
    }
    return users.findWithSession(userId, session, OffsetDateTime.now(clock)).compose(row -> {
      if (row == null) {
        return Future.failedFuture(new AuthException(ErrorCode.USER_NOT_FOUND, "User from sub claim in JWT does not exist"));
      }
      if (session == null || !row.getBoolean("session_alive")) {
        return Future.failedFuture(new AuthException(ErrorCode.SESSION_NOT_FOUND, "Session from session_id claim in JWT does not exist"));
      }
      OffsetDateTime bannedUntil = row.getOffsetDateTime("banned_until");
      if (bannedUntil != null && bannedUntil.isAfter(OffsetDateTime.now(clock))) {
        return Future.failedFuture(AuthException.withStatus(ErrorCode.USER_BANNED, 403, "User is banned"));
      }
      return Future.succeededFuture(UserJson.fromRow(row));
    });
  }

  private static UUID parseUuid(String value, String field) {
    UUID id = uuidOrNull(value);
    if (id == null) {
      throw AuthException.validation("Field '" + field + "' must be a UUID");
    }
    return id;
  }

  private static UUID uuidOrNull(String value) {
    try {
      return UUID.fromString(value);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

}
