package io.portcullis.account;

import io.portcullis.db.DatabaseVerticle;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.events.Events;
import io.portcullis.config.Config;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.function.Consumer;

/** The account flows by mail (recover, otp, resend, verify) on the bus; no password hashing happens here. */
public final class AccountVerticle extends DatabaseVerticle {

  private final Config config;
  private final Clock clock;
  private final SecureRandom random;
  private final AccountMails.Factory mails;
  private final Consumer<String> userChanged;

  public AccountVerticle(PgConnectOptions database, Config config, Clock clock, SecureRandom random,
                         AccountMails.Factory mails, Consumer<String> userChanged) {
    super(database, config.db().poolSize());
    this.config = config;
    this.clock = clock;
    this.random = random;
    this.mails = mails;
    this.userChanged = userChanged;
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, config.http().busTimeoutMs());
    AccountMails accountMails = mails.on(vertx);
    Events events = new Events(vertx, pool, clock, userChanged);
    AccountService service = new AccountService(config, clock, random, pool, accountMails, bus, events);
    AdminLinks links = new AdminLinks(config, pool, accountMails, bus, events, clock, random);
    return Future.all(
      bus.serve(Addresses.ACCOUNT_RECOVER, msg -> service.recover(msg.body())),
      bus.serve(Addresses.ACCOUNT_OTP, msg -> service.otp(msg.body())),
      bus.serve(Addresses.ACCOUNT_RESEND, msg -> service.resend(msg.body())),
      bus.serve(Addresses.ACCOUNT_VERIFY, msg -> service.verify(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.ADMIN_GENERATE_LINK, msg -> links.generateLink(msg.body())),
      bus.serve(Addresses.ADMIN_INVITE, msg -> links.invite(msg.body())));
  }

}
