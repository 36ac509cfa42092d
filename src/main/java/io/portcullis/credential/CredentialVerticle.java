package io.portcullis.credential;

import io.portcullis.AppContext;
import io.portcullis.db.DatabaseVerticle;
import io.portcullis.account.AccountMails;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.events.Events;
import io.portcullis.hooks.Hooks;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.function.Function;

/**
 * Credential checking, deployed as a WORKER ({@code password.hash_workers} instances): each instance hashes one
 * password at a time on its worker thread, which bounds the concurrent argon2id work and its memory.
 */
public final class CredentialVerticle extends DatabaseVerticle {


  public CredentialVerticle(AppContext app) {
    super(app);
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, 30_000);
    PasswordHasher hasher = new PasswordHasher(app.config().password(), app.random(), app.metrics());
    CredentialService service = new CredentialService(app, hasher, pool, new AccountMails(app, vertx), bus,
      new Events(vertx, pool, app.clock(), app.sessions()));
    service.useHooks(new Hooks(vertx, app.config().hooks(), app.clock()));
    return Future.all(
      bus.serve(Addresses.USERS_SIGNUP, timed(msg -> service.signup(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg)))),
      bus.serve(Addresses.TOKENS_PASSWORD,
        timed(msg -> service.passwordGrant(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg)))),
      bus.serve(Addresses.USERS_UPDATE, timed(msg -> service.update(msg.body(), AuthBus.ip(msg), AuthBus.userAgent(msg)))),
      bus.serve(Addresses.PASSWORD_HASH, timed(msg -> service.hash(msg.body()))));
  }

  /** Records how long a message waited for this worker (senders in this JVM stamp the send time). */
  private Function<Message<JsonObject>, Future<JsonObject>> timed(Function<Message<JsonObject>, Future<JsonObject>> work) {
    return msg -> {
      long waited = AuthBus.waitedNanos(msg);
      if (waited >= 0) {
        app.metrics().waitedForHashing(Duration.ofNanos(waited));
      }
      return work.apply(msg);
    };
  }


}
