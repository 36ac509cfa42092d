package io.portcullis.account;

import io.portcullis.AppContext;
import io.portcullis.db.DatabaseVerticle;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.events.Events;
import io.vertx.core.Future;

/** The account flows by mail (recover, otp, resend, verify) on the bus; no password hashing happens here. */
public final class AccountVerticle extends DatabaseVerticle {


  public AccountVerticle(AppContext app) {
    super(app);
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, 10_000);
    AccountMails mails = new AccountMails(app, vertx);
    Events events = new Events(vertx, pool, app.clock(), app.sessions());
    AccountService service = new AccountService(app, pool, mails, bus, events);
    AdminLinks links = new AdminLinks(app.config(), pool, mails, bus, events, app.clock(), app.random());
    return Future.all(
      bus.serve(Addresses.ACCOUNT_RECOVER, msg -> service.recover(msg.body())),
      bus.serve(Addresses.ACCOUNT_OTP, msg -> service.otp(msg.body())),
      bus.serve(Addresses.ACCOUNT_RESEND, msg -> service.resend(msg.body())),
      bus.serve(Addresses.ACCOUNT_VERIFY, msg -> service.verify(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.ADMIN_GENERATE_LINK, msg -> links.generateLink(msg.body())),
      bus.serve(Addresses.ADMIN_INVITE, msg -> links.invite(msg.body())));
  }

}
