package io.portcullis.http;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.config.Config;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Endpoints that describe the service: settings, health, readiness, discovery and JWKS. */
final class MetaRoutes {

  static final String VERSION = MetaRoutes.class.getPackage().getImplementationVersion() == null
    ? "dev" : MetaRoutes.class.getPackage().getImplementationVersion();

  private final Config config;
  private final Readiness readiness;
  private final AuthBus bus;
  private volatile String jwks;
  private final String settings;
  private final String discovery;
  private final String health;

  MetaRoutes(Config config, AuthBus bus, JsonArray publishedKeys, Readiness readiness) {
    this.config = config;
    this.readiness = readiness;
    this.bus = bus;
    this.jwks = new JsonObject().put("keys", publishedKeys).encode();
    JsonObject external = new JsonObject()
      .put("email", true).put("phone", false).put("anonymous_users", config.signup().anonymousEnabled())
      .put("apple", false).put("azure", false).put("github", false).put("google", false)
      .put("gitlab", false).put("keycloak", false).put("oidc", false);
    config.federation().providers().keySet().forEach(name -> external.put(name, true));
    this.settings = new JsonObject()
      .put("external", external)
      .put("disable_signup", config.signup().disabled())
      .put("mailer_autoconfirm", config.signup().autoconfirm())
      .put("phone_autoconfirm", false)
      .put("sms_provider", "")
      .put("saml_enabled", false)
      .put("anonymous_users_enabled", config.signup().anonymousEnabled())
      .put("password_min_length", config.password().minLength())
      .encode();
    String base = config.publicBaseUrl();
    this.discovery = new JsonObject()
      .put("issuer", config.jwt().issuer())
      .put("jwks_uri", base + "/.well-known/jwks.json")
      .put("token_endpoint", base + "/token")
      .put("userinfo_endpoint", base + "/userinfo")
      .put("introspection_endpoint", base + "/oauth/introspect")
      .put("revocation_endpoint", base + "/oauth/revoke")
      .put("grant_types_supported", new JsonArray().add("password").add("refresh_token"))
      .put("response_types_supported", new JsonArray().add("token"))
      .put("subject_types_supported", new JsonArray().add("public"))
      .put("id_token_signing_alg_values_supported", new JsonArray().add(config.jwt().algorithm()))
      .put("token_endpoint_auth_methods_supported", new JsonArray().add("none").add("client_secret_post"))
      .put("scopes_supported", new JsonArray().add("openid").add("email").add("profile"))
      .put("claims_supported", new JsonArray().add("iss").add("sub").add("aud").add("exp").add("iat")
        .add("email").add("email_verified").add("phone").add("phone_verified").add("role").add("session_id"))
      .encode();
    this.health = new JsonObject()
      .put("version", VERSION)
      .put("name", "Portcullis")
      .put("description", "Portcullis is an authentication service speaking the Supabase Auth (GoTrue) API")
      .encode();
  }

  void settings(RoutingContext ctx) {
    json(ctx, settings);
  }

  void health(RoutingContext ctx) {
    json(ctx, health);
  }

  void liveness(RoutingContext ctx) {
    json(ctx, new JsonObject().put("status", "ok").encode());
  }

  /** 200 when the database answers (migrations ran before anything deployed), else 503. */
  void readiness(RoutingContext ctx) {
    if (readiness.shuttingDown()) {
      unready(ctx, new JsonObject().put("status", "shutting_down"));
      return;
    }
    bus.request(Addresses.READY, new JsonObject())
      .onSuccess(status -> {
        boolean ready = "applied".equals(status.getString("migrations")) && "loaded".equals(status.getString("keys"));
        JsonObject body = status.copy().put("status", ready ? "ready" : "unavailable");
        if (ready) {
          ctx.json(body);
        } else {
          unready(ctx, body);
        }
      })
      .onFailure(e -> unready(ctx, new JsonObject().put("status", "unavailable").put("database", "down")));
  }

  private static void unready(RoutingContext ctx, JsonObject body) {
    ctx.response().setStatusCode(503).putHeader("Content-Type", "application/json").end(body.encode());
  }

  /** After a key rotation took effect. */
  void useJwks(JsonArray publishedKeys) {
    this.jwks = new JsonObject().put("keys", publishedKeys).encode();
  }

  void jwks(RoutingContext ctx) {
    ctx.response().putHeader("Cache-Control", "public, max-age=600");
    json(ctx, jwks);
  }

  void discovery(RoutingContext ctx) {
    json(ctx, discovery);
  }

  private static void json(RoutingContext ctx, String body) {
    ctx.response().putHeader("Content-Type", "application/json").end(body);
  }
}
