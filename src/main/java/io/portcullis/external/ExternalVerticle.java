package io.portcullis.external;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.config.Config;
import io.portcullis.db.DatabaseVerticle;
import io.portcullis.events.Events;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import io.vertx.pgclient.PgConnectOptions;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/** Sign-in through external providers on the bus; its web client talks to the providers without blocking. */
public final class ExternalVerticle extends DatabaseVerticle {

  private WebClient web;

  private final Config config;
  private final Clock clock;
  private final SecureRandom random;
  private final Consumer<String> userChanged;

  public ExternalVerticle(PgConnectOptions database, Config config, Clock clock, SecureRandom random,
                          Consumer<String> userChanged) {
    super(database, config.db().poolSize());
    this.config = config;
    this.clock = clock;
    this.random = random;
    this.userChanged = userChanged;
  }

  @Override
  protected Future<?> serve() {
    web = WebClient.create(vertx, new WebClientOptions().setUserAgent("Portcullis").setFollowRedirects(false)
      .setConnectTimeout(5_000));
    Map<String, ExternalProvider> providers = new HashMap<>();
    for (Config.Provider provider : config.federation().providers().values()) {
      providers.put(provider.name(), provider.name().equals("github")
        ? new GithubProvider(web, provider)
        : new OidcProvider(vertx, web, provider, clock));
    }
    AuthBus bus = new AuthBus(vertx, config.http().busTimeoutMs());
    Events events = new Events(vertx, pool, clock, userChanged);
    ExternalService service = new ExternalService(config, pool, bus, Map.copyOf(providers), clock,
      random);
    return Future.all(
      bus.serve(Addresses.EXTERNAL_AUTHORIZE, msg -> service.authorize(msg.body())),
      bus.serve(Addresses.EXTERNAL_CALLBACK, msg -> service.callback(msg.body(), AuthBus.ip(msg),
        AuthBus.userAgent(msg))),
      bus.serve(Addresses.EXTERNAL_ID_TOKEN, msg -> service.idToken(msg.body(), AuthBus.ip(msg),
        AuthBus.userAgent(msg))),
      bus.serve(Addresses.EXTERNAL_UNLINK, msg -> service.unlink(msg.body())
        .compose(done -> events.emit(Events.UPDATED, UUID.fromString(msg.body().getString("user_id")), null,
          AuthBus.ip(msg), AuthBus.userAgent(msg)))
        .map(done -> new JsonObject())));
  }

  @Override
  public Future<?> stop() {
    if (web != null) {
      web.close();
    }
    return super.stop();
  }
}
