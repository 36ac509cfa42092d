package io.portcullis.cli;

import io.portcullis.app.Server;
import io.portcullis.cluster.Clustering;
import io.portcullis.config.Config;
import io.portcullis.config.ConfigException;
import io.portcullis.config.ConfigLoader;
import io.portcullis.input.Inputs;
import io.portcullis.credential.PasswordHasher;
import io.portcullis.credential.PasswordPolicy;
import io.portcullis.db.Database;
import io.portcullis.db.Pools;
import io.portcullis.db.Rows;
import io.portcullis.error.AuthException;
import io.portcullis.events.Events;
import io.portcullis.token.SigningKeys;
import io.portcullis.token.TokenSigner;
import io.portcullis.user.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

import java.io.PrintStream;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;
import java.util.function.IntSupplier;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;

/**
 * The sub-commands. Each loads and validates the configuration first; the tools work whether or not a
 * {@code serve} runs on the same database, the embedded one included (they then connect to its server).
 */
public final class Commands {

  private static final Logger LOG = LoggerFactory.getLogger(Commands.class);
  private static final String NETTY_JFR = "io.netty.jfr.enabled";
  private static final String USAGE = String.join("\n",
    "Usage: java -jar portcullis.jar [command] [options]",
    "",
    "Commands:",
    "  serve                                    start the service (default)",
    "  migrate                                  apply database migrations and exit",
    "  create-user --email E --password P [--role R]",
    "                                           create a confirmed user (role defaults to authenticated)",
    "  service-key                              print a long-lived service_role access token for admin calls",
    "  rotate-keys                              add the next signing key (published now, signing after",
    "                                           jwt.rotation_delay_seconds); running servers pick it up",
    "  help                                     show this text",
    "",
    "Configuration: conf/config.json (or PORTCULLIS_CONFIG), overridden by PORTCULLIS_* environment variables.");

  private Commands() {
  }

  public static int run(String[] args, Map<String, String> env) {
    return run(args, env, Clock.systemUTC());
  }

  /** {@code clock}: what the tools stamp their writes with (tests pass the clock of the app beside them). */
  public static int run(String[] args, Map<String, String> env, Clock clock) {
    // Netty's own JFR events (buffer allocator chunks) are off unless asked for (-Dio.netty.jfr.enabled=true): with
    // them on, Netty's first buffer makes the JVM load its whole event metadata and generate event handler classes,
    // some 130 classes and a tenth of a second of a start, for events only a recording would see.
    if (System.getProperty(NETTY_JFR) == null) {
      System.setProperty(NETTY_JFR, "false");
    }
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    String command = args.length == 0 ? "serve" : args[0];
    Map<String, String> options;
    try {
      options = options(args);
    } catch (IllegalArgumentException e) {
      return usage(e.getMessage());
    }
    if (command.equals("help") || command.equals("--help") || command.equals("-h")) {
      System.out.println(USAGE);
      return 0;
    }
    Config config;
    try {
      config = ConfigLoader.load(env);
    } catch (ConfigException e) {
      System.err.println("Invalid configuration: " + e.getMessage());
      return 2;
    }
    if (command.equals("serve")) {
      // The service's log stays on stdout, where a container runtime collects it.
      return runCatching(command, () -> serve(config));
    }
    // A one-shot command's stdout carries only its result, so TOKEN=$(... service-key) captures the token alone:
    // everything else written to stdout meanwhile (the log: logback's console appender writes to whatever
    // System.out is at the time) goes to stderr.
    PrintStream result = System.out;
    System.setOut(System.err);
    try {
      return runCatching(command, () -> switch (command) {
        case "migrate" -> {
          Server.prepareDatabase(config).close();
          result.println("Migrations applied.");
          yield 0;
        }
        case "create-user" -> createUser(config, options, clock, result);
        case "service-key" -> serviceKey(config, result);
        case "rotate-keys" -> rotateKeys(config, result);
        default -> usage("Unknown command: " + command);
      });
    } finally {
      System.setOut(result);
    }
  }

  private static int runCatching(String command, IntSupplier task) {
    try {
      return task.getAsInt();
    } catch (AuthException e) {
      System.err.println(e.code().code() + ": " + e.getMessage());
      return 1;
    } catch (RuntimeException e) {
      LOG.error("{} failed", command, e);
      System.err.println(command + " failed: " + e.getMessage());
      return 1;
    }
  }

