package io.portcullis.http;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
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

  ExternalRoutes(AuthBus bus) {
    this.bus = bus;
  }

  /** {@code GET /authorize?provider=&redirect_to=&scopes=[&code_challenge=&code_challenge_method=]} → 302. */
  void authorize(RoutingContext ctx) {
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
    body.put("query", extra);
    bus.request(Addresses.EXTERNAL_AUTHORIZE, body, Requests.ip(ctx), Requests.userAgent(ctx))
      .onSuccess(answer -> redirect(ctx, answer.getString("url")))
      .onFailure(ctx::fail);
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
