package io.portcullis.admin;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.db.Rows;
import io.portcullis.input.Inputs;
import io.portcullis.credential.Lockout;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.Futures;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.portcullis.session.SessionRepository;
import io.portcullis.user.UserJson;
import io.portcullis.user.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * User administration as GoTrue's admin API answers it (so {@code supabase.auth.admin.*} works): list, create,
 * read, update (ban included), delete, and the audit log. Passwords are hashed by the credential workers.
 */
public final class AdminService {

  private static final String AUDIT = "SELECT id, type, user_id, session_id, actor_id, ip, user_agent, created_at "
    + "FROM audit_log ORDER BY id DESC LIMIT $1 OFFSET $2";
  private static final String AUDIT_COUNT = "SELECT count(*) FROM audit_log";

  private final Config config;
  private final Clock clock;
  private final Pool pool;
  private final AuthBus bus;
  private final Events events;

  public AdminService(Config config, Clock clock, Pool pool, AuthBus bus, Events events) {
    this.config = config;
    this.clock = clock;
    this.pool = pool;
    this.bus = bus;
    this.events = events;
  }

  /** {@code {page, per_page}} → {@code {users, aud, total}}. */
  public Future<JsonObject> list(int page, int perPage) {
    UserRepository users = new UserRepository(pool);
    return users.count().compose(total -> users.list(perPage, (long) (page - 1) * perPage)
      .map(rows -> {
        JsonArray found = new JsonArray();
        rows.forEach(row -> found.add(UserJson.fromRow(row)));
        return new JsonObject().put("users", found).put("aud", config.jwt().aud()).put("total", total);
      }));
  }

  public Future<JsonObject> audit(int page, int perPage) {
    return pool.preparedQuery(AUDIT_COUNT).execute().compose(count -> pool.preparedQuery(AUDIT)
      .execute(Tuple.of(perPage, (long) (page - 1) * perPage))
      .map(rows -> {
        JsonArray entries = new JsonArray();
        for (Row row : rows) {
          entries.add(new JsonObject()
            .put("id", row.getLong("id"))
            .put("type", row.getString("type"))
            .put("user_id", string(row.getUUID("user_id")))
            .put("session_id", string(row.getUUID("session_id")))
            .put("actor_id", string(row.getUUID("actor_id")))
            .put("ip", row.getString("ip"))
            .put("user_agent", row.getString("user_agent"))
            .put("created_at", UserJson.time(row.getOffsetDateTime("created_at"))));
        }
        return new JsonObject().put("entries", entries).put("total", count.iterator().next().getLong(0));
      }));
  }

  public Future<JsonObject> get(UUID id) {
    return new UserRepository(pool).findById(id).compose(AdminService::found);
  }

  /** GoTrue's admin create: {@code {email, password?, email_confirm?, user_metadata?, app_metadata?, role?, ban_duration?}}. */
  public Future<JsonObject> create(JsonObject body, UUID actor) {
    return Futures.attempt(() -> {
      String email = Inputs.email(Inputs.requiredString(body, "email"));
      String password = Inputs.optionalString(body, "password");
      // The password policy is applied by the credential workers that hash it.
      boolean confirm = bool(body, "email_confirm");
      String role = role(body);
      JsonObject userMetadata = withoutNulls(Inputs.optionalObject(body, "user_metadata"));
      JsonObject appMetadata = Inputs.optionalObject(body, "app_metadata");
      List<String> roles = roles(appMetadata);
      OffsetDateTime now = Rows.now(clock);
      OffsetDateTime bannedUntil = banUntil(Inputs.optionalString(body, "ban_duration"), now);
      UUID id = UUID.randomUUID();
      return hash(password).compose(hash -> pool.withTransaction(conn -> {
          UserRepository users = new UserRepository(conn);
          return users.insert(id, email, hash, confirm ? now : null, role == null ? "authenticated" : role,
              userMetadata, merged(storedAppMetadata(appMetadata)), bannedUntil, now)
            .compose(done -> roles == null ? Future.succeededFuture() : users.setRoles(id, roles))
            .compose(done -> users.findById(id));
        }))
        .compose(user -> events.emit(Events.SIGNED_UP, id, null, null, null, actor).map(done -> UserJson.fromRow(user)));
    });
  }

