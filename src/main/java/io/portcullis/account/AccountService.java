package io.portcullis.account;

import io.portcullis.user.Bans;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.db.Rows;
import io.portcullis.input.Inputs;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.Futures;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.portcullis.flow.FlowStates;
import io.portcullis.flow.Pkce;
import io.portcullis.mail.MailTemplates;
import io.portcullis.user.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.UUID;

/**
 * The account flows that go through the user's mailbox: recovery, one-time sign-in links and codes, resending a
 * confirmation, and verifying what the mail carried. Answers never tell whether an address has an account.
 */
public final class AccountService {

  /** The one-time token types a verify {@code type} accepts. */
  private static final Map<String, String[]> VERIFY_TYPES = Map.of(
    "signup", new String[] {OneTimeTokens.SIGNUP},
    "invite", new String[] {OneTimeTokens.INVITE},
    "magiclink", new String[] {OneTimeTokens.MAGICLINK, OneTimeTokens.SIGNUP},
    "email", new String[] {OneTimeTokens.SIGNUP, OneTimeTokens.MAGICLINK, OneTimeTokens.INVITE},
    "recovery", new String[] {OneTimeTokens.RECOVERY},
    "email_change", new String[] {OneTimeTokens.EMAIL_CHANGE_NEW, OneTimeTokens.EMAIL_CHANGE_CURRENT});

  private final Config config;
  private final Clock clock;
  private final SecureRandom random;
  private final Pool pool;
  private final AccountMails mails;
  private final AuthBus bus;
  private final Events events;

  public AccountService(Config config, Clock clock, SecureRandom random, Pool pool, AccountMails mails, AuthBus bus,
                        Events events) {
    this.config = config;
    this.clock = clock;
    this.random = random;
    this.pool = pool;
    this.mails = mails;
    this.bus = bus;
    this.events = events;
  }

  /** {@code {email, redirect_to?}} → {@code {}} whether or not the address has an account. */
  public Future<JsonObject> recover(JsonObject body) {
    return Futures.attempt(() -> {
      String email = Inputs.email(Inputs.requiredString(body, "email"));
      String redirectTo = Inputs.optionalString(body, "redirect_to");
      Pkce.Challenge pkce = Pkce.parse(body);
      OffsetDateTime now = Rows.now(clock);
      return pool.withTransaction(conn -> mails.claimSendSlot(conn, email, now)
        .compose(slot -> new UserRepository(conn).findByEmail(email))
        .compose(user -> user == null
          ? Future.succeededFuture()
          : mails.write(conn, user.getUUID("id"), OneTimeTokens.RECOVERY, MailTemplates.RECOVERY, email, email, null,
              redirectTo, pkce, now)
            .compose(done -> new UserRepository(conn).markRecoverySent(user.getUUID("id"), now))))
        .map(done -> sent());
    });
  }

  /**
   * {@code {email, create_user?, data?, redirect_to?}} → {@code {}}: a sign-in link and code for an existing
   * address; for a new one (unless {@code create_user} is false) a user without password and a confirmation mail.
   */
  public Future<JsonObject> otp(JsonObject body) {
    return Futures.attempt(() -> {
      String email = Inputs.email(Inputs.requiredString(body, "email"));
      String redirectTo = Inputs.optionalString(body, "redirect_to");
      Pkce.Challenge pkce = Pkce.parse(body);
      Object create = body.getValue("create_user");
      if (create != null && !(create instanceof Boolean)) {
        throw AuthException.validation("Field 'create_user' must be a boolean");
      }
      boolean createUser = create == null || (Boolean) create;
      JsonObject data = Inputs.optionalObject(body, "data");
      OffsetDateTime now = Rows.now(clock);
      return pool.withTransaction(conn -> mails.claimSendSlot(conn, email, now)
        .compose(slot -> new UserRepository(conn).findByEmail(email))
        .compose(user -> {
          if (user != null) {
            boolean confirmed = user.getOffsetDateTime("email_confirmed_at") != null;
            return mails.write(conn, user.getUUID("id"), confirmed ? OneTimeTokens.MAGICLINK : OneTimeTokens.SIGNUP,
              confirmed ? MailTemplates.MAGIC_LINK : MailTemplates.CONFIRMATION, email, email, null, redirectTo, pkce, now);
          }
          if (!createUser || config.signup().disabled()) {
            return Future.succeededFuture();
          }
          UUID id = UUID.randomUUID();
          return new UserRepository(conn).insertPasswordless(id, email, data == null ? new JsonObject() : data, now)
            .compose(inserted -> !inserted
              ? Future.succeededFuture()
              : mails.confirmation(conn, id, email, redirectTo, pkce, now)
                .compose(done -> events.emit(Events.SIGNED_UP, id, null, null, null)));
        }))
        .map(done -> sent());
    });
  }

