package io.portcullis.security;

import io.portcullis.account.AccountMails;
import io.portcullis.account.OneTimeTokens;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.portcullis.mail.MailTemplates;
import io.portcullis.mfa.Fields;
import io.portcullis.session.SessionRepository;
import io.portcullis.user.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * Re-authentication before a password change (GoTrue's {@code GET /reauthenticate} and {@code PUT /user {password,
 * nonce}}): a 6-digit nonce mailed to the user, single use, expiring like other mailed codes
 * ({@code mailer.otp_exp}). Asked for only when {@code security.update_password_require_reauthentication} is on and
 * the session is older than {@code security.reauthentication_window_seconds}.
 */
public final class Reauthentication {

  static final String TYPE = "reauthentication";
  static final String REQUESTED = "user.reauthentication_requested";
  private static final String[] TYPES = {TYPE};

  private final Pool pool;
  private final Clock clock;
  private final Config.Security settings;
  private final AccountMails mails;
  private final SessionRepository sessions;
  private final Events events;

  public Reauthentication(Pool pool, Clock clock, Config.Security settings, AccountMails mails,
                          SessionRepository sessions, Events events) {
    this.pool = pool;
    this.clock = clock;
    this.settings = settings;
    this.mails = mails;
    this.sessions = sessions;
    this.events = events;
  }

  /** {@code {user_id, session_id}} → {@code {}}; mails a fresh nonce (an earlier one stops working). */
  public Future<JsonObject> request(JsonObject body, String ip, String userAgent) {
    UUID userId = Fields.uuid(body, "user_id");
    UUID sessionId = Fields.uuid(body, "session_id");
    OffsetDateTime now = now();
    return new UserRepository(pool).findById(userId).compose(user -> {
      String email = user == null ? null : user.getString("email");
      if (email == null || email.isEmpty()) {
        return Future.failedFuture(new AuthException(ErrorCode.REAUTHENTICATION_NOT_VALID,
          "Reauthentication requires an email or a phone number"));
      }
      return pool.withTransaction(conn -> mails.claimSendSlot(conn, email, now)
        .compose(slot -> mails.write(conn, userId, TYPE, MailTemplates.REAUTHENTICATION, email, email, null, null, null,
          now)));
    })
      .onSuccess(done -> mails.kick())
      .compose(done -> events.emit(REQUESTED, userId, sessionId, ip, userAgent))
      .map(done -> new JsonObject());
  }

  /**
   * {@code {user_id, session_id, nonce?}} → {@code {}} when a password change may go ahead: re-authentication is
   * off, the session is recent, or the nonce is the one mailed (it is spent). Missing nonce: 400
   * reauthentication_needed; wrong or expired: 422 reauthentication_not_valid.
   */
  public Future<JsonObject> check(JsonObject body) {
    if (!settings.updatePasswordRequireReauthentication()) {
      return Future.succeededFuture(new JsonObject());
    }
    UUID userId = Fields.uuid(body, "user_id");
    UUID sessionId = Fields.uuid(body, "session_id");
    String nonce = Fields.string(body, "nonce");
    OffsetDateTime now = now();
    return sessions.createdAt(sessionId, userId).compose(created -> {
      if (created != null && now.isBefore(created.plusSeconds(settings.reauthenticationWindowSeconds()))) {
        return Future.succeededFuture(new JsonObject());
      }
      if (nonce == null || nonce.isBlank()) {
        return Future.failedFuture(new AuthException(ErrorCode.REAUTHENTICATION_NEEDED,
          "Password update requires reauthentication"));
      }
      return new UserRepository(pool).findById(userId)
        .compose(user -> user == null || user.getString("email") == null
          ? Future.succeededFuture(null)
          : OneTimeTokens.consumeCode(pool, user.getString("email"), nonce.trim(), TYPES, now))
        .compose(spent -> spent == null
          ? Future.failedFuture(new AuthException(ErrorCode.REAUTHENTICATION_NOT_VALID, "Invalid nonce"))
          : Future.succeededFuture(new JsonObject()));
    });
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
