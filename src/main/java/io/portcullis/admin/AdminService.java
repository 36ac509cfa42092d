package io.portcullis.admin;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.input.Inputs;
import io.portcullis.credential.Lockout;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.portcullis.user.UserJson;
import io.portcullis.user.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * User administration as GoTrue's admin API answers it (so {@code supabase.auth.admin.*} works): list, create,
 * read, update (ban included), delete, and the audit log. Passwords are hashed by the credential workers.
 */
public final class AdminService {

  private static final Pattern ROLE = Pattern.compile("[a-z][a-z0-9_]{0,62}");
  private static final String LIST = "SELECT " + UserJson.COLUMNS + " FROM users u WHERE u.deleted_at IS NULL "
    + "ORDER BY u.created_at DESC, u.id LIMIT $1 OFFSET $2";
  private static final String COUNT = "SELECT count(*) FROM users WHERE deleted_at IS NULL";
  private static final String INSERT = "INSERT INTO users (id, email, encrypted_password, email_confirmed_at, role, "
    + "user_metadata, app_metadata, banned_until, created_at, updated_at) "
    + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";
  private static final String UPDATE = "UPDATE users AS u SET "
    + "email = COALESCE($2, u.email), "
    + "encrypted_password = COALESCE($3, u.encrypted_password), "
    + "email_confirmed_at = CASE WHEN $4 THEN COALESCE(u.email_confirmed_at, $9) ELSE u.email_confirmed_at END, "
    + "role = COALESCE($5, u.role), "
    + "user_metadata = (u.user_metadata || $6::jsonb) - $7::text[], "
    + "app_metadata = (u.app_metadata || $8::jsonb) - $10::text[], "
    + "banned_until = CASE WHEN $11 THEN $12 ELSE u.banned_until END, "
    + "updated_at = $9 "
    + "WHERE u.id = $1 AND u.deleted_at IS NULL";
  private static final String DELETE_ROLES = "DELETE FROM user_roles WHERE user_id = $1";
  private static final String INSERT_ROLE = "INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING";
  private static final String HARD_DELETE = "DELETE FROM users WHERE id = $1";
  private static final String SOFT_DELETE = "UPDATE users SET deleted_at = $2, email = NULL, phone = NULL, "
    + "encrypted_password = NULL, new_email = NULL, updated_at = $2 WHERE id = $1";
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
    return pool.preparedQuery(COUNT).execute().compose(count -> pool.preparedQuery(LIST)
      .execute(Tuple.of(perPage, (long) (page - 1) * perPage))
      .map(rows -> {
        JsonArray users = new JsonArray();
        rows.forEach(row -> users.add(UserJson.fromRow(row)));
        return new JsonObject().put("users", users).put("aud", config.jwt().aud())
          .put("total", count.iterator().next().getLong(0));
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
    String email = Inputs.email(Inputs.requiredString(body, "email"));
    String password = Inputs.optionalString(body, "password");
    // The password policy is applied by the credential workers that hash it.
    boolean confirm = bool(body, "email_confirm");
    String role = role(body);
    JsonObject userMetadata = withoutNulls(Inputs.optionalObject(body, "user_metadata"));
    JsonObject appMetadata = Inputs.optionalObject(body, "app_metadata");
    List<String> roles = roles(appMetadata);
    OffsetDateTime now = now();
    OffsetDateTime bannedUntil = banUntil(Inputs.optionalString(body, "ban_duration"), now);
    UUID id = UUID.randomUUID();
    return hash(password).compose(hash -> pool.withTransaction(conn -> conn.preparedQuery(INSERT)
        .execute(Tuple.from(Arrays.asList(id, email, nullable(hash), nullable(confirm ? now : null),
          role == null ? "authenticated" : role, userMetadata, merged(storedAppMetadata(appMetadata)),
          nullable(bannedUntil), now)))
        .compose(done -> roles == null ? Future.succeededFuture() : setRoles(conn, id, roles))
        .compose(done -> new UserRepository(conn).findById(id))))
      .recover(AdminService::emailTaken)
      .compose(user -> events.emit(Events.SIGNED_UP, id, null, null, null, actor).map(done -> UserJson.fromRow(user)));
  }

  /** GoTrue's admin update; {@code ban_duration} {@code "none"} lifts a ban, a duration sets one and ends sessions. */
  public Future<JsonObject> update(UUID id, JsonObject body, UUID actor) {
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
    OffsetDateTime now = now();
    boolean banChange = banDuration != null;
    OffsetDateTime bannedUntil = banChange ? banUntil(banDuration, now) : null;
    boolean banned = bannedUntil != null;
    return hash(password).compose(hash -> pool.withTransaction(conn -> conn.preparedQuery(UPDATE)
        .execute(Tuple.from(Arrays.asList(id, nullable(email), nullable(hash), confirm, nullable(role),
          merged(userMetadata), removed(userMetadata), merged(storedAppMetadata(appMetadata)), now,
          removed(storedAppMetadata(appMetadata)), banChange, nullable(bannedUntil))))
        .compose(updated -> updated.rowCount() == 0
          ? Future.failedFuture(notFound())
          : roles == null ? Future.succeededFuture() : setRoles(conn, id, roles))
        .compose(done -> new UserRepository(conn).findById(id))))
      .recover(AdminService::emailTaken)
      .compose(user -> (banned
        ? bus.request(Addresses.SESSIONS_END, new JsonObject().put("user_id", id.toString()))
          .compose(ended -> events.emit(Events.BANNED, id, null, null, null, actor))
        : events.emit(Events.UPDATED, id, null, null, null, actor))
        .map(done -> UserJson.fromRow(user)));
  }

  /** Hard delete, or with {@code should_soft_delete} a soft one that keeps the row without its identity. */
  public Future<JsonObject> delete(UUID id, boolean soft, UUID actor) {
    OffsetDateTime now = now();
    return new UserRepository(pool).findById(id).compose(AdminService::found).compose(user -> {
      Future<?> removed = soft
        ? pool.withTransaction(conn -> conn.preparedQuery(SOFT_DELETE).execute(Tuple.of(id, now))
          .compose(done -> conn.preparedQuery(DELETE_ROLES).execute(Tuple.of(id)))
          .compose(done -> conn.preparedQuery("DELETE FROM sessions WHERE user_id = $1").execute(Tuple.of(id))))
        : pool.preparedQuery(HARD_DELETE).execute(Tuple.of(id));
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

  private static Future<Void> setRoles(SqlClient conn, UUID id, List<String> roles) {
    Future<Void> chain = conn.preparedQuery(DELETE_ROLES).execute(Tuple.of(id)).mapEmpty();
    for (String role : roles) {
      chain = chain.compose(done -> conn.preparedQuery(INSERT_ROLE).execute(Tuple.of(id, role)).mapEmpty());
    }
    return chain;
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
        if (!(role instanceof String name) || !ROLE.matcher(name).matches()) {
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
    if (role != null && !ROLE.matcher(role).matches()) {
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

  private static <T> Future<T> emailTaken(Throwable e) {
    return Future.failedFuture(e instanceof PgException pg && "23505".equals(pg.getSqlState())
      ? new AuthException(ErrorCode.EMAIL_EXISTS, "A user with this email address has already been registered")
      : e);
  }

  /** Marks a parameter that may be null (the tuples are built with Arrays.asList, which allows it). */
  private static Object nullable(Object value) {
    return value;
  }

  private static String string(UUID id) {
    return id == null ? null : id.toString();
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
