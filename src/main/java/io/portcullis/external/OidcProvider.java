package io.portcullis.external;

import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.MultiMap;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An OpenID Connect provider found by its issuer URL (discovery, JWKS), used as a library inside this service's own
 * authorize and callback: vertx-auth-oauth2 only logs a failed ID-token check and never checks the nonce, so the ID
 * token is verified here — signature by a key of the provider's JWKS (an asymmetric algorithm only; JWTAuth without
 * keys would accept {@code alg:none}), {@code iss}, {@code aud}, {@code exp}, {@code nonce}. A missing or failing
 * ID token fails the sign-in. Used from one event loop (one verticle instance), so its caches need no locks.
 */
final class OidcProvider implements ExternalProvider {

  private static final Set<String> ALGORITHMS = Set.of("RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
    "PS256", "PS384", "PS512");
  private static final long LEEWAY_SECONDS = 60;
  private static final long JWKS_REFRESH_MS = 60_000;
  private static final int TIMEOUT_MS = 10_000;
  /** Parameters this service sets itself; an app's extra query parameters cannot override them. */
  private static final Set<String> RESERVED = Set.of("response_type", "client_id", "redirect_uri", "scope", "state",
    "nonce", "code_challenge", "code_challenge_method", "provider", "redirect_to", "scopes");

  private final Vertx vertx;
  private final WebClient web;
  private final Config.Provider config;
  private final Clock clock;
  private Future<JsonObject> discovery;
  private JWTAuth keys;
  private Set<String> kids = Set.of();
  private long keysFetchedAt;

  OidcProvider(Vertx vertx, WebClient web, Config.Provider config, Clock clock) {
    this.vertx = vertx;
    this.web = web;
    this.config = config;
    this.clock = clock;
  }

  @Override
  public String name() {
    return config.name();
  }

  @Override
  public Future<String> authorizeUrl(String state, String nonce, String challenge, List<String> scopes,
                                     Map<String, String> extra) {
    return discovery().map(doc -> {
      Set<String> scope = new LinkedHashSet<>(List.of("openid", "email", "profile"));
      scope.addAll(config.scopes());
      scope.addAll(scopes);
      StringBuilder url = new StringBuilder(doc.getString("authorization_endpoint"));
      url.append(url.indexOf("?") < 0 ? '?' : '&');
      query(url, "response_type", "code");
      query(url, "client_id", config.clientId());
      query(url, "redirect_uri", config.redirectUri());
      query(url, "scope", String.join(" ", scope));
      query(url, "state", state);
      query(url, "nonce", nonce);
      query(url, "code_challenge", challenge);
      query(url, "code_challenge_method", "S256");
      extra.forEach((key, value) -> {
        if (!RESERVED.contains(key)) {
          query(url, key, value);
        }
      });
      return url.substring(0, url.length() - 1);
    });
  }

  static void query(StringBuilder url, String key, String value) {
    url.append(URLEncoder.encode(key, StandardCharsets.UTF_8)).append('=')
      .append(URLEncoder.encode(value, StandardCharsets.UTF_8)).append('&');
  }

  @Override
  public Future<ProviderIdentity> redeem(String code, String verifier, String nonce) {
    return discovery().compose(doc -> {
      MultiMap form = MultiMap.caseInsensitiveMultiMap()
        .add("grant_type", "authorization_code")
        .add("code", code)
        .add("redirect_uri", config.redirectUri())
        .add("client_id", config.clientId())
        .add("code_verifier", verifier);
      if (!config.secret().isEmpty()) {
        form.add("client_secret", config.secret());
      }
      return web.postAbs(doc.getString("token_endpoint")).timeout(TIMEOUT_MS)
        .putHeader("Accept", "application/json")
        .sendForm(form)
        .recover(e -> Future.failedFuture(callbackError("The provider could not be reached", e)));
    }).compose(response -> {
      JsonObject tokens = json(response);
      if (response.statusCode() != 200 || tokens == null) {
        String error = tokens == null ? "" : ": " + tokens.getString("error", "");
        return Future.failedFuture(callbackError("The provider refused the code" + error, null));
      }
      Object idToken = tokens.getValue("id_token");
      if (!(idToken instanceof String token) || token.isEmpty()) {
        return Future.failedFuture(callbackError("The provider answered no ID token", null));
      }
      return verify(token, nonce, true).map(claims -> identity(claims, tokens.getString("access_token"),
        tokens.getString("refresh_token")));
    });
  }

