package io.portcullis.account;

import io.portcullis.bus.Addresses;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.flow.FlowStates;
import io.portcullis.flow.Pkce;
import io.portcullis.mail.MailOutbox;
import io.portcullis.mail.MailTemplates;
import io.portcullis.user.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.UUID;

/**
 * Writes the mails of the account flows: a one-time token and its mail in the caller's transaction, then a kick
 * to the mail sender once committed. Also guards the per-address send interval, the same for known and unknown
 * addresses so that it reveals nothing.
 */
public final class AccountMails {

  private static final String CLAIM_SLOT = "INSERT INTO email_send_log (email, last_sent_at) VALUES ($1, $2) "
    + "ON CONFLICT (email) DO UPDATE SET last_sent_at = EXCLUDED.last_sent_at "
    + "WHERE email_send_log.last_sent_at <= $3 RETURNING email";

  private final Config config;
  private final MailTemplates templates;
  private final SecureRandom random;
  private final Vertx vertx;

  public AccountMails(Config config, MailTemplates templates, SecureRandom random, Vertx vertx) {
    this.config = config;
    this.templates = templates;
    this.random = random;
    this.vertx = vertx;
  }

  /** What a process's account mails share (its settings, templates and randomness), for each verticle's Vertx. */
  public record Factory(Config config, MailTemplates templates, SecureRandom random) {
    public AccountMails on(Vertx vertx) {
      return new AccountMails(config, templates, random, vertx);
    }
  }

  /** Fails with 429 over_email_send_rate_limit when a mail went to this address within the send interval. */
  public Future<Void> claimSendSlot(SqlClient client, String email, OffsetDateTime now) {
    int interval = config.mailer().sendIntervalSeconds();
    return client.preparedQuery(CLAIM_SLOT).execute(Tuple.of(email, now, now.minusSeconds(interval)))
      .compose(rows -> rows.size() > 0 ? Future.succeededFuture() : Future.failedFuture(rateLimited()));
  }

  /**
   * Fails with 429 over_email_send_rate_limit when a user's mail of one kind (its {@code *_sent_at}) went out
   * within the send interval: the sign-up mail, which claims no slot, and the mails of an email change.
   */
  public Future<Void> checkSentAt(OffsetDateTime lastSent, OffsetDateTime now) {
    int interval = config.mailer().sendIntervalSeconds();
    return lastSent != null && lastSent.isAfter(now.minusSeconds(interval))
      ? Future.failedFuture(rateLimited())
      : Future.succeededFuture();
  }

  private AuthException rateLimited() {
    return new AuthException(ErrorCode.OVER_EMAIL_SEND_RATE_LIMIT, "For security purposes, you can only request this "
      + "after " + config.mailer().sendIntervalSeconds() + " seconds.");
  }

  /**
   * Creates a one-time token of {@code tokenType} for the user and writes its mail ({@code template}) to
   * {@code to}. {@code email} and {@code newEmail} fill the template's placeholders. With a PKCE challenge the
   * link starts a flow: opening it redirects with an auth code instead of a session.
   */
  public Future<Void> write(SqlClient client, UUID userId, String tokenType, String template, String to,
                            String email, String newEmail, String redirectTo, Pkce.Challenge pkce,
                            OffsetDateTime now) {
    String redirect = Redirects.resolve(config, redirectTo);
    Duration ttl = Duration.ofSeconds(OneTimeTokens.SIGNUP.equals(tokenType) || OneTimeTokens.INVITE.equals(tokenType)
      || tokenType.startsWith("email_change")
      ? config.mailer().confirmationExp()
      : config.mailer().otpExp());
    Future<UUID> flow = pkce == null
      ? Future.succeededFuture()
      : FlowStates.create(client, pkce, OneTimeTokens.amr(tokenType), null, redirect, null, null, null, now);
    return flow.compose(flowId -> OneTimeTokens.create(client, random, userId, tokenType, to, redirect, flowId,
        now, ttl))
      .compose(issued -> {
        String link = config.publicBaseUrl() + "/verify?token=" + issued.link()
          + "&type=" + publicType(tokenType) + "&redirect_to=" + URLEncoder.encode(redirect, StandardCharsets.UTF_8);
        MailTemplates.Mail mail = templates.render(template, Map.of(
          "ConfirmationURL", link,
          "Token", issued.code(),
          "TokenHash", issued.link(),
          "SiteURL", config.siteUrl(),
          "Email", email,
          "NewEmail", newEmail == null ? "" : newEmail,
          "RedirectTo", redirect));
        return MailOutbox.enqueue(client, to, mail, now);
      });
  }

  /** The sign-up confirmation mail, and the user's {@code confirmation_sent_at}, in the caller's transaction. */
  public Future<Void> confirmation(SqlClient client, UUID userId, String email, String redirectTo,
                                   Pkce.Challenge pkce, OffsetDateTime now) {
    return write(client, userId, OneTimeTokens.SIGNUP, MailTemplates.CONFIRMATION, email, email, null, redirectTo, pkce,
        now)
      .compose(done -> new UserRepository(client).markConfirmationSent(userId, now));
  }

  /** An email change by mail: the new address remembered until confirmed, and its mails written. */
  public Future<Void> requestEmailChange(SqlClient client, UUID userId, String current, String newEmail,
                                         String redirectTo, Pkce.Challenge pkce, OffsetDateTime now) {
    return new UserRepository(client).requestEmailChange(userId, newEmail, now)
      .compose(done -> emailChange(client, userId, current, newEmail, redirectTo, pkce, now));
  }

  /** The mails of an email change: to the new address, and to the current one when the change is secure. */
  public Future<Void> emailChange(SqlClient client, UUID userId, String current, String newEmail, String redirectTo,
                                  Pkce.Challenge pkce, OffsetDateTime now) {
    Future<Void> toNew = write(client, userId, OneTimeTokens.EMAIL_CHANGE_NEW, MailTemplates.EMAIL_CHANGE, newEmail,
      current == null ? "" : current, newEmail, redirectTo, pkce, now);
    // An anonymous user has no current address to confirm from.
    return config.mailer().secureEmailChange() && current != null
      ? toNew.compose(done -> write(client, userId, OneTimeTokens.EMAIL_CHANGE_CURRENT, MailTemplates.EMAIL_CHANGE,
          current, current, newEmail, redirectTo, pkce, now))
      : toNew;
  }

  /** Wakes the mail sender; call after the transaction that wrote the mail committed. */
  public void kick() {
    vertx.eventBus().send(Addresses.MAIL_KICK, new JsonObject());
  }

  /** The {@code type} a link carries, as supabase-js and GoTrue name it. */
  public static String publicType(String tokenType) {
    return tokenType.startsWith("email_change") ? "email_change" : tokenType;
  }
}
