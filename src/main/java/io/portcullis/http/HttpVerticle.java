package io.portcullis.http;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.limit.ClientIp;
import io.portcullis.limit.HashGate;
import io.portcullis.limit.RateLimiter;
import io.portcullis.metrics.AuthMetrics;
import io.portcullis.session.SessionCache;
import io.portcullis.token.KeyRing;
import io.portcullis.token.KeySet;
import io.portcullis.token.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.JWTAuthHandler;
import io.vertx.ext.web.handler.PlatformHandler;
import io.vertx.ext.web.handler.TimeoutHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;


import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Set;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static io.vertx.core.http.HttpMethod.PUT;

/**
 * HTTP routing only, one instance per event loop: the route table in one place, JWTAuthHandler on
 * Bearer routes, one failure handler for every error. The work is done behind the event bus.
 */
public final class HttpVerticle extends VerticleBase {

  public static final String BASE = "/auth/v1";
  private static final boolean BODY = true;
  private static final boolean NO_BODY = false;

  private final Config config;
  private final KeyRing keys;
  private final SessionCache sessions;
  private final AuthMetrics metrics;
  private final Clock clock;
  private final RateLimiter limiter;
  private final HashGate hashing;
  private final Readiness readiness;
  private final OpenApiRoutes openapi;
  private HttpServer server;
  private Router router;

  /**
   * Every argument is shared by the process's instances (and kept fresh by {@link HttpHousekeeping} and the
   * keys' owner); each instance builds its own router and verifier.
   */
  public HttpVerticle(Config config, KeyRing keys, SessionCache sessions, AuthMetrics metrics, Clock clock,
                      RateLimiter limiter, HashGate hashing, Readiness readiness, OpenApiRoutes openapi) {
    this.config = config;
    this.keys = keys;
    this.sessions = sessions;
    this.metrics = metrics;
    this.clock = clock;
    this.limiter = limiter;
    this.hashing = hashing;
    this.readiness = readiness;
    this.openapi = openapi;
  }

  @Override
  public Future<?> start() {
    AuthBus bus = new AuthBus(vertx, config.http().busTimeoutMs());
    KeySet current = keys.current();
    TokenVerifier verifier = new TokenVerifier(vertx, current, config.jwt(), clock);
    MetaRoutes meta = new MetaRoutes(config, bus, current.publishedJwks(), readiness);
    SecurityHeaders securityHeaders = new SecurityHeaders(config.externalUrl());
    router = Router.router(vertx);
    guards(router, securityHeaders);
    routes(router, new Handlers(bus, verifier, meta));

    server = vertx.createHttpServer(serverOptions())
      .invalidRequestHandler(request -> FailureHandler.invalidRequest(request, securityHeaders))
      .requestHandler(router);
    // A rotation, announced once by the keys' owner: this instance's verifier and JWKS follow the ring (read again
    // once the consumer is registered, in case a reload came in between).
    Runnable followKeys = () -> {
      KeySet next = keys.current();
      if (next != current) {
        verifier.update(next.verificationJwks());
        meta.useJwks(next.publishedJwks());
      }
    };
    MessageConsumer<Object> keysChanged = vertx.eventBus().localConsumer(Addresses.KEYS_CHANGED,
      msg -> followKeys.run());
    return keysChanged.completion().compose(registered -> {
      followKeys.run();
      return server.listen();
    });
  }

  /** What every request passes before its route: log, headers, CORS, client address, deadline, sane input. */
  private void guards(Router router, SecurityHeaders securityHeaders) {
    router.route().handler(RequestLog::handle);
    // Before CORS, which answers preflight requests itself: those get the headers too.
    router.route().handler(securityHeaders::handle);
    router.route().handler(cors(config));
    // Cookie mode: a request without an Authorization header is authenticated by the access cookie, if any.
    router.route().handler(new SessionCookies(config)::bearerFromCookie);
    ClientIp clientIp = new ClientIp(config.http().trustedProxies(), config.http().clientIpHeader());
    router.route().handler(ctx -> {
      String peer = ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress();
      ctx.put(Requests.CLIENT_IP, clientIp.resolve(peer, ctx.request()::getHeader));
      ctx.next();
    });
    // No request may hold a connection longer than this, whatever it waits on (503 service_unavailable).
    router.route().handler(TimeoutHandler.create(config.http().requestTimeoutMs(), 503));
    router.route().handler(HttpVerticle::echoApiVersion);
    router.route().handler(HttpVerticle::refuseMalformedQuery);
    router.route().handler(HttpVerticle::refuseUndecodableForm);
    FailureHandler failures = new FailureHandler(false, config.mailer().sendIntervalSeconds());
    for (int status : new int[] {400, 403, 404, 405, 413, 500, 503}) {
      router.errorHandler(status, failures.forStatus(status));
    }
  }