  @Override
  public Future<ProviderIdentity> verifyIdToken(String idToken, String nonce, String accessToken) {
    return verify(idToken, nonce, false).compose(claims -> accessTokenHash(idToken, claims, accessToken))
      .map(claims -> identity(claims, accessToken, null));
  }

  /**
   * OpenID Connect Core §3.1.3.8: with an access token given beside the ID token, a carried {@code at_hash} must be
   * the left half of the access token's hash (SHA-256/384/512 as the signing algorithm), base64url.
   */
  private static Future<JsonObject> accessTokenHash(String idToken, JsonObject claims, String accessToken) {
    if (accessToken == null || accessToken.isEmpty() || !(claims.getValue("at_hash") instanceof String atHash)) {
      return Future.succeededFuture(claims);
    }
    try {
      String alg = new JsonObject(new String(Base64.getUrlDecoder().decode(idToken.split("\\.")[0]),
        StandardCharsets.UTF_8)).getString("alg");
      byte[] digest = MessageDigest.getInstance("SHA-" + alg.substring(2))
        .digest(accessToken.getBytes(StandardCharsets.US_ASCII));
      String expected = Base64.getUrlEncoder().withoutPadding()
        .encodeToString(Arrays.copyOf(digest, digest.length / 2));
      return expected.equals(atHash) ? Future.succeededFuture(claims)
        : Future.failedFuture(badToken("The ID token's at_hash does not match the access token"));
    } catch (GeneralSecurityException | RuntimeException e) {
      return Future.failedFuture(badToken("The ID token's at_hash cannot be checked"));
    }
  }

  private ProviderIdentity identity(JsonObject claims, String accessToken, String refreshToken) {
    Object verified = claims.getValue("email_verified");
    boolean emailVerified = Boolean.TRUE.equals(verified) || "true".equals(verified);
    String email = claims.getValue("email") instanceof String e && !e.isBlank() ? e : null;
    JsonObject data = new JsonObject()
      .put("iss", claims.getString("iss"))
      .put("sub", claims.getString("sub"))
      .put("provider_id", claims.getString("sub"))
      .put("email", email)
      .put("email_verified", emailVerified)
      .put("phone_verified", false);
    for (String claim : new String[] {"name", "given_name", "family_name", "preferred_username", "picture", "locale"}) {
      if (claims.getValue(claim) instanceof String value) {
        data.put(claim, value);
      }
    }
    if (data.containsKey("name")) {
      data.put("full_name", data.getString("name"));
    }
    if (data.containsKey("picture")) {
      data.put("avatar_url", data.getString("picture"));
    }
    return new ProviderIdentity(config.name(), claims.getString("sub"), email, emailVerified, data, accessToken,
      refreshToken);
  }

