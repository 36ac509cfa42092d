package io.portcullis.external;

import io.portcullis.account.Redirects;
import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.bus.BusErrors;
import io.portcullis.config.Config;
import io.portcullis.input.Inputs;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.flow.FlowStates;
import io.portcullis.flow.FlowStates.FlowState;
import io.portcullis.flow.Pkce;
import io.portcullis.user.UserJson;
import io.portcullis.user.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * Sign-in through external providers, as GoTrue does it: {@code authorize} starts a flow (its id is the OAuth
 * state; PKCE and a nonce towards the provider), {@code callback} finishes it — the code redeemed, the ID token
 * verified, the user found, linked by verified email, or created, all in one transaction — and answers where to
 * send the browser: the app's {@code redirect_to} with a session in the fragment (implicit) or {@code ?code=}
 * (PKCE), or with {@code error}, {@code error_code} and {@code error_description}.
 */
public final class ExternalService {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ExternalService.class);
  static final String AMR_OAUTH = "oauth";
  static final String AMR_ID_TOKEN = "id_token";

  private final Config config;
  private final Pool pool;
  private final AuthBus bus;
  private final Map<String, ExternalProvider> providers;
  private final Clock clock;
  private final SecureRandom random;

  public ExternalService(Config config, Pool pool, AuthBus bus, Map<String, ExternalProvider> providers, Clock clock,
                         SecureRandom random) {
    this.config = config;
    this.pool = pool;
    this.bus = bus;
    this.providers = providers;
    this.clock = clock;
    this.random = random;
  }

  /**
   * {@code {provider, redirect_to?, scopes?, code_challenge?, code_challenge_method?, query?, link_user_id?}} →
   * {@code {url}}: the provider's authorization URL for a new flow.
   */
  public Future<JsonObject> authorize(JsonObject body) {
    ExternalProvider provider;
    Pkce.Challenge pkce;
    try {
      provider = provider(Inputs.optionalString(body, "provider"));
      pkce = Pkce.parse(Inputs.optionalString(body, "code_challenge"),
        Inputs.optionalString(body, "code_challenge_method"));
    } catch (AuthException e) {
      return Future.failedFuture(e);
    }
    String redirectTo = Redirects.resolve(config, Inputs.optionalString(body, "redirect_to"));
    List<String> scopes = new ArrayList<>();
    String requested = Inputs.optionalString(body, "scopes");
    for (String scope : requested == null ? new String[0] : requested.split("[ ,]")) {
      if (!scope.isBlank()) {
        scopes.add(scope);
      }
    }
    Map<String, String> extra = new LinkedHashMap<>();
    body.getJsonObject("query", new JsonObject()).forEach(e -> extra.put(e.getKey(), String.valueOf(e.getValue())));
    String linkUser = Inputs.optionalString(body, "link_user_id");
    String nonce = randomToken();
    String verifier = randomToken();
    return FlowStates.create(pool, pkce, AMR_OAUTH, provider.name(), redirectTo, nonce, verifier,
        linkUser == null ? null : UUID.fromString(linkUser), now())
      .compose(id -> provider.authorizeUrl(id.toString(), nonce, Pkce.s256(verifier), scopes, extra))
      .map(url -> new JsonObject().put("url", url));
  }

  /**
   * {@code {state, code?, error?, error_description?}} → {@code {location}}, always: every failure becomes a
   * redirect carrying the error, to the flow's {@code redirect_to} when the flow is known, else the site URL.
   */
  public Future<JsonObject> callback(JsonObject body, String ip, String userAgent) {
    UUID id = uuid(Inputs.optionalString(body, "state"));
    if (id == null) {
      return Future.succeededFuture(errorLocation(config.siteUrl(),
        new AuthException(ErrorCode.BAD_OAUTH_STATE, "OAuth state parameter missing or invalid")));
    }
    OffsetDateTime now = now();
    return pool.withTransaction(conn -> FlowStates.lockForCallback(conn, id).compose(flow -> {
      if (flow == null || flow.provider() == null) {
        return Future.failedFuture(new AuthException(ErrorCode.BAD_OAUTH_STATE,
          "OAuth state parameter missing or invalid"));
      }
      // Marked before the provider is asked, so that a replayed callback cannot race the first one.
      return FlowStates.markCallback(conn, id, now).map(flow);
    })).compose(
      flow -> finish(flow, body, now, ip, userAgent)
        .recover(e -> Future.succeededFuture(errorLocation(flow.redirectTo(), e))),
      e -> Future.succeededFuture(errorLocation(config.siteUrl(), e)));
  }

  private Future<JsonObject> finish(FlowState flow, JsonObject body, OffsetDateTime now, String ip, String userAgent) {
    if (flow.callbackAt() != null) {
      return Future.failedFuture(new AuthException(ErrorCode.FLOW_STATE_ALREADY_USED, "Flow state already used"));
    }
    if (flow.createdAt().plus(FlowStates.LIFETIME).isBefore(now)) {
      return Future.failedFuture(new AuthException(ErrorCode.FLOW_STATE_EXPIRED, "Flow state has expired"));
    }
    String error = Inputs.optionalString(body, "error");
    if (error != null && !error.isEmpty()) {
      String description = Inputs.optionalString(body, "error_description");
      return Future.failedFuture(new ProviderError(error, description == null || description.isEmpty()
        ? "The provider refused the sign-in" : description));
    }
    String code = Inputs.optionalString(body, "code");
    if (code == null || code.isEmpty()) {
      return Future.failedFuture(new AuthException(ErrorCode.BAD_OAUTH_CALLBACK, "OAuth callback with missing code"));
    }
    ExternalProvider provider = providers.get(flow.provider());
    if (provider == null) {
      return Future.failedFuture(AuthException.validation("Unsupported provider: " + flow.provider()
        + " is not enabled"));
    }
    return provider.redeem(code, flow.providerVerifier(), flow.nonce())
      .compose(identity -> pool.withTransaction(conn -> signIn(conn, identity, flow.linkUserId(), now)
        .compose(userId -> flow.pkce()
          ? FlowStates.issueCode(conn, random, flow.id(), userId, identity.accessToken(), identity.refreshToken(), now)
            .map(authCode -> withQuery(flow.redirectTo(), "code=" + encode(authCode)))
          // The used flow stays (until purged), so that a replayed callback is told so.
          : Future.succeededFuture(userId.toString())))
        .compose(result -> flow.pkce()
          ? Future.succeededFuture(result)
          : session(result, AMR_OAUTH, ip, userAgent).map(session -> flow.redirectTo() + "#" + fragment(session,
            identity))))
      .map(location -> new JsonObject().put("location", location));
  }

  /**
   * {@code grant_type=id_token}: {@code {provider, id_token, access_token?, nonce?, link_user_id?}} → a session. The
   * token's {@code nonce} must be the hex SHA-256 of the raw nonce given here (a nonce on one side needs the other).
   */
  public Future<JsonObject> idToken(JsonObject body, String ip, String userAgent) {
    ExternalProvider provider;
    String token;
    try {
      provider = provider(Inputs.optionalString(body, "provider"));
      token = Inputs.requiredString(body, "id_token");
    } catch (AuthException e) {
      return Future.failedFuture(e);
    }
    String rawNonce = Inputs.optionalString(body, "nonce");
    String nonce = rawNonce == null || rawNonce.isEmpty() ? null
      : HexFormat.of().formatHex(sha256(rawNonce));
    String linkUser = Inputs.optionalString(body, "link_user_id");
    OffsetDateTime now = now();
    return provider.verifyIdToken(token, nonce, Inputs.optionalString(body, "access_token"))
      .compose(identity -> pool.withTransaction(conn -> signIn(conn, identity,
        linkUser == null ? null : UUID.fromString(linkUser), now)))
      .compose(userId -> session(userId.toString(), AMR_ID_TOKEN, ip, userAgent));
  }

  /**
   * The user this identity signs in: the one it is linked to; else the user being linked; else the user with the
   * provider-verified email (linked now); else a new user. Fails (and the caller's transaction rolls back) for a
   * banned user, an unverified email that belongs to another user, or sign-ups disabled.
   */
  private Future<UUID> signIn(SqlClient conn, ProviderIdentity identity, UUID linkUserId, OffsetDateTime now) {
    IdentityRepository identities = new IdentityRepository(conn);
    UserRepository users = new UserRepository(conn);
    String email = identity.email() == null ? null : identity.email().trim().toLowerCase(Locale.ROOT);
    return identities.find(identity.provider(), identity.subject()).compose(existing -> {
      if (existing != null) {
        UUID owner = existing.getUUID("user_id");
        if (linkUserId != null && !linkUserId.equals(owner)) {
          return Future.failedFuture(new AuthException(ErrorCode.IDENTITY_ALREADY_EXISTS,
            "Identity is already linked to another user"));
        }
        return identities.touch(existing.getUUID("id"), identity, now).map(owner);
      }
      if (linkUserId != null) {
        return link(identities, users, linkUserId, identity, now);
      }
      Future<Row> byEmail = email == null ? Future.succeededFuture() : users.findByEmail(email);
      return byEmail.compose(user -> {
        if (user != null) {
          if (!identity.emailVerified()) {
            return Future.failedFuture(new AuthException(ErrorCode.EMAIL_EXISTS,
              "A user with this email address has already been registered; the provider has not verified it"));
          }
          UUID userId = user.getUUID("id");
          return users.confirmByProvider(userId, now).compose(done -> link(identities, users, userId, identity, now));
        }
        if (config.signup().disabled()) {
          return Future.failedFuture(new AuthException(ErrorCode.SIGNUP_DISABLED,
            "Signups not allowed for this instance"));
        }
        UUID userId = UUID.randomUUID();
        JsonObject appMetadata = new JsonObject().put("provider", identity.provider())
          .put("providers", new JsonArray().add(identity.provider()));
        return users.insertExternal(userId, email, identity.emailVerified() ? now : null, appMetadata,
            identity.data().copy(), now)
          .compose(row -> identities.insert(userId, identity, now))
          .map(userId);
      });
    }).compose(userId -> users.findById(userId).compose(user -> {
      OffsetDateTime bannedUntil = user == null ? null : user.getOffsetDateTime("banned_until");
      if (user == null) {
        return Future.failedFuture(new AuthException(ErrorCode.USER_NOT_FOUND, "User not found"));
      }
      if (bannedUntil != null && bannedUntil.isAfter(now)) {
        return Future.failedFuture(new AuthException(ErrorCode.USER_BANNED, "User is banned"));
      }
      return Future.succeededFuture(userId);
    }));
  }

  /**
   * {@code {user_id, identity_id}}: removes one of the user's identities (an external one, or the email identity,
   * which takes "email" out of the user's providers), never the last one.
   */
  public Future<Void> unlink(JsonObject body) {
    UUID userId = UUID.fromString(body.getString("user_id"));
    UUID identityId = uuid(Inputs.optionalString(body, "identity_id"));
    OffsetDateTime now = now();
    return pool.withTransaction(conn -> {
      IdentityRepository identities = new IdentityRepository(conn);
      UserRepository users = new UserRepository(conn);
      return users.findById(userId).compose(user -> identities.ofUser(userId).compose(rows -> {
        JsonObject json = user == null ? new JsonObject() : UserJson.fromRow(user);
        JsonArray all = json.getJsonArray("identities", new JsonArray());
        boolean known = identityId != null && all.stream()
          .anyMatch(i -> identityId.toString().equals(((JsonObject) i).getString("identity_id")));
        if (!known) {
          return Future.failedFuture(new AuthException(ErrorCode.IDENTITY_NOT_FOUND, "Identity doesn't exist"));
        }
        if (all.size() <= 1) {
          return Future.failedFuture(new AuthException(ErrorCode.SINGLE_IDENTITY_NOT_DELETABLE,
            "User must have at least 1 identity after unlinking"));
        }
        if (identityId.equals(UserJson.emailIdentityId(userId))) {
          return users.removeProvider(userId, "email", now);
        }
        return identities.delete(identityId, userId).compose(provider -> {
          boolean another = false;
          for (Row row : rows) {
            another |= provider.equals(row.getString("provider")) && !identityId.equals(row.getUUID("id"));
          }
          return another ? Future.succeededFuture() : users.removeProvider(userId, provider, now);
        });
      }));
    });
  }

  private static Future<UUID> link(IdentityRepository identities, UserRepository users, UUID userId,
                                   ProviderIdentity identity, OffsetDateTime now) {
    String verifiedEmail = identity.emailVerified() && identity.email() != null
      ? identity.email().trim().toLowerCase(Locale.ROOT) : null;
    return identities.insert(userId, identity, now)
      .compose(done -> users.convertAnonymous(userId, identity.provider(), verifiedEmail, now))
      .compose(converted -> converted ? Future.<Void>succeededFuture()
        : users.addProvider(userId, identity.provider(), now))
      .map(userId);
  }

  private Future<JsonObject> session(String userId, String amr, String ip, String userAgent) {
    return bus.request(Addresses.SESSIONS_ISSUE, new JsonObject().put("user_id", userId).put("amr_method", amr),
      ip, userAgent);
  }

  private static String fragment(JsonObject session, ProviderIdentity identity) {
    StringBuilder out = new StringBuilder();
    pair(out, "access_token", session.getString("access_token"));
    pair(out, "expires_at", String.valueOf(session.getLong("expires_at")));
    pair(out, "expires_in", String.valueOf(session.getLong("expires_in")));
    if (identity.accessToken() != null) {
      pair(out, "provider_token", identity.accessToken());
    }
    if (identity.refreshToken() != null) {
      pair(out, "provider_refresh_token", identity.refreshToken());
    }
    pair(out, "refresh_token", session.getString("refresh_token"));
    pair(out, "token_type", "bearer");
    return out.toString();
  }

  /** The error in the query (PKCE apps read it there) and in the fragment (implicit apps read it there). */
  private static JsonObject errorLocation(String target, Throwable failure) {
    String error;
    String errorCode;
    String description;
    if (failure instanceof ProviderError provider) {
      error = provider.error;
      errorCode = ErrorCode.BAD_OAUTH_CALLBACK.code();
      description = provider.getMessage();
    } else {
      AuthException auth = BusErrors.toAuthException(failure);
      if (auth.status() >= 500) {
        LOG.warn("External sign-in failed: {}", failure.toString());
      }
      error = auth.status() >= 500 ? "server_error" : auth.code() == ErrorCode.BAD_OAUTH_STATE
        || auth.code() == ErrorCode.VALIDATION_FAILED ? "invalid_request" : "access_denied";
      errorCode = auth.code().code();
      description = auth.getMessage();
    }
    StringBuilder params = new StringBuilder();
    pair(params, "error", error);
    pair(params, "error_code", errorCode);
    pair(params, "error_description", description);
    return new JsonObject().put("location", withQuery(target, params.toString()) + "#" + params);
  }

  private ExternalProvider provider(String name) {
    ExternalProvider provider = name == null ? null : providers.get(name.toLowerCase(Locale.ROOT));
    if (provider == null) {
      throw AuthException.validation("Unsupported provider: Provider " + (name == null ? "" : name)
        + " could not be found");
    }
    return provider;
  }

  private static String withQuery(String target, String query) {
    int hash = target.indexOf('#');
    String base = hash < 0 ? target : target.substring(0, hash);
    return base + (base.contains("?") ? "&" : "?") + query;
  }

  private static void pair(StringBuilder out, String key, String value) {
    if (out.length() > 0) {
      out.append('&');
    }
    out.append(key).append('=').append(encode(value));
  }

  private static String encode(String value) {
    return URLEncoder.encode(value == null ? "" : value, StandardCharsets.UTF_8);
  }

  private String randomToken() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static UUID uuid(String value) {
    try {
      return value == null ? null : UUID.fromString(value);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static byte[] sha256(String value) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  /** The provider answered the callback with an OAuth error of its own. */
  private static final class ProviderError extends RuntimeException {
    private final String error;

    ProviderError(String error, String description) {
      super(description, null, false, false);
      this.error = error;
    }
  }
}
