package io.portcullis.credential;

import io.portcullis.db.DatabaseVerticle;
import io.portcullis.account.AccountMails;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.events.Events;
import io.portcullis.config.Config;
import io.portcullis.hooks.Hooks;
import io.portcullis.metrics.AuthMetrics;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Credential checking, deployed as a WORKER ({@code password.hash_workers} instances): each instance hashes one
 * password at a time on its worker thread, which bounds the concurrent argon2id work and its memory.
 */
public final class CredentialVerticle extends DatabaseVerticle {

  private final Config config;
  private final Clock clock;
  private final SecureRandom random;
  private final AuthMetrics metrics;
  private final AccountMails.Factory mails;
  private final Consumer<String> userChanged;
  private final HashMemory hashMemory;

  public CredentialVerticle(PgConnectOptions database, Config config, Clock clock, SecureRandom random,
                            AuthMetrics metrics, AccountMails.Factory mails, Consumer<String> userChanged,
                            HashMemory hashMemory) {
    super(database, config.db().poolSize());
    this.config = config;
    this.clock = clock;
    this.random = random;
    this.metrics = metrics;
    this.mails = mails;
    this.userChanged = userChanged;
    this.hashMemory = hashMemory;
  }

  @Override
  protected Future<?> serve() {
    AuthBus bus = new AuthBus(vertx, config.http().busTimeoutMs());
    PasswordHasher hasher = new PasswordHasher(config.password(), random, metrics, hashMemory.argon2());
    CredentialService service = new CredentialService(config, clock, metrics, hasher, pool, mails.on(vertx), bus,
      new Events(vertx, pool, clock, userChanged), new Hooks(vertx, config.hooks(), clock));
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
        metrics.waitedForHashing(Duration.ofNanos(waited));
      }
      return work.apply(msg);
    };
  }


}
