package io.portcullis.credential;

import io.portcullis.AppContext;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.portcullis.user.UserJson;
import io.portcullis.user.UserRepository;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Everything that touches a password: sign-up, the password grant, password changes. Runs in a WORKER verticle,
 * so the hashing in its continuations runs on worker threads, never on an event loop.
 */
public final class CredentialService {

  private static final String PASSWORD = "password";

  private final AppContext app;
  private final PasswordHasher hasher;
  private final UserRepository users;
  private final AuthBus bus;
  private final Events events;

  public CredentialService(AppContext app, PasswordHasher hasher, UserRepository users, AuthBus bus, Events events) {
    this.app = app;
    this.hasher = hasher;
    this.users = users;
    this.bus = bus;
    this.events = events;
  }

  /** {@code {email, password, data?}} → a session (autoconfirm) or the new user. */
  public Future<JsonObject> signup(JsonObject body, String ip, String userAgent) {
    if (app.config().signup().disabled()) {
      return Future.failedFuture(new AuthException(ErrorCode.SIGNUP_DISABLED, "Signups not allowed for this instance"));
    }
    String rawEmail = Inputs.optionalString(body, "email");
    String password = Inputs.optionalString(body, PASSWORD);
    JsonObject data = Inputs.optionalObject(body, "data");
    if (rawEmail == null && password == null) {
      return Future.failedFuture(AuthException.validation("Anonymous sign-ins are disabled; email and password are required"));
    }
    if (rawEmail == null || rawEmail.isBlank()) {
      return Future.failedFuture(AuthException.validation("Signup requires a valid email"));
    }
    if (password == null || password.isEmpty()) {
      return Future.failedFuture(AuthException.validation("Signup requires a valid password"));
    }
    String email = Inputs.email(rawEmail);
    Inputs.newPassword(password, app.config().password().minLength());
    boolean autoconfirm = app.config().signup().autoconfirm();
    OffsetDateTime now = now();
    UUID id = UUID.randomUUID();
    String hash = blocking(() -> hasher.hash(password));
    return users.insert(id, email, hash, autoconfirm ? now : null, data == null ? new JsonObject() : data, now)
      .compose(user -> events.emit(Events.SIGNED_UP, id, null, ip, userAgent).map(done -> user))
      .compose(user -> autoconfirm
        ? issue(id, ip, userAgent)
        : Future.succeededFuture(UserJson.fromRow(user)));
  }

  /** {@code {email, password}} → a session; one message for unknown email and wrong password. */
  public Future<JsonObject> passwordGrant(JsonObject body, String ip, String userAgent) {
    String rawEmail = Inputs.optionalString(body, "email");
    String password = Inputs.optionalString(body, PASSWORD);
    if (rawEmail == null || rawEmail.isBlank() || password == null || password.isEmpty()) {
      return Future.failedFuture(AuthException.validation("email and password are required"));
    }
    String email = rawEmail.trim().toLowerCase(java.util.Locale.ROOT);
    // No stored email holds a NUL, and PostgreSQL text refuses one (SQLSTATE 22021): such a user is unknown.
    Future<Row> found = email.indexOf('\0') >= 0 ? Future.succeededFuture(null) : users.findByEmail(email);
    return found.compose(user -> {
      String stored = user == null ? null : user.getString("encrypted_password");
      PasswordHasher.Verification result = blocking(() -> hasher.verify(password, stored));
      if (!result.matches()) {
        return Future.failedFuture(new AuthException(ErrorCode.INVALID_CREDENTIALS, "Invalid login credentials"));
      }
      if (user.getOffsetDateTime("email_confirmed_at") == null) {
        return Future.failedFuture(new AuthException(ErrorCode.EMAIL_NOT_CONFIRMED, "Email not confirmed"));
      }
      OffsetDateTime bannedUntil = user.getOffsetDateTime("banned_until");
      if (bannedUntil != null && bannedUntil.isAfter(now())) {
        return Future.failedFuture(new AuthException(ErrorCode.USER_BANNED, "User is banned"));
      }
      UUID id = user.getUUID("id");
      Future<Void> rehashed = result.rehash()
        ? users.setHash(id, blocking(() -> hasher.hash(password)))
        : Future.succeededFuture();
      return rehashed.compose(done -> issue(id, ip, userAgent));
    });
  }

  /**
   * {@code {user_id, session_id, email?, password?, data?}} → the updated user. A new password must differ from
   * the old one and ends every other session of the user.
   */
  public Future<JsonObject> update(JsonObject body, String ip, String userAgent) {
    UUID userId = UUID.fromString(body.getString("user_id"));
    UUID sessionId = UUID.fromString(body.getString("session_id"));
    String rawEmail = Inputs.optionalString(body, "email");
    String password = Inputs.optionalString(body, PASSWORD);
    JsonObject data = Inputs.optionalObject(body, "data");
    String email = rawEmail == null ? null : Inputs.email(rawEmail);
    if (password != null) {
      Inputs.newPassword(password, app.config().password().minLength());
    }
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
    return users.findById(userId).compose(current -> {
      if (current == null) {
        return Future.failedFuture(new AuthException(ErrorCode.USER_NOT_FOUND, "User not found"));
      }
      String hash = null;
      if (password != null) {
        String stored = current.getString("encrypted_password");
        if (stored != null && blocking(() -> hasher.verify(password, stored)).matches()) {
          return Future.failedFuture(new AuthException(ErrorCode.SAME_PASSWORD,
            "New password should be different from the old password."));
        }
        hash = blocking(() -> hasher.hash(password));
      }
      String newEmail = email != null && !email.equals(current.getString("email")) ? email : null;
      return users.update(userId, newEmail, hash, merge, remove.toArray(new String[0]), now())
        .compose(updated -> password == null
          ? Future.succeededFuture(updated)
          : bus.request(Addresses.SESSIONS_END, new JsonObject()
              .put("user_id", userId.toString())
              .put("except_session_id", sessionId.toString()), ip, userAgent)
            .map(ended -> updated));
    }).compose(updated -> {
      if (updated == null) {
        return Future.failedFuture(new AuthException(ErrorCode.USER_NOT_FOUND, "User not found"));
      }
      return events.emit(Events.UPDATED, userId, sessionId, ip, userAgent).map(done -> UserJson.fromRow(updated));
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

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(app.clock().instant(), ZoneOffset.UTC);
  }
}