  /** {@code {type: signup|email_change, email}} → {@code {}}; sends again what is still awaited. */
  public Future<JsonObject> resend(JsonObject body) {
    return Futures.attempt(() -> {
      String type = Inputs.requiredString(body, "type");
      if (!type.equals("signup") && !type.equals("email_change")) {
        throw AuthException.validation("Field 'type' must be signup or email_change");
      }
      String email = Inputs.email(Inputs.requiredString(body, "email"));
      String redirectTo = Inputs.optionalString(body, "redirect_to");
      Pkce.Challenge pkce = Pkce.parse(body);
      OffsetDateTime now = Rows.now(clock);
      return pool.withTransaction(conn -> mails.claimSendSlot(conn, email, now)
        .compose(slot -> new UserRepository(conn).findByEmail(email))
        .compose(user -> {
          if (user == null) {
            return Future.succeededFuture();
          }
          UUID id = user.getUUID("id");
          if (type.equals("signup")) {
            return user.getOffsetDateTime("email_confirmed_at") != null
              ? Future.succeededFuture()
              : mails.checkSentAt(user.getOffsetDateTime("confirmation_sent_at"), now)
                .compose(ok -> mails.confirmation(conn, id, email, redirectTo, pkce, now));
          }
          String newEmail = user.getString("new_email");
          return newEmail == null
            ? Future.succeededFuture()
            : mails.checkSentAt(user.getOffsetDateTime("email_change_sent_at"), now)
              .compose(ok -> mails.emailChange(conn, id, email, newEmail, redirectTo, pkce, now))
              .compose(done -> new UserRepository(conn).markEmailChangeSent(id, now));
        }))
        .map(done -> sent());
    });
  }

  /**
   * {@code {type, email, token}} (the 6-digit code) or {@code {type, token_hash}} (the link's token) → a session;
   * or, for the first half of a secure email change, {@code {msg}}. Invalid, used or expired → 403 otp_expired.
   * A link ({@code link: true}) of a PKCE flow answers {@code {auth_code}} instead of a session, for the app to
   * exchange with its code verifier.
   */
  public Future<JsonObject> verify(JsonObject body, String ip, String userAgent) {
    return Futures.attempt(() -> {
      String type = Inputs.requiredString(body, "type");
      String[] types = VERIFY_TYPES.get(type);
      if (types == null) {
        throw AuthException.validation("Verify requires a valid type");
      }
      String tokenHash = Inputs.optionalString(body, "token_hash");
      String code = Inputs.optionalString(body, "token");
      String rawEmail = Inputs.optionalString(body, "email");
      OffsetDateTime now = Rows.now(clock);
      Future<Row> consumed;
      if (tokenHash != null && !tokenHash.isEmpty()) {
        consumed = OneTimeTokens.consumeLink(pool, tokenHash, types, now);
      } else if (code != null && !code.isEmpty() && rawEmail != null) {
        consumed = OneTimeTokens.consumeCode(pool, Inputs.email(rawEmail), code.trim(), types, now);
      } else {
        throw AuthException.validation("Verify requires a token_hash, or an email and a token");
      }
      return consumed.compose(token -> {
        if (token == null) {
          return Future.failedFuture(new AuthException(ErrorCode.OTP_EXPIRED, "Token has expired or is invalid"));
        }
        UUID userId = token.getUUID("user_id");
        String tokenType = token.getString("type");
        UUID flowId = token.getUUID("flow_state_id");
        boolean codeFlow = flowId != null && Boolean.TRUE.equals(body.getValue("link"));
        return apply(userId, tokenType, now).compose(complete -> complete
          ? codeFlow ? authCode(flowId, userId, now) : signIn(userId, OneTimeTokens.amr(tokenType), ip, userAgent)
          : Future.succeededFuture(new JsonObject().put("code", 200)
            .put("msg", "Confirmation link accepted. Please proceed to confirm link sent to the other email")));
      });
    });
  }

  /** Applies what a verified token proves; false while a secure email change still awaits its other half. */
  private Future<Boolean> apply(UUID userId, String tokenType, OffsetDateTime now) {
    if (tokenType.startsWith("email_change")) {
      String other = tokenType.equals(OneTimeTokens.EMAIL_CHANGE_NEW)
        ? OneTimeTokens.EMAIL_CHANGE_CURRENT : OneTimeTokens.EMAIL_CHANGE_NEW;
      return OneTimeTokens.outstanding(pool, userId, other, now).compose(waiting -> waiting
        ? Future.succeededFuture(false)
        : new UserRepository(pool).applyEmailChange(userId, now)
          .compose(done -> events.emit(Events.UPDATED, userId, null, null, null))
          .map(done -> true));
    }
    return new UserRepository(pool).confirmEmail(userId, now).map(done -> true);
  }

  /** Ends a PKCE link's flow in an auth code for the user (exchanged by {@code grant_type=pkce}). */
  private Future<JsonObject> authCode(UUID flowId, UUID userId, OffsetDateTime now) {
    return FlowStates.issueCode(pool, random, flowId, userId, null, null, now)
      .map(code -> new JsonObject().put("auth_code", code));
  }

  private Future<JsonObject> signIn(UUID userId, String amrMethod, String ip, String userAgent) {
    return new UserRepository(pool).findById(userId).compose(user -> {
      if (user == null) {
        return Future.failedFuture(new AuthException(ErrorCode.OTP_EXPIRED, "Token has expired or is invalid"));
      }
      return Bans.refuseGrant(user, Rows.now(clock)).compose(allowed -> bus.request(Addresses.SESSIONS_ISSUE,
        new JsonObject().put("user_id", userId.toString()).put("amr_method", amrMethod), ip, userAgent));
    });
  }

  /** Every mail-triggering answer is this, whatever happened, and the sender is woken. */
  private JsonObject sent() {
    mails.kick();
    return new JsonObject();
  }
}
