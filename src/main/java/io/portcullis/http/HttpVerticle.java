package io.portcullis.http;

import io.portcullis.AppContext;
import io.portcullis.Readiness;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.limit.ClientIp;
import io.portcullis.limit.HashGate;
import io.portcullis.limit.RateLimiter;
import io.portcullis.token.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.JWTAuthHandler;
import io.vertx.ext.web.handler.PlatformHandler;
import io.vertx.ext.web.handler.TimeoutHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * HTTP routing only, one instance per event loop: the route table of API.md §1 in one place, JWTAuthHandler on
 * Bearer routes, one failure handler for every error. The work is done behind the event bus.
 */
public final class HttpVerticle extends VerticleBase {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HttpVerticle.class);

  public static final String BASE = "/auth/v1";

  private final AppContext app;
  private final RateLimiter limiter;
  private final HashGate hashing;
  private final Readiness readiness;
  private HttpServer server;
  private Router router;

  /** {@code limiter}, {@code hashing} and {@code readiness} are shared by every instance of the process. */
  public HttpVerticle(AppContext app, RateLimiter limiter, HashGate hashing, Readiness readiness) {
    this.app = app;
    this.limiter = limiter;
    this.hashing = hashing;
    this.readiness = readiness;
  }

  @Override
  public Future<?> start() {
    AuthBus bus = new AuthBus(vertx, 30_000);
    AuthRoutes auth = new AuthRoutes(bus, app.config(), hashing, app.sessions());
    Limits limits = new Limits(app.config(), limiter, app.metrics());
    MetaRoutes meta = new MetaRoutes(app.config(), bus, app.keys().publishedJwks(), readiness);
    TokenVerifier verifier = new TokenVerifier(vertx, app.keys(), app.config().jwt(), app.clock());
    JWTAuthHandler bearer = JWTAuthHandler.create(verifier.provider());
    BodyHandler body = BodyHandler.create(false)
      .setBodyLimit(app.config().http().bodyLimitBytes())
      .setMergeFormAttributes(false);
    FailureHandler failures = new FailureHandler(false, app.config().mailer().sendIntervalSeconds());

    Router router = Router.router(vertx);
    router.route().handler(RequestLog::handle);
    boolean https = app.config().externalUrl().startsWith("https://");
    // Before CORS, which answers preflight requests itself: those get the headers too.
    router.route().handler(ctx -> {
      ctx.response().headers()
        .add("X-Content-Type-Options", "nosniff")
        .add("Referrer-Policy", "no-referrer")
        .add("X-Frame-Options", "DENY")
        .add("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
      if (https) {
        ctx.response().headers().add("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
      }
      ctx.next();
    });
    router.route().handler(cors(app.config()));
    ClientIp clientIp = new ClientIp(app.config().http().trustedProxies(), app.config().http().clientIpHeader());
    router.route().handler(ctx -> {
      String peer = ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress();
      ctx.put(Requests.CLIENT_IP, clientIp.resolve(peer, ctx.request()::getHeader));
      ctx.next();
    });
    // No request may hold a connection longer than this, whatever it waits on (503 service_unavailable).
    router.route().handler(TimeoutHandler.create(app.config().http().requestTimeoutMs(), 503));
    router.route().handler(ctx -> {
      String version = ctx.request().getHeader(FailureHandler.API_VERSION);
      if (version != null && version.length() <= 32) {
        ctx.response().putHeader(FailureHandler.API_VERSION, version);
      }
      ctx.next();
    });
    // A query string that does not decode (a stray '%') is the client's error: refused here, once, rather than
    // thrown by the first getParam of a handler (500).
    router.route().handler(ctx -> {
      try {
        ctx.request().params();
      } catch (IllegalArgumentException e) {
        throw AuthException.validation("Malformed query string");
      }
      ctx.next();
    });
    // BodyHandler sets up Netty's form decoder for form and multipart bodies, which throws on some Content-Types
    // (an empty multipart boundary): a 400 here rather than a 500 there.
    router.route().handler(ctx -> {
      if (!Requests.formDecodable(ctx)) {
        throw AuthException.validation("Malformed Content-Type");
      }
      ctx.next();
    });
    for (int status : new int[] {400, 403, 404, 405, 413, 500, 503}) {
      router.errorHandler(status, failures.forStatus(status));
    }

    router.get("/health").handler(meta::liveness);
    router.get("/ready").handler(meta::readiness);
    if (app.metrics().registryName() != null) {
      router.get("/metrics").handler(PrometheusScrapingHandler.create(app.metrics().registryName()));
    }

    SecurityRoutes security = new SecurityRoutes(bus, limits);
    // Without email, phone and password a sign-up is anonymous (own rate-limit bucket, answered by security).
    router.post(BASE + "/signup").handler(body).handler(security::signupLimit).handler(security::anonymousSignup)
      .handler(auth::signup);
    // Form requests are marked before the body is read, so that a form body refused while reading it (too
    // large, bad encoding) still gets RFC 6749's error fields. A platform handler, so that it may come before the
    // body handler on a single route: two routes for the path made its metrics label "/token>/token".
    PlatformHandler markForm = ctx -> {
      ctx.put(FailureHandler.FORM_REQUEST, Requests.isForm(ctx));
      ctx.next();
    };
    router.post(BASE + "/token").handler(markForm).handler(body).handler(limits::token).handler(auth::token);
    router.post(BASE + "/recover").handler(body).handler(limits.recover).handler(ctx -> auth.mailFlow(ctx, Addresses.ACCOUNT_RECOVER));
    router.post(BASE + "/otp").handler(body).handler(limits.otp).handler(ctx -> auth.mailFlow(ctx, Addresses.ACCOUNT_OTP));
    router.post(BASE + "/magiclink").handler(body).handler(limits.otp).handler(ctx -> auth.mailFlow(ctx, Addresses.ACCOUNT_OTP));
    router.post(BASE + "/resend").handler(body).handler(limits.resend).handler(ctx -> auth.mailFlow(ctx, Addresses.ACCOUNT_RESEND));
    router.post(BASE + "/verify").handler(body).handler(limits.verify).handler(auth::verify);
    router.get(BASE + "/verify").handler(limits.verify).handler(auth::verifyLink);
    router.get(BASE + "/settings").handler(meta::settings);
    router.get(BASE + "/health").handler(meta::health);
    router.get(BASE + "/.well-known/jwks.json").handler(meta::jwks);
    router.get(BASE + "/.well-known/openid-configuration").handler(meta::discovery);

    FailureHandler bearerFailures = new FailureHandler(true, app.config().mailer().sendIntervalSeconds());
    router.get(BASE + "/user").handler(bearer).handler(auth::alive).handler(auth::getUser)
      .failureHandler(bearerFailures);
    router.put(BASE + "/user").handler(body).handler(bearer).handler(limits.userUpdate).handler(auth::alive)
      .handler(security::beforeUserUpdate).handler(auth::updateUser)
      .failureHandler(bearerFailures);
    router.post(BASE + "/logout").handler(body).handler(bearer).handler(auth::alive).handler(auth::logout)
      .failureHandler(bearerFailures);
    for (HttpMethod method : new HttpMethod[] {HttpMethod.GET, HttpMethod.POST}) {
      router.route(method, BASE + "/userinfo").handler(body).handler(bearer).handler(auth::alive)
        .handler(auth::userinfo).failureHandler(bearerFailures);
    }
    AdminRoutes admin = new AdminRoutes(bus);
    String users = BASE + "/admin/users";
    router.get(users).handler(bearer).handler(admin::requireAdmin).handler(admin::listUsers)
      .failureHandler(bearerFailures);
    router.post(users).handler(body).handler(bearer).handler(admin::requireAdmin).handler(admin::createUser)
      .failureHandler(bearerFailures);
    router.get(users + "/:id").handler(bearer).handler(admin::requireAdmin).handler(admin::getUser)
      .failureHandler(bearerFailures);
    router.put(users + "/:id").handler(body).handler(bearer).handler(admin::requireAdmin).handler(admin::updateUser)
      .failureHandler(bearerFailures);
    router.delete(users + "/:id").handler(body).handler(bearer).handler(admin::requireAdmin).handler(admin::deleteUser)
      .failureHandler(bearerFailures);
    router.post(BASE + "/oauth/introspect").handler(body).handler(bearer).handler(admin::requireAdmin)
      .handler(auth::introspect).failureHandler(bearerFailures);
    router.post(BASE + "/oauth/revoke").handler(body).handler(auth::revoke);
    router.post(BASE + "/admin/keys/rotate").handler(bearer).handler(admin::requireAdmin).handler(admin::rotateKeys)
      .failureHandler(bearerFailures);
    router.post(users + "/:id/unlock").handler(bearer).handler(admin::requireAdmin).handler(admin::unlock)
      .failureHandler(bearerFailures);
    router.get(BASE + "/admin/audit").handler(bearer).handler(admin::requireAdmin).handler(admin::audit)
      .failureHandler(bearerFailures);
    // Account security: sessions, TOTP factors and recovery codes, re-authentication.
    security.register(router, body, bearer, auth::alive, admin::requireAdmin, bearerFailures);

    // "Try it": the OpenAPI document of every route above (OpenApiTest holds the two together) and Swagger UI.
    OpenApiRoutes openapi = new OpenApiRoutes(app.config());
    router.get("/openapi.json").handler(openapi::document);
    router.get("/docs").handler(openapi::docs);
    router.get("/docs/*").handler(OpenApiRoutes.assets());
    this.router = router;

    // Last, so that the Bearer routes' own failure handler comes first for them.
    router.route().failureHandler(failures);

    HttpServerOptions options = new HttpServerOptions()
      .setHost(app.config().http().host())
      .setPort(app.config().http().port())
      .setMaxInitialLineLength(8192)
      .setMaxHeaderSize(16384)
      // No cleartext HTTP/2: Vert.x answers an "Upgrade: h2c" without HTTP2-Settings with a 400 that has no length
      // and leaves the connection open, so the client hangs until the idle timeout. Clients here speak HTTP/1.1;
      // HTTP/2 belongs on TLS, at the proxy.
      .setHttp2ClearTextEnabled(false)
      // Slow or idle clients (slow-loris) are closed once nothing moves for this long.
      .setIdleTimeout(app.config().http().idleTimeoutSeconds());
    server = vertx.createHttpServer(options).invalidRequestHandler(FailureHandler::invalidRequest)
      .requestHandler(router);
    // Events of other processes (a clustered bus) make this process's cached session liveness stale too.
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS, msg -> app.sessions().invalidateUser(msg.body().getString("user_id")));
    vertx.eventBus().<JsonObject>localConsumer(Addresses.KEYS_CHANGED, msg -> {
      List<JsonObject> verification = new ArrayList<>();
      msg.body().getJsonArray("verification").forEach(jwk -> verification.add((JsonObject) jwk));
      verifier.update(verification);
      meta.useJwks(msg.body().getJsonArray("published"));
    });
    if (!app.config().rateLimitsEnabled()) {
      LOG.warn("Rate limits are OFF (rate_limits / PORTCULLIS_RATE_LIMITS): use this for load tests only");
    }
    vertx.setPeriodic(60_000, id -> limiter.evictFull(limits.byName()));
    return server.listen();
  }

  /**
   * CORS for browser clients: supabase-js's headers, and {@code x-requested-with}, which Swagger UI 5 (FastAPI's
   * /docs "Authorize") sends with its token request.
   */
  private static CorsHandler cors(Config config) {
    List<String> origins = config.cors().allowedOrigins().isEmpty()
      ? List.of(config.siteUrl())
      : config.cors().allowedOrigins();
    CorsHandler cors = CorsHandler.create()
      .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE))
      .allowedHeaders(Set.of("authorization", "apikey", "content-type", "x-client-info", "x-supabase-api-version",
        "x-requested-with"))
      .exposedHeaders(Set.of("X-Total-Count", "Link", "X-Supabase-Api-Version"))
      .allowCredentials(config.cors().allowCredentials() && !origins.contains("*"))
      .maxAgeSeconds(600);
    if (!origins.contains("*")) {
      cors.addOrigins(origins);
      // The service's own pages (/docs) call it from its external URL, and browsers send Origin on same-origin
      // POST/PUT/DELETE too: without this, Swagger UI's "Authorize" and "Try it out" got 403 origin_not_allowed.
      String self = origin(config.externalUrl());
      if (!origins.contains(self)) {
        cors.addOrigin(self);
      }
    }
    return cors;
  }

  /** Graceful: stops accepting, lets requests in flight finish for up to {@code shutdown.grace_ms}. */
  @Override
  public Future<?> stop() {
    return server == null
      ? Future.succeededFuture()
      : server.shutdown(app.config().shutdownGraceMs(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** {@code scheme://host[:port]} of a URL. */
  private static String origin(String url) {
    URI uri = URI.create(url);
    return uri.getScheme() + "://" + uri.getRawAuthority();
  }

  /** The routes of this instance, as OpenApiTest compares them with /openapi.json. */
  public List<Route> routes() {
    return router.getRoutes();
  }

  /** The port actually bound (configured port 0 picks a free one). */
  public int port() {
    return server.actualPort();
  }
}
