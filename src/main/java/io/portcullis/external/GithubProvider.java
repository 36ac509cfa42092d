package io.portcullis.external;

import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GitHub (OAuth 2, no ID tokens): the code is redeemed with the client secret and the flow's PKCE verifier, and the
 * identity read from the user API — the id as subject, the primary verified address from {@code /user/emails}.
 * {@code url} is the web base (github.com or a GitHub Enterprise server, whose API is under {@code /api/v3}).
 */
final class GithubProvider implements ExternalProvider {

  private static final int TIMEOUT_MS = 10_000;
  private static final Set<String> RESERVED = Set.of("client_id", "redirect_uri", "scope", "state",
    "code_challenge", "code_challenge_method", "provider", "redirect_to", "scopes");

  private final WebClient web;
  private final Config.Provider config;
  private final String api;

  GithubProvider(WebClient web, Config.Provider config) {
    this.web = web;
    this.config = config;
    this.api = config.url().equals("https://github.com") ? "https://api.github.com" : config.url() + "/api/v3";
  }

  @Override
  public String name() {
    return config.name();
  }

  @Override
  public Future<String> authorizeUrl(String state, String nonce, String challenge, List<String> scopes,
                                     Map<String, String> extra) {
    Set<String> scope = new LinkedHashSet<>(List.of("read:user", "user:email"));
    scope.addAll(config.scopes());
    scope.addAll(scopes);
    StringBuilder url = new StringBuilder(config.url()).append("/login/oauth/authorize?");
    OidcProvider.query(url, "client_id", config.clientId());
    OidcProvider.query(url, "redirect_uri", config.redirectUri());
    OidcProvider.query(url, "scope", String.join(" ", scope));
    OidcProvider.query(url, "state", state);
    OidcProvider.query(url, "code_challenge", challenge);
    OidcProvider.query(url, "code_challenge_method", "S256");
    extra.forEach((key, value) -> {
      if (!RESERVED.contains(key)) {
        OidcProvider.query(url, key, value);
      }
    });
    return Future.succeededFuture(url.substring(0, url.length() - 1));
  }

  @Override
  public Future<ProviderIdentity> redeem(String code, String verifier, String nonce) {
    MultiMap form = MultiMap.caseInsensitiveMultiMap()
      .add("client_id", config.clientId())
      .add("client_secret", config.secret())
      .add("code", code)
      .add("redirect_uri", config.redirectUri())
      .add("code_verifier", verifier);
    return web.postAbs(config.url() + "/login/oauth/access_token").timeout(TIMEOUT_MS)
      .putHeader("Accept", "application/json")
      .sendForm(form)
      .recover(e -> Future.failedFuture(OidcProvider.callbackError("GitHub could not be reached", e)))
      .compose(response -> {
        JsonObject tokens = OidcProvider.json(response);
        // GitHub answers a refused code with 200 and an "error" field.
        if (response.statusCode() != 200 || tokens == null || !(tokens.getValue("access_token") instanceof String)) {
          String error = tokens == null ? "" : ": " + tokens.getString("error", "");
          return Future.failedFuture(OidcProvider.callbackError("GitHub refused the code" + error, null));
        }
        String accessToken = tokens.getString("access_token");
        return Future.all(get("/user", accessToken), get("/user/emails", accessToken)).map(both -> identity(
          both.resultAt(0), both.resultAt(1), accessToken, tokens.getString("refresh_token")));
      });
  }

  @Override
  public Future<ProviderIdentity> verifyIdToken(String idToken, String nonce, String accessToken) {
    return Future.failedFuture(AuthException.validation("GitHub issues no ID tokens"));
  }

  private ProviderIdentity identity(Buffer userBody, Buffer emailsBody, String accessToken, String refreshToken) {
    JsonObject user = userBody.toJsonObject();
    Object id = user.getValue("id");
    if (!(id instanceof Number) && !(id instanceof String)) {
      throw OidcProvider.callbackError("GitHub answered a user without id", null);
    }
    String email = null;
    boolean verified = false;
    for (Object entry : emailsBody.toJsonArray()) {
      if (entry instanceof JsonObject address && address.getValue("email") instanceof String value
        && Boolean.TRUE.equals(address.getValue("verified"))
        && (email == null || Boolean.TRUE.equals(address.getValue("primary")))) {
        email = value;
        verified = true;
      }
    }
    String subject = String.valueOf(id);
    JsonObject data = new JsonObject()
      .put("iss", api)
      .put("sub", subject)
      .put("provider_id", subject)
      .put("email", email)
      .put("email_verified", verified)
      .put("phone_verified", false);
    putString(data, "user_name", user.getValue("login"));
    putString(data, "preferred_username", user.getValue("login"));
    putString(data, "name", user.getValue("name"));
    putString(data, "full_name", user.getValue("name"));
    putString(data, "avatar_url", user.getValue("avatar_url"));
    return new ProviderIdentity(config.name(), subject, email, verified, data, accessToken, refreshToken);
  }

  private static void putString(JsonObject data, String key, Object value) {
    if (value instanceof String s) {
      data.put(key, s);
    }
  }

  private Future<Buffer> get(String path, String accessToken) {
    return web.getAbs(api + path).timeout(TIMEOUT_MS)
      .putHeader("Accept", "application/vnd.github+json")
      .putHeader("Authorization", "Bearer " + accessToken)
      .send()
      .recover(e -> Future.failedFuture(OidcProvider.callbackError("GitHub could not be reached", e)))
      .compose(response -> response.statusCode() == 200 && response.body() != null && valid(response, path)
        ? Future.succeededFuture(response.body())
        : Future.failedFuture(OidcProvider.callbackError("GitHub's " + path + " answered " + response.statusCode(),
          null)));
  }

  private static boolean valid(HttpResponse<Buffer> response, String path) {
    try {
      Object parsed = path.endsWith("emails") ? response.bodyAsJsonArray() : response.bodyAsJsonObject();
      return parsed instanceof JsonArray || parsed instanceof JsonObject;
    } catch (RuntimeException e) {
      return false;
    }
  }
}
