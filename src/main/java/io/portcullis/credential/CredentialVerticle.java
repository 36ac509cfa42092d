package io.portcullis.credential;

import io.portcullis.AppContext;
import io.portcullis.account.AccountMails;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.db.Pools;
import io.portcullis.events.Events;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;

/**
 * Credential checking, deployed as a WORKER ({@code password.hash_workers} instances): each instance hashes one
 * password at a time on its worker thread, which bounds the concurrent argon2id work and its memory.
 */
public final class CredentialVerticle extends VerticleBase {

  private final AppContext app;
  private Pool pool;

  public CredentialVerticle(AppContext app) {
    this.app = app;
  }

  @Override
  public Future<?> start() {
    pool = Pools.shared(vertx, app.database(), app.config().db().poolSize());
    AuthBus bus = new AuthBus(vertx, 30_000);
    PasswordHasher hasher = new PasswordHasher(app.config().password(), app.random());
    CredentialService service = new CredentialService(app, hasher, pool, new AccountMails(app, vertx), bus,
      new Events(vertx, pool, app.clock()));
    return Future.all(
      bus.serve(Addresses.USERS_SIGNUP, msg -> service.signup(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.TOKENS_PASSWORD, msg -> service.passwordGrant(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.USERS_UPDATE, msg -> service.update(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg))),
      bus.serve(Addresses.PASSWORD_HASH, msg -> service.hash(msg.body())));
  }


  @Override
  public Future<?> stop() {
    return pool == null ? Future.succeededFuture() : pool.close();
  }
}
