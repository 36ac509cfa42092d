package io.portcullis.account;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.config.Config;
import io.portcullis.input.Inputs;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.portcullis.mail.MailTemplates;
import io.portcullis.user.UserJson;
import io.portcullis.user.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.UUID;

/**
 * The admin side of the mail flows: {@code generate_link} makes the link and code a mail would carry without
 * sending it (for apps that send their own mail), {@code invite} creates a user and mails an invitation.
 */
public final class AdminLinks {

  private static final String INSERT_USER = "INSERT INTO users (id, email, encrypted_password, user_metadata, "
    + "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)";
  private static final String REQUEST_EMAIL_CHANGE = "UPDATE users SET new_email = $2, email_change_sent_at = $3 "
    + "WHERE id = $1";
  private static final String INVITED = "UPDATE users SET confirmation_sent_at = $2 WHERE id = $1";
  /** generate_link types → the one-time token type each makes. */
  private static final Map<String, String> TYPES = Map.of(
    "signup", OneTimeTokens.SIGNUP,
    "magiclink", OneTimeTokens.MAGICLINK,
    "recovery", OneTimeTokens.RECOVERY,
    "invite", OneTimeTokens.INVITE,
    "email_change_current", OneTimeTokens.EMAIL_CHANGE_CURRENT,
    "email_change_new", OneTimeTokens.EMAIL_CHANGE_NEW);

  private final Config config;
  private final Pool pool;
  private final AccountMails mails;
  private final AuthBus bus;
  private final Events events;
  private final Clock clock;
  private final SecureRandom random;

  public AdminLinks(Config config, Pool pool, AccountMails mails, AuthBus bus, Events events, Clock clock,
                    SecureRandom random) {
    this.config = config;
    this.pool = pool;
    this.mails = mails;
    this.bus = bus;
    this.events = events;
    this.clock = clock;
    this.random = random;
  }

  /**
   * {@code {type, email, password?, data?, new_email?, redirect_to?}} → the user's fields plus {@code action_link,
   * email_otp, hashed_token, verification_type, redirect_to}, as supabase-js's {@code admin.generateLink} reads them.
   */
  public Future<JsonObject> generateLink(JsonObject body) {
    try {
      return generate(body);
    } catch (AuthException e) {
      return Future.failedFuture(e);
    }
  }

  private Future<JsonObject> generate(JsonObject body) {
    String type = Inputs.requiredString(body, "type");
    String tokenType = TYPES.get(type);
    if (tokenType == null) {
      throw AuthException.validation("Invalid generate_link type: " + type);
    }
    String email = Inputs.email(Inputs.requiredString(body, "email"));
    String password = Inputs.optionalString(body, "password");
    JsonObject data = Inputs.optionalObject(body, "data");
    String rawNew = Inputs.optionalString(body, "new_email");
    String newEmail = rawNew == null || rawNew.isEmpty() ? null : Inputs.email(rawNew);
    if (type.startsWith("email_change") && newEmail == null) {
      throw AuthException.validation("new_email is required for " + type);
    }
    if (type.equals("signup") && (password == null || password.isEmpty())) {
      throw AuthException.validation("Password is required for a signup link");
    }
    String redirect = Redirects.resolve(config, Inputs.optionalString(body, "redirect_to"));
    Future<String> hash = type.equals("signup")
      ? bus.request(Addresses.PASSWORD_HASH, new JsonObject().put("password", password)).map(h -> h.getString("hash"))
      : Future.succeededFuture();
    OffsetDateTime now = now();
    return hash.compose(passwordHash -> pool.withTransaction(conn -> {
      UserRepository users = new UserRepository(conn);
      return users.findByEmail(email).compose(user -> {
        boolean creates = type.equals("signup") || type.equals("invite") || type.equals("magiclink");
        if (user == null && !creates) {
          return Future.failedFuture(AuthException.withStatus(ErrorCode.USER_NOT_FOUND, 404, "User not found"));
        }
        if (user != null && (type.equals("signup") || type.equals("invite"))
          && user.getOffsetDateTime("email_confirmed_at") != null) {
          return Future.failedFuture(new AuthException(ErrorCode.EMAIL_EXISTS,
            "A user with this email address has already been registered"));
        }
        Future<UUID> id = user != null ? Future.succeededFuture(user.getUUID("id")) : create(conn, email, passwordHash,
          data, now);
        return id.compose(userId -> (newEmail == null ? Future.<Void>succeededFuture()
            : conn.preparedQuery(REQUEST_EMAIL_CHANGE).execute(Tuple.of(userId, newEmail, now)).<Void>mapEmpty())
          .compose(done -> OneTimeTokens.create(conn, random, userId, tokenType,
            tokenType.equals(OneTimeTokens.EMAIL_CHANGE_NEW) ? newEmail : email, redirect, null, now, ttl(tokenType)))
          .compose(issued -> users.findById(userId).map(row -> UserJson.fromRow(row)
            .put("action_link", link(issued.link(), tokenType, redirect))
            .put("email_otp", issued.code())
            .put("hashed_token", issued.link())
            .put("verification_type", AccountMails.publicType(tokenType))
            .put("redirect_to", redirect))));
      });
    }));
  }

  /** {@code {email, data?, redirect_to?}} → the invited user; the invitation is mailed. */
  public Future<JsonObject> invite(JsonObject body) {
    String email;
    JsonObject data;
    String redirectTo;
    try {
      email = Inputs.email(Inputs.requiredString(body, "email"));
      data = Inputs.optionalObject(body, "data");
      redirectTo = Inputs.optionalString(body, "redirect_to");
    } catch (AuthException e) {
      return Future.failedFuture(e);
    }
    OffsetDateTime now = now();
    return pool.withTransaction(conn -> new UserRepository(conn).findByEmail(email).compose(user -> {
      if (user != null && user.getOffsetDateTime("email_confirmed_at") != null) {
        return Future.failedFuture(new AuthException(ErrorCode.EMAIL_EXISTS,
          "A user with this email address has already been registered"));
      }
      Future<UUID> id = user != null ? Future.succeededFuture(user.getUUID("id"))
        : create(conn, email, null, data, now);
      return id.compose(userId -> mails.write(conn, userId, OneTimeTokens.INVITE, MailTemplates.INVITE, email, email,
          null, redirectTo, null, now)
        .compose(done -> conn.preparedQuery(INVITED).execute(Tuple.of(userId, now)))
        .compose(done -> new UserRepository(conn).findById(userId)));
    })).map(row -> {
      mails.kick();
      return UserJson.fromRow(row);
    });
  }

  private Future<UUID> create(SqlClient conn, String email, String hash, JsonObject data, OffsetDateTime now) {
    UUID id = UUID.randomUUID();
    return conn.preparedQuery(INSERT_USER).execute(Tuple.of(id, email, hash, data == null ? new JsonObject() : data,
        now))
      .compose(done -> events.emit(Events.SIGNED_UP, id, null, null, null))
      .map(id);
  }

  private String link(String token, String tokenType, String redirect) {
    return config.publicBaseUrl() + "/verify?token=" + token + "&type=" + AccountMails.publicType(tokenType)
      + "&redirect_to=" + URLEncoder.encode(redirect, StandardCharsets.UTF_8);
  }

  private Duration ttl(String tokenType) {
    return Duration.ofSeconds(tokenType.equals(OneTimeTokens.RECOVERY) || tokenType.equals(OneTimeTokens.MAGICLINK)
      ? config.mailer().otpExp() : config.mailer().confirmationExp());
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
