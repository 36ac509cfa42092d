package io.portcullis.http;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;

/**
 * Sign-in through external providers: {@code authorize} sends the browser to the provider, {@code callback} brings
 * it back to the app. Both answer redirects; the work happens behind the bus.
 */
final class ExternalRoutes {

  /** Query parameters of authorize that are not forwarded to the provider. */
  private static final Set<String> OWN = Set.of("provider", "redirect_to", "scopes", "code_challenge",
    "code_challenge_method", "skip_http_redirect");

  private final AuthBus bus;
  private final boolean manualLinking;

  ExternalRoutes(AuthBus bus, boolean manualLinking) {
    this.bus = bus;
    this.manualLinking = manualLinking;
  }

  /** {@code GET /authorize?provider=&redirect_to=&scopes=[&code_challenge=&code_challenge_method=]} → 302. */
  void authorize(RoutingContext ctx) {
    bus.request(Addresses.EXTERNAL_AUTHORIZE, authorizeRequest(ctx), Requests.ip(ctx), Requests.userAgent(ctx))
      .onSuccess(answer -> redirect(ctx, answer.getString("url")))
      .onFailure(ctx::fail);
  }

  /**
   * {@code GET /user/identities/authorize?provider=} (Bearer, linkIdentity): the same flow, ending in the provider's
   * identity linked to the caller; {@code skip_http_redirect=true} (what supabase-js sends) answers {@code {url}}.
   */
  void linkAuthorize(RoutingContext ctx) {
    requireManualLinking();
    JsonObject body = authorizeRequest(ctx)
      .put("link_user_id", ctx.<JsonObject>get(AuthRoutes.CLAIMS).getString("sub"));
    bus.request(Addresses.EXTERNAL_AUTHORIZE, body, Requests.ip(ctx), Requests.userAgent(ctx))
      .onSuccess(answer -> {
        if ("true".equals(ctx.request().getParam("skip_http_redirect"))) {
          ctx.json(new JsonObject().put("url", answer.getString("url")));
        } else {
          redirect(ctx, answer.getString("url"));
        }
      })
      .onFailure(ctx::fail);
  }

  /** {@code DELETE /user/identities/{id}} (Bearer, unlinkIdentity) → {@code {}}; never the last identity. */
  void unlink(RoutingContext ctx) {
    requireManualLinking();
    JsonObject body = new JsonObject()
      .put("user_id", ctx.<JsonObject>get(AuthRoutes.CLAIMS).getString("sub"))
      .put("identity_id", ctx.pathParam("id"));
    bus.request(Addresses.EXTERNAL_UNLINK, body, Requests.ip(ctx), Requests.userAgent(ctx))
      .onSuccess(ctx::json)
      .onFailure(ctx::fail);
  }

  private void requireManualLinking() {
    if (!manualLinking) {
      throw new AuthException(ErrorCode.MANUAL_LINKING_DISABLED, "Manual linking is disabled");
    }
  }

  private static JsonObject authorizeRequest(RoutingContext ctx) {
    MultiMap params = ctx.request().params();
    JsonObject body = new JsonObject();
    JsonObject extra = new JsonObject();
    params.names().forEach(name -> {
      if (OWN.contains(name)) {
        body.put(name, params.get(name));
      } else {
        extra.put(name, params.get(name));
      }
    });
    return body.put("query", extra);
  }

  /** {@code GET|POST /callback?code=&state=} (POST: a form, for providers that post their answer) → 302. */
  void callback(RoutingContext ctx) {
    MultiMap params = MultiMap.caseInsensitiveMultiMap().addAll(ctx.request().params());
    if (Requests.isForm(ctx)) {
      params.addAll(ctx.request().formAttributes());
    }
    JsonObject body = new JsonObject();
    for (String name : new String[] {"state", "code", "error", "error_description"}) {
      if (params.get(name) != null) {
        body.put(name, params.get(name));
      }
    }
    bus.request(Addresses.EXTERNAL_CALLBACK, body, Requests.ip(ctx), Requests.userAgent(ctx))
      .onSuccess(answer -> redirect(ctx, answer.getString("location")))
      .onFailure(ctx::fail);
  }

  private static void redirect(RoutingContext ctx, String location) {
    ctx.response()
      .setStatusCode(302)
      .putHeader("Location", location)
      .putHeader("Cache-Control", "no-store")
      .putHeader("Pragma", "no-cache")
      .end();
  }
}