  /**
   * The claims of a valid ID token. {@code nonceRequired}: the flow sent a nonce, so the token must carry it; else
   * (an app's own token) a nonce on either side requires both, as GoTrue does.
   */
  private Future<JsonObject> verify(String token, String nonce, boolean nonceRequired) {
    JsonObject header;
    try {
      String[] parts = token.split("\\.");
      if (parts.length != 3) {
        return Future.failedFuture(badToken("The ID token is not a signed JWT"));
      }
      header = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return Future.failedFuture(badToken("The ID token is not a signed JWT"));
    }
    if (!(header.getValue("alg") instanceof String alg) || !ALGORITHMS.contains(alg)) {
      return Future.failedFuture(badToken("The ID token's algorithm is not accepted"));
    }
    String kid = header.getValue("kid") instanceof String k ? k : null;
    return discovery().compose(doc -> keys(kid != null && !kids.contains(kid)).compose(auth -> {
      try {
        return auth.authenticate(new TokenCredentials(token));
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }).recover(e -> Future.failedFuture(e instanceof AuthException ? e
      : badToken("The ID token's signature, issuer or audience is wrong")))
      .compose(user -> {
        JsonObject claims = user.attributes().getJsonObject("accessToken");
        return check(claims, doc.getString("issuer"), nonce, nonceRequired);
      }));
  }

  private Future<JsonObject> check(JsonObject claims, String issuer, String nonce, boolean nonceRequired) {
    long now = clock.instant().getEpochSecond();
    if (claims == null || !(claims.getValue("sub") instanceof String sub) || sub.isEmpty()) {
      return Future.failedFuture(badToken("The ID token has no subject"));
    }
    if (!issuer.equals(claims.getValue("iss"))) {
      return Future.failedFuture(badToken("The ID token's issuer is wrong"));
    }
    Object aud = claims.getValue("aud");
    boolean forUs = aud instanceof String a ? a.equals(config.clientId())
      : aud instanceof JsonArray list && list.contains(config.clientId());
    if (!forUs) {
      return Future.failedFuture(badToken("The ID token is for another audience"));
    }
    if (!(claims.getValue("exp") instanceof Number exp) || exp.longValue() + LEEWAY_SECONDS < now) {
      return Future.failedFuture(badToken("The ID token has expired"));
    }
    if (claims.getValue("iat") instanceof Number iat && iat.longValue() - LEEWAY_SECONDS > now) {
      return Future.failedFuture(badToken("The ID token was issued in the future"));
    }
    Object carried = claims.getValue("nonce");
    if (nonceRequired || nonce != null || carried != null) {
      if (nonce == null || !nonce.equals(carried)) {
        return Future.failedFuture(badToken("The ID token's nonce does not match"));
      }
    }
    return Future.succeededFuture(claims);
  }

  /** The provider's keys; fetched again when a token names an unknown {@code kid} (at most once a minute). */
  private Future<JWTAuth> keys(boolean unknownKid) {
    long nowMs = System.currentTimeMillis();
    if (keys != null && !(unknownKid && nowMs - keysFetchedAt > JWKS_REFRESH_MS)) {
      return Future.succeededFuture(keys);
    }
    return discovery().compose(doc -> fetch(doc.getString("jwks_uri"))).compose(jwks -> {
      JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(new JWTOptions().setIgnoreExpiration(true));
      Set<String> found = new HashSet<>();
      for (Object key : jwks.getJsonArray("keys", new JsonArray())) {
        if (key instanceof JsonObject jwk && !"enc".equals(jwk.getString("use"))
          && (jwk.getString("alg") == null || ALGORITHMS.contains(jwk.getString("alg")))) {
          options.addJwk(jwk);
          if (jwk.getString("kid") != null) {
            found.add(jwk.getString("kid"));
          }
        }
      }
      if (options.getJwks().isEmpty()) {
        // A JWTAuth without keys accepts unsigned tokens: refuse instead.
        return Future.failedFuture(callbackError("The provider publishes no signing keys", null));
      }
      try {
        keys = JWTAuth.create(vertx, options);
      } catch (RuntimeException e) {
        return Future.failedFuture(callbackError("The provider's signing keys cannot be read", e));
      }
      kids = found;
      keysFetchedAt = nowMs;
      return Future.succeededFuture(keys);
    });
  }

  /** The discovery document, fetched once (again after a failure); its issuer must be the configured URL. */
  private Future<JsonObject> discovery() {
    if (discovery == null || discovery.failed()) {
      discovery = fetch(config.url() + "/.well-known/openid-configuration").compose(doc -> {
        String issuer = doc.getString("issuer", "");
        if (!issuer.equals(config.url()) && !issuer.equals(config.url() + "/")) {
          return Future.failedFuture(callbackError("The provider's discovery document names another issuer", null));
        }
        for (String field : new String[] {"authorization_endpoint", "token_endpoint", "jwks_uri"}) {
          if (!(doc.getValue(field) instanceof String)) {
            return Future.failedFuture(callbackError("The provider's discovery document has no " + field, null));
          }
        }
        return Future.succeededFuture(doc);
      });
    }
    return discovery;
  }

  private Future<JsonObject> fetch(String url) {
    return web.getAbs(url).timeout(TIMEOUT_MS).putHeader("Accept", "application/json").send()
      .recover(e -> Future.failedFuture(callbackError("The provider could not be reached", e)))
      .compose(response -> {
        JsonObject body = json(response);
        return response.statusCode() == 200 && body != null
          ? Future.succeededFuture(body)
          : Future.failedFuture(callbackError("The provider answered " + response.statusCode(), null));
      });
  }

  static JsonObject json(HttpResponse<Buffer> response) {
    try {
      return response.body() == null ? null : response.bodyAsJsonObject();
    } catch (RuntimeException e) {
      return null;
    }
  }

  static AuthException callbackError(String message, Throwable cause) {
    return new AuthException(ErrorCode.BAD_OAUTH_CALLBACK, message, cause);
  }

  static AuthException badToken(String message) {
    return new AuthException(ErrorCode.BAD_ID_TOKEN, message);
  }
}
