package io.portcullis.user;

import io.portcullis.db.DatabaseVerticle;
import io.portcullis.db.Rows;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.input.Inputs;
import io.portcullis.error.AuthException;
import io.portcullis.error.Futures;
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
      .setRolesQuery(UserRepository.ROLES_QUERY)
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
    return Futures.attempt(() -> {
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
    });
  }

  private static Future<JsonObject> get(UserRepository users, JsonObject body) {
    return Futures.attempt(() -> {
      UUID id = Inputs.optionalUuid(body, "id");
      String email = Inputs.optionalString(body, "email");
      Future<Row> row;
      if (id != null) {
        row = users.findById(id);
      } else if (email != null) {
        row = users.findByEmail(Inputs.email(email));
      } else {
        return Future.failedFuture(AuthException.validation("id or email is required"));
      }
      return row.compose(user -> user == null
        ? Future.failedFuture(AuthException.withStatus(ErrorCode.USER_NOT_FOUND, 404, "User not found"))
        : Future.succeededFuture(UserJson.fromRow(user)));
    });
  }

  /**
   * {@code {user_id, session_id?, role?}} → the user when the user exists, is not banned and, for a token that
   * names a session, that session has not ended. A service key (admin role, no subject) has nothing to check.
   */
  private Future<JsonObject> check(UserRepository users, JsonObject body) {
    return Futures.attempt(() -> {
      String subject = Inputs.optionalString(body, "user_id");
      String sessionId = Inputs.optionalString(body, "session_id");
      if (subject == null) {
        String role = Inputs.optionalString(body, "role");
        return config.adminRoles().contains(role) && sessionId == null
          ? Future.succeededFuture(new JsonObject().put("role", role))
          : Future.failedFuture(new AuthException(ErrorCode.NOT_ADMIN, "User not allowed"));
      }
      UUID userId = Inputs.uuidOrNull(subject);
      UUID session = sessionId == null ? null : Inputs.uuidOrNull(sessionId);
      if (userId == null || (sessionId != null && session == null)) {
        return Future.failedFuture(new AuthException(ErrorCode.BAD_JWT, "invalid claim: sub or session_id is not a UUID"));
      }
      return users.findWithSession(userId, session, Rows.now(clock)).compose(row -> {
        if (row == null) {
          return Future.failedFuture(new AuthException(ErrorCode.USER_NOT_FOUND, "User from sub claim in JWT does not exist"));
        }
        if (session == null || !row.getBoolean("session_alive")) {
          return Future.failedFuture(new AuthException(ErrorCode.SESSION_NOT_FOUND, "Session from session_id claim in JWT does not exist"));
        }
        return Bans.refuseBearer(row, Rows.now(clock)).map(UserJson::fromRow);
      });
    });
  }
}
