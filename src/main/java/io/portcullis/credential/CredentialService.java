package io.portcullis.credential;

import io.portcullis.user.Bans;
import io.portcullis.db.Rows;
import io.portcullis.input.Inputs;
import io.portcullis.account.AccountMails;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.Futures;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.portcullis.flow.Pkce;
import io.portcullis.hooks.Hooks;
import io.portcullis.metrics.AuthMetrics;
import io.portcullis.user.UserJson;
import io.portcullis.user.UserRepository;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Everything that touches a password: sign-up, the password grant, password changes. Runs in a WORKER verticle,
 * so the hashing in its continuations runs on worker threads, never on an event loop.
 */
public final class CredentialService {

  private static final String PASSWORD = "password";

  private final Config config;
  private final Clock clock;
  private final AuthMetrics metrics;
  private final PasswordHasher hasher;
  private final Pool pool;
  private final UserRepository users;
  private final AccountMails mails;
  private final AuthBus bus;
  private final Events events;
  private final Lockout lockout;
  private final PasswordPolicy policy;
  private volatile Hooks hooks;

  public CredentialService(Config config, Clock clock, AuthMetrics metrics, PasswordHasher hasher, Pool pool,
                           AccountMails mails, AuthBus bus, Events events) {
    this.config = config;
    this.clock = clock;
    this.metrics = metrics;
    this.hasher = hasher;
    this.pool = pool;
    this.users = new UserRepository(pool);
    this.mails = mails;
    this.bus = bus;
    this.events = events;
    this.lockout = new Lockout(config.lockout(), metrics);
    this.policy = new PasswordPolicy(config.password());
  }

  /** {@code {email, password, data?}} → a session (autoconfirm) or the new user. */
  public Future<JsonObject> signup(JsonObject body, String ip, String userAgent) {
    return Futures.attempt(() -> {
      if (config.signup().disabled()) {
        return Future.failedFuture(new AuthException(ErrorCode.SIGNUP_DISABLED, "Signups not allowed for this instance"));
      }
      String rawEmail = Inputs.optionalString(body, "email");
      String password = Inputs.optionalString(body, PASSWORD);
      JsonObject data = Inputs.optionalObject(body, "data");
      if (rawEmail == null && password == null && body.getValue("phone") == null) {
        // An anonymous sign-in, as over HTTP (the bus address too): the account-security verticle answers it.
        return bus.request(Addresses.SECURITY, new JsonObject().put("op", "anonymous_signup")
          .put("data", body.getValue("data")), ip, userAgent);
      }
      if (rawEmail == null || rawEmail.isBlank()) {
        return Future.failedFuture(AuthException.validation("Signup requires a valid email"));
      }
      if (password == null || password.isEmpty()) {
        return Future.failedFuture(AuthException.validation("Signup requires a valid password"));
      }
      String email = Inputs.email(rawEmail);
      policy.check(password);
      String redirectTo = Inputs.optionalString(body, "redirect_to");
      Pkce.Challenge pkce = Pkce.parse(body);
      JsonObject metadata = data == null ? new JsonObject() : data;
      boolean autoconfirm = config.signup().autoconfirm();
      OffsetDateTime now = Rows.now(clock);
      UUID id = UUID.randomUUID();
      Hooks hooked = hooks;
      if (hooked != null && config.hooks().beforeUserCreated().enabled()) {
        // Asked before the hash is paid for; the user as it would be created.
        JsonObject candidate = new JsonObject().put("id", id.toString()).put("aud", config.jwt().aud())
          .put("role", "authenticated").put("email", email).put("phone", "").put("user_metadata", metadata)
          .put("app_metadata", new JsonObject().put("provider", "email")
            .put("providers", new io.vertx.core.json.JsonArray().add("email")))
          .put("is_anonymous", false).put("created_at", now.toString());
        return hooked.beforeUserCreated(candidate).compose(allowed -> create(id, email, password, metadata,
          autoconfirm, redirectTo, pkce, now, ip, userAgent));
      }
      return create(id, email, password, metadata, autoconfirm, redirectTo, pkce, now, ip, userAgent);
    });
  }

  /** Asks the before-user-created hook (when it is on) before every sign-up. */
  public void useHooks(Hooks hooks) {
    this.hooks = hooks;
  }