  /** GoTrue's admin update; {@code ban_duration} {@code "none"} lifts a ban, a duration sets one and ends sessions. */
  public Future<JsonObject> update(UUID id, JsonObject body, UUID actor) {
    return Futures.attempt(() -> {
      String rawEmail = Inputs.optionalString(body, "email");
      String email = rawEmail == null ? null : Inputs.email(rawEmail);
      String password = Inputs.optionalString(body, "password");
      // The password policy is applied by the credential workers that hash it.
      boolean confirm = bool(body, "email_confirm");
      String role = role(body);
      JsonObject userMetadata = Inputs.optionalObject(body, "user_metadata");
      JsonObject appMetadata = Inputs.optionalObject(body, "app_metadata");
      List<String> roles = roles(appMetadata);
      String banDuration = Inputs.optionalString(body, "ban_duration");
      OffsetDateTime now = Rows.now(clock);
      boolean banChange = banDuration != null;
      OffsetDateTime bannedUntil = banChange ? banUntil(banDuration, now) : null;
      boolean banned = bannedUntil != null;
      return hash(password).compose(hash -> pool.withTransaction(conn -> {
          UserRepository users = new UserRepository(conn);
          UserRepository.AdminChange change = new UserRepository.AdminChange(email, hash, confirm, role,
            merged(userMetadata), removed(userMetadata), merged(storedAppMetadata(appMetadata)),
            removed(storedAppMetadata(appMetadata)), banChange, bannedUntil);
          return users.update(id, change, now)
            .compose(found -> !found
              ? Future.failedFuture(notFound())
              : roles == null ? Future.succeededFuture() : users.setRoles(id, roles))
            .compose(done -> users.findById(id));
        }))
        .compose(user -> (banned
          ? bus.request(Addresses.SESSIONS_END, new JsonObject().put("user_id", id.toString()))
            .compose(ended -> events.emit(Events.BANNED, id, null, null, null, actor))
          : events.emit(Events.UPDATED, id, null, null, null, actor))
          .map(done -> UserJson.fromRow(user)));
    });
  }

  /** Hard delete, or with {@code should_soft_delete} a soft one that keeps the row without its identity. */
  public Future<JsonObject> delete(UUID id, boolean soft, UUID actor) {
    OffsetDateTime now = Rows.now(clock);
    return new UserRepository(pool).findById(id).compose(AdminService::found).compose(user -> {
      Future<?> removed = soft
        ? pool.withTransaction(conn -> new UserRepository(conn).softDelete(id, now)
          .compose(done -> SessionRepository.endAll(conn, id)))
        : new UserRepository(pool).delete(id);
      return removed
        .compose(done -> events.emit(Events.DELETED, id, null, null, null, actor))
        .map(done -> user);
    });
  }

  /** Clears a brute-force lockout of the user; answers the user. */
  public Future<JsonObject> unlock(UUID id) {
    return get(id).compose(user -> Lockout.unlock(pool, id).map(done -> user));
  }

  private Future<String> hash(String password) {
    return password == null
      ? Future.succeededFuture(null)
      : bus.request(Addresses.PASSWORD_HASH, new JsonObject().put("password", password)).map(r -> r.getString("hash"));
  }

  /** {@code app_metadata.roles}, when given, sets the user's roles in {@code user_roles}. */
  private static List<String> roles(JsonObject appMetadata) {
    if (appMetadata == null || !appMetadata.containsKey("roles")) {
      return null;
    }
    Object value = appMetadata.getValue("roles");
    List<String> roles = new ArrayList<>();
    if (value != null) {
      if (!(value instanceof JsonArray array)) {
        throw AuthException.validation("app_metadata.roles must be a list of role names");
      }
      for (Object role : array) {
        if (!(role instanceof String name) || !Inputs.isRoleName(name)) {
          throw AuthException.validation("app_metadata.roles must be a list of role names");
        }
        roles.add(name);
      }
    }
    return roles;
  }

  /** What of app_metadata is stored as JSON: not the provider fields nor the roles, which are derived. */
  private static JsonObject storedAppMetadata(JsonObject appMetadata) {
    if (appMetadata == null) {
      return null;
    }
    JsonObject copy = appMetadata.copy();
    copy.remove("roles");
    copy.remove("provider");
    copy.remove("providers");
    return copy;
  }

  private static JsonObject merged(JsonObject patch) {
    JsonObject out = new JsonObject();
    if (patch != null) {
      patch.forEach(e -> {
        if (e.getValue() != null) {
          out.put(e.getKey(), e.getValue());
        }
      });
    }
    return out;
  }

  private static String[] removed(JsonObject patch) {
    List<String> out = new ArrayList<>();
    if (patch != null) {
      patch.forEach(e -> {
        if (e.getValue() == null) {
          out.add(e.getKey());
        }
      });
    }
    return out.toArray(new String[0]);
  }

  private static JsonObject withoutNulls(JsonObject metadata) {
    return metadata == null ? new JsonObject() : merged(metadata);
  }

  private static String role(JsonObject body) {
    String role = Inputs.optionalString(body, "role");
    if (role != null && !Inputs.isRoleName(role)) {
      throw AuthException.validation("role must be lower-case letters, digits and underscores");
    }
    return role;
  }

  private static boolean bool(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value != null && !(value instanceof Boolean)) {
      throw AuthException.validation("Field '" + field + "' must be a boolean");
    }
    return Boolean.TRUE.equals(value);
  }

  private static OffsetDateTime banUntil(String duration, OffsetDateTime now) {
    if (duration == null || duration.equals("none")) {
      return null;
    }
    return now.plus(Durations.parse(duration));
  }

  private static Future<JsonObject> found(Row user) {
    return user == null ? Future.failedFuture(notFound()) : Future.succeededFuture(UserJson.fromRow(user));
  }

  private static AuthException notFound() {
    return AuthException.withStatus(ErrorCode.USER_NOT_FOUND, 404, "User not found");
  }

  private static String string(UUID id) {
    return id == null ? null : id.toString();
  }
}
