package io.portcullis;

import io.portcullis.account.AccountVerticle;
import io.portcullis.admin.AdminVerticle;
import io.portcullis.config.Config;
import io.portcullis.credential.CredentialVerticle;
import io.portcullis.db.Database;
import io.portcullis.db.Migrations;
import io.portcullis.db.Pools;
import io.portcullis.http.HttpVerticle;
import io.portcullis.limit.HashGate;
import io.portcullis.limit.RateLimiter;
import io.portcullis.mail.MailTemplates;
import io.portcullis.mail.MailVerticle;
import io.portcullis.token.KeySet;
import io.portcullis.token.SigningKeys;
import io.portcullis.token.TokenVerticle;
import io.portcullis.user.UserVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;

/**
 * One running Portcullis: database opened and migrated (blocking, before anything deploys), signing keys loaded,
 * then the verticles deployed in dependency order. Start-up fails as a whole if any step fails.
 */
public final class Server {

  private static final Logger LOG = LoggerFactory.getLogger(Server.class);

  private final Vertx vertx;
  private final Database database;
  private final AppContext app;

  private Server(Vertx vertx, Database database, AppContext app) {
    this.vertx = vertx;
    this.database = database;
    this.app = app;
  }

  /** Opens the database and migrates it; blocks, so call it from a main thread, never an event loop. */
  public static Database prepareDatabase(Config config) {
    Database database = Database.open(config);
    try {
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

  /** Deploys onto {@code vertx}; on failure the caller closes it (and the database). */
  public static Future<Server> start(Config config, Database database, Vertx vertx, int eventLoops, Clock clock) {
    SecureRandom random = new SecureRandom();
    int httpInstances = config.http().instances() > 0 ? config.http().instances() : eventLoops;
    MailTemplates templates = MailTemplates.load(Path.of(config.mailer().templatesDir()));
    RateLimiter limiter = new RateLimiter(clock);
    HashGate hashing = new HashGate(config.password().hashWorkers(), config.password().hashQueue());
    return loadKeys(vertx, config, database, clock, random)
      .map(keys -> new AppContext(config, database.connectOptions(), keys, templates, clock, random))
      .compose(app -> vertx.deployVerticle(() -> new UserVerticle(app), new DeploymentOptions())
        .compose(id -> vertx.deployVerticle(() -> new TokenVerticle(app), new DeploymentOptions()))
        .compose(id -> vertx.deployVerticle(() -> new MailVerticle(app), new DeploymentOptions()))
        .compose(id -> vertx.deployVerticle(() -> new AccountVerticle(app), new DeploymentOptions()))
        .compose(id -> vertx.deployVerticle(() -> new AdminVerticle(app), new DeploymentOptions()))
        .compose(id -> vertx.deployVerticle(() -> new CredentialVerticle(app), new DeploymentOptions()
          .setThreadingModel(ThreadingModel.WORKER)
          .setInstances(config.password().hashWorkers())))
        .compose(id -> vertx.deployVerticle(() -> new HttpVerticle(app, limiter, hashing), new DeploymentOptions()
          .setInstances(httpInstances)))
        .map(id -> {
          LOG.info("Portcullis listening on {}:{} ({} HTTP instances, {} hash workers, {} signing)",
            config.http().host(), config.http().port(), httpInstances, config.password().hashWorkers(),
            app.keys().algorithm());
          return new Server(vertx, database, app);
        }));
  }

  public Vertx vertx() {
    return vertx;
  }

  public AppContext app() {
    return app;
  }

  /** Undeploys everything and closes the pools; the caller closes the database afterwards. */
  public Future<Void> stop() {
    return vertx.close();
  }

  public Database database() {
    return database;
  }
}
