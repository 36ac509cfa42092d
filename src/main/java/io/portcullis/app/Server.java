package io.portcullis.app;

import io.portcullis.account.AccountMails;
import io.portcullis.account.AccountVerticle;
import io.portcullis.admin.AdminVerticle;
import io.portcullis.cluster.SharedRateBuckets;
import io.portcullis.config.Config;
import io.portcullis.credential.CredentialVerticle;
import io.portcullis.credential.HashMemory;
import io.portcullis.credential.PasswordPolicy;
import io.portcullis.db.Database;
import io.portcullis.db.Migrations;
import io.portcullis.db.Pools;
import io.portcullis.http.HttpHousekeeping;
import io.portcullis.external.ExternalVerticle;
import io.portcullis.flow.FlowVerticle;
import io.portcullis.http.HttpVerticle;
import io.portcullis.http.OpenApiRoutes;
import io.portcullis.http.Readiness;
import io.portcullis.limit.HashGate;
import io.portcullis.limit.RateLimiter;
import io.portcullis.mail.MailTemplates;
import io.portcullis.mail.MailVerticle;
import io.portcullis.security.AccountSecurityVerticle;
import io.portcullis.metrics.AuthMetrics;
import io.portcullis.session.SessionCache;
import io.portcullis.token.KeyRing;
import io.portcullis.token.KeySet;
import io.portcullis.token.KeysVerticle;
import io.portcullis.token.SigningKeys;
import io.portcullis.token.TokenVerticle;
import io.portcullis.user.UserVerticle;
import io.vertx.core.Deployable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.EnumSet;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One running Portcullis: database opened and migrated (blocking, before anything deploys), signing keys loaded,
 * then the service verticles deployed side by side and the HTTP ones last. Start-up fails as a whole if any step fails.
 */
public final class Server {

  private static final Logger LOG = LoggerFactory.getLogger(Server.class);
  /** How long after listening the start's deferred work begins (see afterStart). */
  private static final long AFTER_START_DELAY_MS = 1_000;

  private final Vertx vertx;
  private final Database database;
  private final Config config;
  private final Readiness readiness;
  private final String httpDeployment;
  private final Supplier<HttpVerticle> http;

  private Server(Vertx vertx, Database database, Config config, Readiness readiness, String httpDeployment,
                 Supplier<HttpVerticle> http) {
    this.vertx = vertx;
    this.database = database;
    this.config = config;
    this.readiness = readiness;
    this.httpDeployment = httpDeployment;
    this.http = http;
  }

