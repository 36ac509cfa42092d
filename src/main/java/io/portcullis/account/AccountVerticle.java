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
    AccountService service = new AccountService(app, pool, new AccountMails(app, vertx), bus,
      new Events(vertx, pool, app.clock(), app.sessions()));
    return Future.all(
      bus.serve(Addresses.ACCOUNT_RECOVER, msg -> service.recover(msg.body())),
      bus.serve(Addresses.ACCOUNT_OTP, msg -> service.otp(msg.body())),
      bus.serve(Addresses.ACCOUNT_RESEND, msg -> service.resend(msg.body())),
      bus.serve(Addresses.ACCOUNT_VERIFY, msg -> service.verify(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))));
  }

}
