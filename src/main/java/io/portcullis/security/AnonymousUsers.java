package io.portcullis.security;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.portcullis.hooks.Hooks;
import io.portcullis.mfa.Fields;
import io.portcullis.user.UserJson;
import io.portcullis.user.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * Anonymous users (supabase-js {@code signInAnonymously()}): a user without email, phone or password, whose
 * tokens say {@code is_anonymous: true} and whose {@code amr} method is {@code anonymous}; they become permanent by
 * adding an email. Admins list and delete the stale ones.
 */
public final class AnonymousUsers {

  private final Pool pool;
  private final Clock clock;
  private final Config.Signup signup;
  private final String aud;
  private final AuthBus bus;
  private final Events events;
  private final Hooks hooks;

  public AnonymousUsers(Pool pool, Clock clock, Config config, AuthBus bus, Events events, Hooks hooks) {
    this.pool = pool;
    this.clock = clock;
    this.signup = config.signup();
    this.aud = config.jwt().aud();
    this.bus = bus;
    this.events = events;
    this.hooks = hooks;
  }

  /** {@code {data?}} → a session of a new anonymous user. */
  public Future<JsonObject> signUp(JsonObject body, String ip, String userAgent) {
    if (signup.disabled()) {
      return Future.failedFuture(new AuthException(ErrorCode.SIGNUP_DISABLED, "Signups not allowed for this instance"));
    }
    if (!signup.anonymousEnabled()) {
      return Future.failedFuture(new AuthException(ErrorCode.ANONYMOUS_PROVIDER_DISABLED,
        "Anonymous sign-ins are disabled"));
    }
    Object data = body.getValue("data");
    if (data != null && !(data instanceof JsonObject)) {
      return Future.failedFuture(AuthException.validation("Field 'data' must be an object"));
    }
    UUID id = UUID.randomUUID();
    JsonObject metadata = data == null ? new JsonObject() : (JsonObject) data;
    OffsetDateTime now = now();
    return hooks.beforeUserCreated(Hooks.newUser(id, aud, null, null, null, metadata, null, now))
      .compose(allowed -> new UserRepository(pool).insertAnonymous(id, metadata, now))
      .compose(user -> events.emit(Events.SIGNED_UP, id, null, ip, userAgent))
      .compose(done -> bus.request(Addresses.SESSIONS_ISSUE,
        new JsonObject().put("user_id", id.toString()).put("amr_method", "anonymous"), ip, userAgent));
  }

  /** {@code {inactive_days, limit}} → {@code {users}}: anonymous users inactive that long, oldest first. */
  public Future<JsonObject> listStale(JsonObject body) {
    OffsetDateTime cutoff = cutoff(body);
    int limit = body.getInteger("limit", 100);
    return new UserRepository(pool).staleAnonymous(cutoff, limit).map(rows -> {
      JsonArray users = new JsonArray();
      rows.forEach(row -> users.add(UserJson.fromRow(row)));
      return new JsonObject().put("users", users);
    });
  }

  /** {@code {inactive_days, actor_id?}} → {@code {deleted}}: deletes them (their sessions end), one event each. */
  public Future<JsonObject> deleteStale(JsonObject body, String ip, String userAgent) {
    UUID actor = Fields.uuid(body, "actor_id");
    return new UserRepository(pool).deleteStaleAnonymous(cutoff(body)).compose(ids -> {
      Future<Void> recorded = Future.succeededFuture();
      for (UUID id : ids) {
        recorded = recorded.compose(done -> events.emit(Events.DELETED, id, null, ip, userAgent, actor));
      }
      return recorded.map(done -> new JsonObject().put("deleted", ids.size()));
    });
  }

  private OffsetDateTime cutoff(JsonObject body) {
    return now().minusDays(body.getInteger("inactive_days", 30));
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