  /**
   * Opens the database, waits for it to accept connections (up to {@code db.connect_timeout_seconds}) and
   * migrates it; blocks, so call it from a main thread, never an event loop.
   */
  public static Database prepareDatabase(Config config) {
    Database database = Database.open(config);
    try {
      database.awaitAccepting(config.db().connectTimeoutSeconds());
      Migrations.run(database);
      return database;
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
  }

  /** Loads (or on first start creates) the signing keys through a short-lived pool. */
  public static Future<KeySet> loadKeys(Vertx vertx, Config config, Database database, Clock clock, SecureRandom random) {
    Pool pool = Pools.shared(vertx, database.connectOptions(), 2);
    return SigningKeys.load(vertx, pool, config.jwt(), clock, random)
      .eventually(() -> pool.close());
  }

  /**
   * The Vert.x options of a Portcullis process: Prometheus metrics (HTTP by route, pools, event bus, JVM) in a
   * registry of its own, so that several services in one JVM (tests) keep theirs apart.
   */
  public static VertxOptions vertxOptions(Config config) {
    VertxOptions options = new VertxOptions();
    if (config.metricsEnabled()) {
      options.setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true)
        .setRegistryName("portcullis-" + java.util.UUID.randomUUID())
        .setJvmMetricsEnabled(true)
        .setLabels(EnumSet.of(Label.HTTP_ROUTE, Label.HTTP_METHOD, Label.HTTP_CODE, Label.EB_ADDRESS,
          Label.EB_FAILURE, Label.POOL_TYPE, Label.POOL_NAME))
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)
          .setPublishQuantiles(true)));
    }
    return options;
  }

  /**
   * What the verticles read from files and the jar (mail templates, the OpenAPI document; the common-password list
   * only found, it is read after the start): blocking, so read before deployment; independent of the database, so
   * the start reads them while the database is being opened.
   */
  public record Resources(MailTemplates templates, OpenApiRoutes openapi) {

    public static Resources load(Config config) {
      // The common-password list is read after the start (see start), only found here.
      if (config.password().rejectCommon()) {
        PasswordPolicy.requireCommonPasswords();
      }
      return new Resources(MailTemplates.load(Path.of(config.mailer().templatesDir())), OpenApiRoutes.load(config));
    }
  }

  /** Deploys onto {@code vertx}, made with {@code options}; on failure the caller closes it (and the database). */
  public static Future<Server> start(Config config, Database database, Vertx vertx, VertxOptions options, Clock clock) {
    return start(config, database, vertx, options, clock, Resources.load(config));
  }

  /** As above, with the resources already read. */
  public static Future<Server> start(Config config, Database database, Vertx vertx, VertxOptions options, Clock clock,
                                     Resources resources) {
    SecureRandom random = new SecureRandom();
    int eventLoops = options.getEventLoopPoolSize();
    AuthMetrics metrics = AuthMetrics.of(options.getMetricsOptions() instanceof MicrometerMetricsOptions m
      ? m.getRegistryName() : null);
    int httpInstances = config.http().instances() > 0 ? config.http().instances() : eventLoops;
    MailTemplates templates = resources.templates();
    RateLimiter limiter = new RateLimiter(clock);
    if (config.cluster().enabled()) {
      // Several instances: one budget per client across all of them.
      limiter.share(new SharedRateBuckets(Pools.shared(vertx, database.connectOptions(), config.db().poolSize()), clock)
        .evictPeriodically(vertx));
    }
    Readiness readiness = new Readiness();
    HashGate hashing = new HashGate(config.password().hashWorkers(), config.password().hashQueue());
    HashMemory hashMemory = new HashMemory(config.password());
    hashMemory.releaseWhenIdle(vertx);
    PgConnectOptions db = database.connectOptions();
    // Several instances: every Bearer request reads session liveness from the database they share, so that an end on
    // one instance is refused by all at once (a per-process cache would answer stale until its TTL).
    SessionCache sessions = new SessionCache(config.cluster().enabled() ? 0 : config.sessions().cacheTtlMs(), clock);
    Consumer<String> userChanged = sessions::invalidateUser;
    AccountMails.Factory mails = new AccountMails.Factory(config, templates, random);
    OpenApiRoutes openapi = resources.openapi();
    return loadKeys(vertx, config, database, clock, random).compose(keys -> {
      KeyRing ring = new KeyRing(keys);
      Supplier<HttpVerticle> http = () -> new HttpVerticle(config, ring, sessions, metrics, clock, limiter, hashing,
        readiness, openapi);
      // The services only register bus consumers as they start (none calls another), so they deploy side by side,
      // on different event loops and so on every core; HTTP comes last, when every address it calls is served.
      return Future.all(List.of(
          deploy(vertx, () -> new KeysVerticle(db, config, ring, clock, random), 1),
          deploy(vertx, () -> new UserVerticle(db, config, clock), 1),
          // Signing (ES256, ~0.65 ms) is the cost of every sign-in and refresh: one instance per event loop.
          deploy(vertx, () -> new TokenVerticle(db, config, ring, clock, metrics, userChanged), eventLoops),
          deploy(vertx, () -> new MailVerticle(db, config, clock), 1),
          deploy(vertx, () -> new AccountVerticle(db, config, clock, random, mails, userChanged), 1),
          deploy(vertx, () -> new AdminVerticle(db, config, clock, userChanged), 1),
          deploy(vertx, () -> new AccountSecurityVerticle(db, config, ring, clock, random, mails, userChanged), 1),
          deploy(vertx, () -> new FlowVerticle(db, config, clock, random), 1),
          deploy(vertx, () -> new ExternalVerticle(db, config, clock, random, userChanged), 1),
          vertx.deployVerticle(() -> new CredentialVerticle(db, config, clock, random, metrics, mails, userChanged,
              hashMemory),
            new DeploymentOptions()
              .setThreadingModel(ThreadingModel.WORKER)
              .setInstances(config.password().hashWorkers())),
          deploy(vertx, () -> new HttpHousekeeping(config, sessions, limiter), 1)))
        .compose(deployed -> deploy(vertx, http, httpInstances))
        .map(httpDeployment -> {
          LOG.info("Portcullis listening on {}:{} ({} HTTP instances, {} hash workers, {} signing)",
            config.http().host(), config.http().port(), httpInstances, config.password().hashWorkers(),
            keys.algorithm());
          afterStart(vertx, config, openapi);
          return new Server(vertx, database, config, readiness, httpDeployment, http);
        });
    });
  }

  /**
   * What the start leaves until a moment after the service listens ({@link #AFTER_START_DELAY_MS}): it is needed
   * later, if at all, and on two cores every part of the start, and the first requests' cold code, would wait for
   * it (done at once it delayed the first /ready 200 by some 50 ms). A first use before then does the work itself.
   */
  private static void afterStart(Vertx vertx, Config config, OpenApiRoutes openapi) {
    vertx.setTimer(AFTER_START_DELAY_MS, timer -> {
      openapi.prepare(vertx).onFailure(e -> LOG.error("Making the OpenAPI document failed", e));
      if (config.password().rejectCommon()) {
        vertx.executeBlocking(() -> {
          PasswordPolicy.loadCommonPasswords();
          return null;
        }, false).onFailure(e -> LOG.error("Reading the common-password list failed", e));
      }
    });
  }

  private static Future<String> deploy(Vertx vertx, Supplier<? extends Deployable> verticle, int instances) {
    return vertx.deployVerticle(verticle, new DeploymentOptions().setInstances(instances));
  }

  public Vertx vertx() {
    return vertx;
  }

  /** One more HTTP verticle like the deployed ones (sharing their limiter, caches and keys), not deployed. */
  public HttpVerticle newHttpVerticle() {
    return http.get();
  }

  /**
   * Graceful shutdown: /ready answers 503 at once (for {@code shutdown.unready_delay_ms} before anything else
   * happens, so that load balancers take the instance out), then the HTTP servers stop accepting and finish the requests in
   * flight (up to {@code shutdown.grace_ms}) while the other verticles still serve them, then everything is
   * undeployed and the pools closed. The caller closes the database afterwards.
   * Blocks: call it from a main or shutdown-hook thread, never from Vert.x (each step must complete outside the
   * contexts that closing Vert.x ends).
   */
  public void stop(Duration timeout) throws Exception {
    readiness.beginShutdown();
    int unready = config.shutdownUnreadyDelayMs();
    if (unready > 0) {
      // Load balancers polling /ready see 503 and stop sending before the listener closes.
      vertx.timer(unready).toCompletionStage().toCompletableFuture().get(unready + 5_000L, TimeUnit.MILLISECONDS);
    }
    try {
      vertx.undeploy(httpDeployment).toCompletionStage().toCompletableFuture()
        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      LOG.warn("HTTP did not stop cleanly: {}", e.getCause().toString());
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public Database database() {
    return database;
  }
}