  private Future<JsonObject> create(UUID id, String email, String password, JsonObject metadata, boolean autoconfirm,
                                    String redirectTo, Pkce.Challenge pkce, OffsetDateTime now, String ip,
                                    String userAgent) {
    return Futures.attempt(() -> {
      String hash = blocking(() -> hasher.hash(password));
      if (autoconfirm) {
        return users.insert(id, email, hash, now, metadata, now)
          .compose(user -> events.emit(Events.SIGNED_UP, id, null, ip, userAgent))
          .compose(done -> issue(id, ip, userAgent));
      }
      return pool.withTransaction(conn -> new UserRepository(conn).insert(id, email, hash, null, metadata, now)
          .compose(user -> mails.confirmation(conn, id, email, redirectTo, pkce, now))
          .compose(done -> new UserRepository(conn).findById(id)))
        .compose(user -> events.emit(Events.SIGNED_UP, id, null, ip, userAgent).map(done -> {
          mails.kick();
          return UserJson.fromRow(user);
        }))
        .recover(e -> e instanceof AuthException auth && auth.code() == ErrorCode.USER_ALREADY_EXISTS
          ? repeatedSignup(email, metadata, redirectTo, pkce, now)
          : Future.failedFuture(e));
    });
  }

  /**
   * A sign-up for a taken address while confirmation is on answers like a fresh sign-up, so it tells nothing; an
   * account still awaiting confirmation gets its confirmation mail again (within the send interval).
   */
  private Future<JsonObject> repeatedSignup(String email, JsonObject metadata, String redirectTo, Pkce.Challenge pkce,
                                            OffsetDateTime now) {
    Future<Void> resent = pool.withTransaction(conn -> new UserRepository(conn).findByEmail(email)
      .compose(user -> user == null || user.getOffsetDateTime("email_confirmed_at") != null
        ? Future.<Void>succeededFuture()
        : mails.claimSendSlot(conn, email, now)
          .compose(slot -> mails.confirmation(conn, user.getUUID("id"), email, redirectTo, pkce, now))))
      .onSuccess(done -> mails.kick())
      .otherwiseEmpty();
    return resent.map(done -> UserJson.unconfirmedLookalike(email, metadata, now));
  }

  /** {@code {email, password}} → a session; one message for unknown email and wrong password. */
  public Future<JsonObject> passwordGrant(JsonObject body, String ip, String userAgent) {
    return signIn(body, ip, userAgent).andThen(result -> metrics.signIn(AuthMetrics.outcome(result)));
  }

  private Future<JsonObject> signIn(JsonObject body, String ip, String userAgent) {
    return Futures.attempt(() -> {
      String rawEmail = Inputs.optionalString(body, "email");
      String password = Inputs.optionalString(body, PASSWORD);
      if (rawEmail == null || rawEmail.isBlank() || password == null || password.isEmpty()) {
        return Future.failedFuture(AuthException.validation("email and password are required"));
      }
      String email = rawEmail.trim().toLowerCase(java.util.Locale.ROOT);
      // No stored email holds a NUL, and PostgreSQL text refuses one (SQLSTATE 22021): such a user is unknown.
      Future<Row> found = email.indexOf('\0') >= 0 ? Future.succeededFuture(null) : users.findByEmail(email);
      OffsetDateTime now = Rows.now(clock);
      // Known and unknown emails cost the same: one query, one lockout reservation (a write that matches nothing
      // for an unknown email), one argon2id verification.
      return found
        .compose(user -> lockout.reserve(pool, user == null ? null : user.getUUID("id"), now)
          .compose(reservation -> {
            // A locked account costs the same hash and answers the same, right password or not.
            String stored = user == null || !reservation.admitted() ? null : user.getString("encrypted_password");
            PasswordHasher.Verification result = blocking(() -> hasher.verify(password, stored));
            if (!result.matches()) {
              lockout.failed(reservation);
              return Future.failedFuture(new AuthException(ErrorCode.INVALID_CREDENTIALS, "Invalid login credentials"));
            }
            UUID id = user.getUUID("id");
            return lockout.clear(pool, id).compose(released -> user.getOffsetDateTime("email_confirmed_at") == null
              ? Future.failedFuture(new AuthException(ErrorCode.EMAIL_NOT_CONFIRMED, "Email not confirmed"))
              : Bans.refuseGrant(user, Rows.now(clock))
                .compose(allowed -> result.rehash()
                  ? users.setHash(id, blocking(() -> hasher.hash(password)))
                  : Future.<Void>succeededFuture())
                .compose(done -> issue(id, ip, userAgent)));
          }));
    });
  }

  /**
   * {@code {user_id, session_id, email?, password?, data?}} → the updated user. A new password must differ from
   * the old one and ends every other session of the user.
   */
  public Future<JsonObject> update(JsonObject body, String ip, String userAgent) {
    return Futures.attempt(() -> {
      ProfileChange change = ProfileChange.of(body);
      if (change.password() != null) {
        policy.check(change.password());
      }
      return users.findById(change.userId())
        .compose(current -> current == null
          ? Future.<Row>failedFuture(new AuthException(ErrorCode.USER_NOT_FOUND, "User not found"))
          : apply(change, current, ip, userAgent))
        .compose(updated -> updated == null
          ? Future.failedFuture(new AuthException(ErrorCode.USER_NOT_FOUND, "User not found"))
          : events.emit(Events.UPDATED, change.userId(), change.sessionId(), ip, userAgent)
            .map(done -> UserJson.fromRow(updated)));
    });
  }