  private static int usage(String problem) {
    System.err.println(problem);
    System.err.println(USAGE);
    return 2;
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 1; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("Unexpected argument: " + arg);
      }
      int eq = arg.indexOf('=');
      if (eq > 0) {
        options.put(arg.substring(2, eq), arg.substring(eq + 1));
      } else if (i + 1 < args.length) {
        options.put(arg.substring(2), args[++i]);
      } else {
        throw new IllegalArgumentException("Option " + arg + " needs a value");
      }
    }
    return options;
  }

  private static int serve(Config config) {
    // The database is opened (the embedded server started) and checked, and what the verticles need is read from
    // the jar (the OpenAPI document alone is 300 KB of JSON), each on a thread of its own while this one makes Vert.x:
    // a start is mostly loading classes and running cold code, and these parts share little, so on two cores the
    // start takes about the longest of them rather than their sum.
    FutureTask<Database> preparing = new FutureTask<>(() -> Server.prepareDatabase(config));
    new Thread(preparing, "portcullis-database-start").start();
    FutureTask<Server.Resources> reading = new FutureTask<>(() -> Server.Resources.load(config));
    new Thread(reading, "portcullis-resources").start();
    VertxOptions options = Server.vertxOptions(config);
    Vertx vertx;
    Server.Resources resources;
    try {
      vertx = await(Clustering.vertx(config, options));
    } catch (RuntimeException e) {
      closeOnceOpened(preparing);
      throw e;
    }
    Database database;
    try {
      resources = join(reading);
      database = join(preparing);
    } catch (RuntimeException e) {
      closeOnceOpened(preparing);
      await(vertx.close());
      throw e;
    }
    Server server;
    try {
      server = await(Server.start(config, database, vertx, options, Clock.systemUTC(), resources));
    } catch (RuntimeException e) {
      await(vertx.close());
      database.close();
      throw e;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("Shutting down");
      try {
        server.stop(Duration.ofMillis(config.shutdownGraceMs() + 20_000L));
      } catch (Exception e) {
        LOG.warn("Vert.x did not stop cleanly: {}", e.toString());
      }
      database.close();
      stopped.countDown();
    }, "portcullis-shutdown"));
    // From now on the hook above closes the database, after the requests in flight are answered; the embedded
    // PostgreSQL's own exit hook stopped it under them (a sign-up being hashed at SIGTERM answered 500).
    database.closeInCallersShutdownHook();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private static int createUser(Config config, Map<String, String> options, Clock clock, PrintStream result) {
    String email = Inputs.email(required(options, "email"));
    String password = required(options, "password");
    String role = options.getOrDefault("role", "authenticated");
    if (!Inputs.isRoleName(role)) {
      throw new IllegalArgumentException("--role must be lower-case letters, digits and underscores");
    }
    new PasswordPolicy(config.password()).check(password);
    String hash = new PasswordHasher(config.password(), new SecureRandom()).hash(password);
    JsonObject user = withDatabase(config, (vertx, database) -> {
      Pool pool = Pools.shared(vertx, database.connectOptions(), 2);
      OffsetDateTime now = Rows.now(clock);
      UUID id = UUID.randomUUID();
      // No running server's session cache to tell: a new user has no sessions.
      Events events = new Events(vertx, pool, clock, userId -> { });
      return new UserRepository(pool).insert(id, email, hash, now, role, new JsonObject(), now)
        .compose(row -> events.emit(Events.SIGNED_UP, id, null, null, null))
        .map(done -> new JsonObject().put("id", id.toString()).put("email", email).put("role", role));
    });
    result.println(user.encodePrettily());
    return 0;
  }

  private static int serviceKey(Config config, PrintStream result) {
    Instant now = Instant.now();
    String key = withDatabase(config, (vertx, database) ->
      Server.loadKeys(vertx, config, database, Clock.systemUTC(), new SecureRandom())
        .compose(keys -> {
          String token = new TokenSigner(vertx, keys, config.jwt())
            .serviceKey("service_role", now, config.jwt().serviceKeyExp());
          if (config.jwt().symmetric()) {
            return Future.succeededFuture(token);
          }
          // Its key must stay published as long as this token lives, rotations or not.
          Pool pool = Pools.shared(vertx, database.connectOptions(), 2);
          return SigningKeys.recordExpiry(pool, keys.signingKid(),
              OffsetDateTime.ofInstant(now.plusSeconds(config.jwt().serviceKeyExp()), ZoneOffset.UTC))
            .map(done -> token);
        }));
    result.println(key);
    return 0;
  }

  private static int rotateKeys(Config config, PrintStream result) {
    JsonObject rotated = withDatabase(config, (vertx, database) -> {
      Pool pool = Pools.shared(vertx, database.connectOptions(), 2);
      return SigningKeys.rotate(vertx, pool, config.jwt(), Clock.systemUTC(), new SecureRandom());
    });
    result.println(rotated.encodePrettily());
    return 0;
  }

  private static String required(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return value;
  }

  /** Runs one database task on a short-lived Vert.x, waiting for it on this (main) thread. */
  private static <T> T withDatabase(Config config, BiFunction<Vertx, Database, Future<T>> task) {
    Database database = Server.prepareDatabase(config);
    Vertx vertx = Vertx.vertx();
    try {
      return await(task.apply(vertx, database));
    } finally {
      await(vertx.close());
      database.close();
    }
  }

  /** What {@code task} made, or its failure. */
  private static <T> T join(FutureTask<T> task) {
    try {
      return task.get();
    } catch (ExecutionException e) {
      throw unwrapped(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The failure a wait reported, thrown as it was when it is unchecked. */
  private static RuntimeException unwrapped(ExecutionException e) {
    if (e.getCause() instanceof RuntimeException runtime) {
      return runtime;
    }
    if (e.getCause() instanceof Error error) {
      throw error;
    }
    return new IllegalStateException(e.getCause());
  }

  /** After another part of the start failed: the database, once open, is closed (an embedded server stopped). */
  private static void closeOnceOpened(FutureTask<Database> preparing) {
    try {
      join(preparing).close();
    } catch (RuntimeException | Error e) {
      // Opening it failed too: nothing to close; the failure being thrown says what went wrong first.
    }
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw unwrapped(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("timed out", e);
    }
  }
}
