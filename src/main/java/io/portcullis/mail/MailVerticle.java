package io.portcullis.mail;

import io.portcullis.db.DatabaseVerticle;
import io.portcullis.bus.Addresses;
import io.portcullis.config.Config;
import io.portcullis.db.Rows;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.MailMessage;
import io.vertx.ext.mail.StartTLSOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * Delivers the mail outbox over SMTP (vertx-mail-client, non-blocking) or, with no SMTP host configured, writes
 * each mail to the log so a developer can follow its link. Woken by {@code auth.internal.mail.kick} after a mail
 * is enqueued and by a timer; a failed send is retried with growing delays up to {@code smtp.max_attempts}, each
 * failure logged, the last as an error.
 */
public final class MailVerticle extends DatabaseVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(MailVerticle.class);
  private static final int BATCH = 20;
  private static final Duration LEASE = Duration.ofMinutes(2);
  private static final long POLL_MS = 5_000;

  private MailClient client;
  private boolean draining;
  private boolean again;

  private final Config config;
  private final Clock clock;

  public MailVerticle(PgConnectOptions database, Config config, Clock clock) {
    super(database, config.db().poolSize());
    this.config = config;
    this.clock = clock;
  }

  @Override
  protected Future<?> serve() {
    Config.Smtp smtp = config.smtp();
    if (smtp.enabled()) {
      client = MailClient.create(vertx, mailConfig(smtp));
      LOG.info("Mail goes to SMTP {}:{} ({})", smtp.host(), smtp.port(), smtp.security());
    } else {
      LOG.warn("No SMTP host configured (smtp.host): mails are written to the log instead of being sent");
    }
    vertx.setPeriodic(POLL_MS, id -> drain());
    return vertx.eventBus().consumer(Addresses.MAIL_KICK, msg -> drain()).completion();
  }

  static MailConfig mailConfig(Config.Smtp smtp) {
    MailConfig config = new MailConfig()
      .setHostname(smtp.host())
      .setPort(smtp.port())
      .setConnectTimeout(10_000);
    switch (smtp.security()) {
      case "tls" -> config.setSsl(true).setStarttls(StartTLSOptions.DISABLED);
      case "starttls" -> config.setStarttls(StartTLSOptions.REQUIRED);
      default -> config.setStarttls(StartTLSOptions.DISABLED);
    }
    if (!smtp.user().isEmpty()) {
      config.setLogin(LoginOption.REQUIRED).setUsername(smtp.user()).setPassword(smtp.password());
    } else {
      config.setLogin(LoginOption.DISABLED);
    }
    return config;
  }

  /** One drain at a time per instance; a kick during a drain runs another right after it. */
  private void drain() {
    if (draining) {
      again = true;
      return;
    }
    draining = true;
    again = false;
    OffsetDateTime now = Rows.now(clock);
    MailOutbox.claim(pool, now, now.plus(LEASE), BATCH)
      .compose(this::sendAll)
      .onFailure(e -> LOG.warn("Mail outbox not read: {}", e.toString()))
      .onComplete(done -> {
        draining = false;
        boolean full = done.succeeded() && done.result() >= BATCH;
        if (again || full) {
          drain();
        }
      });
  }

  private Future<Integer> sendAll(List<MailOutbox.Pending> mails) {
    Future<Void> chain = Future.succeededFuture();
    for (MailOutbox.Pending mail : mails) {
      chain = chain.compose(done -> deliver(mail));
    }
    return chain.map(done -> mails.size());
  }

  private Future<Void> deliver(MailOutbox.Pending mail) {
    return send(mail)
      .compose(sent -> MailOutbox.sent(pool, mail.id(), Rows.now(clock)))
      .recover(error -> {
        String reason = error.getClass().getSimpleName() + ": " + error.getMessage();
        if (mail.attempts() >= config.smtp().maxAttempts()) {
          LOG.error("Mail {} ({}) to {} not sent after {} attempts, giving up: {}", mail.id(), mail.kind(),
            mail.recipient(), mail.attempts(), reason);
          return MailOutbox.failed(pool, mail.id(), Rows.now(clock), reason);
        }
        Duration delay = Duration.ofSeconds(Math.min(3600, 5L << Math.min(mail.attempts() - 1, 10)));
        LOG.warn("Mail {} ({}) to {} not sent (attempt {}), retrying in {} s: {}", mail.id(), mail.kind(),
          mail.recipient(), mail.attempts(), delay.toSeconds(), reason);
        return MailOutbox.retry(pool, mail.id(), Rows.now(clock).plus(delay), reason);
      });
  }

  private Future<Void> send(MailOutbox.Pending mail) {
    if (client == null) {
      // Zero-install default: the developer reads the mail, link included, in the log.
      LOG.info("Mail (no SMTP configured) to {}: {}\n{}", mail.recipient(), mail.subject(), mail.text());
      return Future.succeededFuture();
    }
    Config.Smtp smtp = config.smtp();
    String from = smtp.senderName().isEmpty() ? smtp.from() : smtp.senderName() + " <" + smtp.from() + ">";
    MailMessage message = new MailMessage()
      .setFrom(from)
      .setTo(mail.recipient())
      .setSubject(mail.subject())
      .setText(mail.text())
      .setHtml(mail.html());
    return client.sendMail(message).mapEmpty();
  }

  @Override
  public Future<?> stop() {
    Future<Void> closed = client == null ? Future.succeededFuture() : client.close();
    return closed.compose(done -> super.stop());
  }
}