  /** The route table. Bearer routes check the token, then (admin routes) the caller's admin rights. */
  private void routes(Router router, Handlers h) {
    router.get("/health").handler(h.meta::liveness);
    router.get("/ready").handler(h.meta::readiness);
    if (metrics.registryName() != null) {
      router.get("/metrics").handler(PrometheusScrapingHandler.create(metrics.registryName()));
    }

    // Without email, phone and password a sign-up is anonymous (own rate-limit bucket, answered by security).
    open(router, POST, "/signup", h.body, h.security::signupLimit, h.security::anonymousSignup, h.auth::signup);
    // Form requests are marked before the body is read, so that a form body refused while reading it (too
    // large, bad encoding) still gets RFC 6749's error fields. A platform handler, so that it may come before the
    // body handler on a single route: two routes for the path made its metrics label "/token>/token".
    PlatformHandler markForm = ctx -> {
      ctx.put(FailureHandler.FORM_REQUEST, Requests.isForm(ctx));
      ctx.next();
    };
    open(router, POST, "/token", markForm, h.body, h.limits::token, h.auth::token);
    open(router, POST, "/recover", h.body, h.limits.recover, ctx -> h.auth.mailFlow(ctx, Addresses.ACCOUNT_RECOVER));
    open(router, POST, "/otp", h.body, h.limits.otp, ctx -> h.auth.mailFlow(ctx, Addresses.ACCOUNT_OTP));
    open(router, POST, "/magiclink", h.body, h.limits.otp, ctx -> h.auth.mailFlow(ctx, Addresses.ACCOUNT_OTP));
    open(router, POST, "/resend", h.body, h.limits.resend, ctx -> h.auth.mailFlow(ctx, Addresses.ACCOUNT_RESEND));
    open(router, POST, "/verify", h.body, h.limits.verify, h.auth::verify);
    open(router, GET, "/verify", h.limits.verify, h.auth::verifyLink);
    open(router, GET, "/settings", h.meta::settings);
    open(router, GET, "/health", h.meta::health);
    open(router, GET, "/.well-known/jwks.json", h.meta::jwks);
    open(router, GET, "/.well-known/openid-configuration", h.meta::discovery);
    open(router, POST, "/oauth/revoke", h.body, h.auth::revoke);
    open(router, GET, "/authorize", h.limits.otp, h.external::authorize);
    open(router, GET, "/callback", h.limits.verify, h.external::callback);
    open(router, POST, "/callback", h.body, h.limits.verify, h.external::callback);

    userAndAdminRoutes(router, h);

    // "Try it": the OpenAPI document of every route above (OpenApiTest holds the two together) and Swagger UI.
    router.get("/openapi.json").handler(openapi::document);
    router.get("/docs").handler(openapi::docs);
    router.get("/docs/*").handler(openapi.assets());

    // Last, so that the Bearer routes' own failure handler comes first for them.
    router.route().failureHandler(h.failures);
  }

  /** Bearer routes of the signed-in user, then the admin routes. */
  private void userAndAdminRoutes(Router router, Handlers h) {
    bearer(router, h, GET, "/user", NO_BODY, h.auth::alive, h.auth::getUser);
    bearer(router, h, PUT, "/user", BODY, h.limits.userUpdate, h.auth::alive, h.security::beforeUserUpdate,
      h.auth::updateUser);
    bearer(router, h, POST, "/logout", BODY, h.cookies::clearOnSignOut, h.auth::alive, h.auth::logout);
    bearer(router, h, GET, "/user/identities/authorize", NO_BODY, h.auth::alive, h.external::linkAuthorize);
    bearer(router, h, DELETE, "/user/identities/:id", BODY, h.auth::alive, h.external::unlink);
    bearer(router, h, GET, "/userinfo", BODY, h.auth::alive, h.auth::userinfo);
    bearer(router, h, POST, "/userinfo", BODY, h.auth::alive, h.auth::userinfo);

    String users = "/admin/users";
    admin(router, h, GET, users, NO_BODY, h.admin::listUsers);
    admin(router, h, POST, users, BODY, h.admin::createUser);
    admin(router, h, GET, users + "/:id", NO_BODY, h.admin::getUser);
    admin(router, h, PUT, users + "/:id", BODY, h.admin::updateUser);
    admin(router, h, DELETE, users + "/:id", BODY, h.admin::deleteUser);
    admin(router, h, POST, users + "/:id/unlock", NO_BODY, h.admin::unlock);
    admin(router, h, POST, "/oauth/introspect", BODY, h.auth::introspect);
    admin(router, h, POST, "/admin/keys/rotate", NO_BODY, h.admin::rotateKeys);
    admin(router, h, GET, "/admin/audit", NO_BODY, h.admin::audit);
    admin(router, h, POST, "/admin/generate_link", BODY, h.admin::generateLink);
    admin(router, h, POST, "/invite", BODY, h.admin::invite);
    // Account security: sessions, TOTP factors and recovery codes, re-authentication.
    h.security.register(router, h.body, h.bearer, h.auth::alive, h.admin::requireAdmin, h.bearerFailures);
  }

