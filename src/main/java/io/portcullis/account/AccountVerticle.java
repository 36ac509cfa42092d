package io.portcullis.account;

import io.portcullis.AppContext;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.db.Pools;
import io.portcullis.events.Events;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;

/** The account flows by mail (recover, otp, resend, verify) on the bus; no password hashing happens here. */
public final class AccountVerticle extends VerticleBase {

  private final AppContext app;
  private Pool pool;

  public AccountVerticle(AppContext app) {
    this.app = app;
  }

  @Override
  public Future<?> start() {
    pool = Pools.shared(vertx, app.database(), app.config().db().poolSize());
    AuthBus bus = new AuthBus(vertx, 10_000);
    AccountService service = new AccountService(app, pool, new AccountMails(app, vertx), bus,
      new Events(vertx, pool, app.clock(), app.sessions()));
    return Future.all(
      bus.serve(Addresses.ACCOUNT_RECOVER, msg -> service.recover(msg.body())),
      bus.serve(Addresses.ACCOUNT_OTP, msg -> service.otp(msg.body())),
      bus.serve(Addresses.ACCOUNT_RESEND, msg -> service.resend(msg.body())),
      bus.serve(Addresses.ACCOUNT_VERIFY, msg -> service.verify(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))));
  }

  @Override
  public Future<?> stop() {
    return pool == null ? Future.succeededFuture() : pool.close();
  }
}