  /** What a user asked to change of their profile; {@code remove}: the metadata keys set to null. */
  private record ProfileChange(UUID userId, UUID sessionId, String email, String password, JsonObject merge,
                               String[] remove, String redirectTo, Pkce.Challenge pkce) {

    /** Reads the fields in the order they were always checked, so that the first problem is the one named. */
    static ProfileChange of(JsonObject body) {
      UUID userId = Inputs.requiredUuid(body, "user_id");
      UUID sessionId = Inputs.requiredUuid(body, "session_id");
      String rawEmail = Inputs.optionalString(body, "email");
      String password = Inputs.optionalString(body, PASSWORD);
      JsonObject data = Inputs.optionalObject(body, "data");
      String redirectTo = Inputs.optionalString(body, "redirect_to");
      Pkce.Challenge pkce = Pkce.parse(body);
      String email = rawEmail == null ? null : Inputs.email(rawEmail);
      JsonObject merge = new JsonObject();
      List<String> remove = new ArrayList<>();
      if (data != null) {
        data.forEach(entry -> {
          if (entry.getValue() == null) {
            remove.add(entry.getKey());
          } else {
            merge.put(entry.getKey(), entry.getValue());
          }
        });
      }
      return new ProfileChange(userId, sessionId, email, password, merge, remove.toArray(new String[0]), redirectTo,
        pkce);
    }
  }

  /**
   * Applies a change to the {@code current} row: a new password must differ from the old one and ends the user's
   * other sessions; without autoconfirm a new address is confirmed by mail first (both addresses when the change
   * is secure). Answers the updated row, or null when the user went away meanwhile.
   */
  private Future<Row> apply(ProfileChange change, Row current, String ip, String userAgent) {
    String password = change.password();
    String hash = null;
    if (password != null) {
      String stored = current.getString("encrypted_password");
      if (stored != null && blocking(() -> hasher.verify(password, stored)).matches()) {
        return Future.failedFuture(new AuthException(ErrorCode.SAME_PASSWORD,
          "New password should be different from the old password."));
      }
      hash = blocking(() -> hasher.hash(password));
    }
    UUID userId = change.userId();
    String newEmail = change.email() != null && !change.email().equals(current.getString("email"))
      ? change.email() : null;
    boolean byMail = newEmail != null && !config.signup().autoconfirm();
    String hashed = hash;
    OffsetDateTime now = Rows.now(clock);
    Future<Void> free = byMail
      ? mails.checkSentAt(current.getOffsetDateTime("email_change_sent_at"), now)
        .compose(ok -> users.findByEmail(newEmail)).compose(other -> other == null
          ? Future.<Void>succeededFuture()
          : Future.failedFuture(new AuthException(ErrorCode.EMAIL_EXISTS,
            "A user with this email address has already been registered")))
      : Future.succeededFuture();
    return free.compose(ok -> pool.withTransaction(conn -> {
        UserRepository tx = new UserRepository(conn);
        Future<Row> updated = tx.update(userId, byMail ? null : newEmail, hashed, change.merge(), change.remove(), now);
        return !byMail ? updated : updated
          .compose(row -> mails.requestEmailChange(conn, userId, current.getString("email"), newEmail,
            change.redirectTo(), change.pkce(), now))
          .compose(done -> tx.findById(userId));
      }))
      .onSuccess(row -> {
        if (byMail) {
          mails.kick();
        }
      })
      .compose(updated -> password == null || updated == null
        ? Future.succeededFuture(updated)
        : bus.request(Addresses.SESSIONS_END, new JsonObject()
            .put("user_id", userId.toString())
            .put("except_session_id", change.sessionId().toString()), ip, userAgent)
          .map(ended -> updated));
  }

  /** {@code {password}} → {@code {hash}} for the admin API; the caller has applied the password policy. */
  public Future<JsonObject> hash(JsonObject body) {
    return Futures.attempt(() -> {
      String password = Inputs.requiredString(body, PASSWORD);
      policy.check(password);
      return Future.succeededFuture(new JsonObject().put("hash", blocking(() -> hasher.hash(password))));
    });
  }

  private Future<JsonObject> issue(UUID userId, String ip, String userAgent) {
    return bus.request(Addresses.SESSIONS_ISSUE,
      new JsonObject().put("user_id", userId.toString()).put("amr_method", PASSWORD), ip, userAgent);
  }

  /** Hashing must never run on an event loop; this class is only deployed as a WORKER. */
  private static <T> T blocking(java.util.function.Supplier<T> work) {
    if (Context.isOnEventLoopThread()) {
      throw new IllegalStateException("password hashing attempted on an event loop");
    }
    return work.get();
  }
}