  /** What the route table refers to, made once per instance. */
  private final class Handlers {
    final BodyHandler body = BodyHandler.create(false)
      .setBodyLimit(config.http().bodyLimitBytes())
      .setMergeFormAttributes(false);
    final Limits limits = new Limits(config, limiter, metrics);
    final FailureHandler failures = new FailureHandler(false, config.mailer().sendIntervalSeconds());
    /** On Bearer routes 400 and 401 come from JWTAuthHandler: token errors. */
    final FailureHandler bearerFailures = new FailureHandler(true, config.mailer().sendIntervalSeconds());
    final AuthRoutes auth;
    final AdminRoutes admin;
    final SecurityRoutes security;
    final MetaRoutes meta;
    final Handler<RoutingContext> bearer;
    final SessionCookies cookies = new SessionCookies(config);
    final ExternalRoutes external;

    Handlers(AuthBus bus, TokenVerifier verifier, MetaRoutes meta) {
      this.auth = new AuthRoutes(bus, config, hashing, sessions, cookies);
      this.external = new ExternalRoutes(bus, config.federation().manualLinkingEnabled());
      this.admin = new AdminRoutes(bus);
      this.security = new SecurityRoutes(bus, limits);
      this.meta = meta;
      // Cookie mode: the CSRF check of cookie-authenticated requests comes before the token check.
      this.bearer = cookies.guard(JWTAuthHandler.create(verifier.provider()));
    }
  }

  /** A route under {@link #BASE} anyone may call. */
  @SafeVarargs
  private static void open(Router router, HttpMethod method, String path, Handler<RoutingContext>... chain) {
    Route route = router.route(method, BASE + path);
    for (Handler<RoutingContext> handler : chain) {
      route.handler(handler);
    }
  }

  /**
   * A route for a Bearer token's holder. A body is read before the token is checked (the body handler must come
   * before anything asynchronous); failures are rendered as token errors.
   */
  @SafeVarargs
  private static void bearer(Router router, Handlers h, HttpMethod method, String path, boolean readsBody,
                             Handler<RoutingContext>... chain) {
    Route route = router.route(method, BASE + path);
    if (readsBody) {
      route.handler(h.body);
    }
    route.handler(h.bearer);
    for (Handler<RoutingContext> handler : chain) {
      route.handler(handler);
    }
    route.failureHandler(h.bearerFailures);
  }

  /** A Bearer route for admins only (a service key, or a user with an admin role). */
  private static void admin(Router router, Handlers h, HttpMethod method, String path, boolean readsBody,
                            Handler<RoutingContext> handler) {
    bearer(router, h, method, path, readsBody, h.admin::requireAdmin, handler);
  }

  private static void echoApiVersion(RoutingContext ctx) {
    String version = ctx.request().getHeader(FailureHandler.API_VERSION);
    if (version != null && version.length() <= 32) {
      ctx.response().putHeader(FailureHandler.API_VERSION, version);
    }
    ctx.next();
  }

  /**
   * A query string that does not decode (a stray '%') is the client's error: refused here, once, rather than
   * thrown by the first getParam of a handler (500).
   */
  private static void refuseMalformedQuery(RoutingContext ctx) {
    try {
      ctx.request().params();
    } catch (IllegalArgumentException e) {
      throw AuthException.validation("Malformed query string");
    }
    ctx.next();
  }

  /**
   * BodyHandler sets up Netty's form decoder for form and multipart bodies, which throws on some Content-Types
   * (an empty multipart boundary): a 400 here rather than a 500 there.
   */
  private static void refuseUndecodableForm(RoutingContext ctx) {
    if (!Requests.formDecodable(ctx)) {
      throw AuthException.validation("Malformed Content-Type");
    }
    ctx.next();
  }

  private HttpServerOptions serverOptions() {
    return new HttpServerOptions()
      .setHost(config.http().host())
      .setPort(config.http().port())
      .setMaxInitialLineLength(8192)
      .setMaxHeaderSize(16384)
      // No cleartext HTTP/2: Vert.x answers an "Upgrade: h2c" without HTTP2-Settings with a 400 that has no length
      // and leaves the connection open, so the client hangs until the idle timeout. Clients here speak HTTP/1.1;
      // HTTP/2 belongs on TLS, at the proxy.
      .setHttp2ClearTextEnabled(false)
      // Slow or idle clients (slow-loris) are closed once nothing moves for this long.
      .setIdleTimeout(config.http().idleTimeoutSeconds());
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
        "x-requested-with", "x-csrf-token"))
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
      : server.shutdown(config.shutdownGraceMs(), java.util.concurrent.TimeUnit.MILLISECONDS);
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
