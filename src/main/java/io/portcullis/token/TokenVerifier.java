package io.portcullis.token;

import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.Credentials;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Verifies access tokens: signature by a known key of the configured algorithm (vertx-auth-jwt refuses
 * {@code alg:none}, other algorithms and unknown {@code kid}s once it holds keys), issuer, audience, and the
 * time claims; then the claims Portcullis itself requires. One instance per verticle instance, because
 * vertx-auth-jwt serializes verification per key.
 * <p>
 * A signature check costs about a millisecond of CPU (ES256 on Java 17), and clients present the same access token
 * on every call until it expires: each instance remembers the tokens whose signature, issuer and audience it
 * verified (the {@value #VERIFIED_TOKENS} most recently used), keyed by the whole token text. Only what depends on
 * the token and the keys alone is remembered; the time claims are checked against the clock on every call, and a
 * change of the verification keys starts from an empty memory.
 */
public final class TokenVerifier {

  /** Verified tokens remembered per instance (about 4 KB each). */
  static final int VERIFIED_TOKENS = 1024;

  private final Vertx vertx;
  private final Config.Jwt jwt;
  private final ClockedProvider provider;

  public TokenVerifier(Vertx vertx, KeySet keys, Config.Jwt jwt, Clock clock) {
    this.vertx = vertx;
    this.jwt = jwt;
    this.provider = new ClockedProvider(new Verification(build(keys.verificationJwks())), clock, jwt.leewaySeconds());
  }

  /**
   * Swaps in a new set of verification keys (after a rotation), with nothing remembered: a token of a key that left
   * the set fails from now on. Requests in flight finish with the old set.
   */
  public void update(List<JsonObject> verificationJwks) {
    provider.current = new Verification(build(verificationJwks));
  }

  private JWTAuth build(List<JsonObject> verificationJwks) {
    if (verificationJwks.isEmpty()) {
      // A JWTAuth without keys accepts unsigned tokens: never run like that.
      throw new IllegalStateException("No token verification keys are loaded");
    }
    // vertx-auth-jwt checks exp/iat/nbf against System.currentTimeMillis(); they are checked below against the
    // service's clock instead, the one that stamped them (and that tests move).
    JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(new JWTOptions()
      .setIssuer(jwt.issuer())
      .setAudience(List.of(jwt.aud()))
      .setIgnoreExpiration(true));
    verificationJwks.forEach(options::addJwk);
    return JWTAuth.create(vertx, options);
  }

  /** The provider behind {@code JWTAuthHandler} on Bearer routes. */
  public JWTAuth provider() {
    return provider;
  }

  /** The verified claims of a token, or a failed Future with {@code bad_jwt}. */
  public Future<JsonObject> verify(String token) {
    if (token == null || token.isEmpty()) {
      return Future.failedFuture(new AuthException(ErrorCode.NO_AUTHORIZATION, "This endpoint requires a valid Bearer token"));
    }
    Future<User> user;
    try {
      user = provider.authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) {
      user = Future.failedFuture(e);
    }
    return user
      .recover(e -> Future.failedFuture(badJwt()))
      .map(TokenVerifier::claims);
  }

  /**
   * The claims of a user that vertx-auth-jwt authenticated, checked for what it does not check: {@code exp} must
   * exist (a token without one would never expire) and the identity claims must have their types.
   */
  public static JsonObject claims(User user) {
    JsonObject claims = user.attributes().getJsonObject("accessToken");
    if (claims == null
      || !(claims.getValue("exp") instanceof Number)
      || !(claims.getValue("role") instanceof String)
      || (claims.containsKey("iat") && !(claims.getValue("iat") instanceof Number))
      || (claims.containsKey("nbf") && !(claims.getValue("nbf") instanceof Number))
      || (claims.containsKey("sub") && !(claims.getValue("sub") instanceof String))
      || (claims.containsKey("session_id") && !(claims.getValue("session_id") instanceof String))) {
      throw badJwt();
    }
    return claims;
  }

  /**
   * vertx-auth-jwt's provider, made total (a claim of the wrong type makes it throw, which would answer 500) and
   * with the time claims checked against the service clock: {@code exp} must not have passed, {@code iat} and
   * {@code nbf} must not lie in the future, each beyond the leeway.
   */
  private static final class ClockedProvider implements JWTAuth {

    private volatile Verification current;
    private final Clock clock;
    private final long leeway;

    ClockedProvider(Verification current, Clock clock, long leeway) {
      this.current = current;
      this.clock = clock;
      this.leeway = leeway;
    }

    @Override
    public Future<User> authenticate(Credentials credentials) {
      Verification verification = current;
      String token = credentials instanceof TokenCredentials tokenCredentials ? tokenCredentials.getToken() : null;
      // A remembered token passed the strict signature check when it was verified (the key is its whole text).
      User known = token == null ? null : verification.known(token);
      Future<User> user;
      if (known != null) {
        // A user of its own (its authorizations are per request) over the remembered, read-only claims.
        user = Future.succeededFuture(User.create(known.principal(), known.attributes()));
      } else {
        if (token != null && !strictSignature(token)) {
          return Future.failedFuture(badJwt());
        }
        try {
          user = verification.delegate().authenticate(credentials);
        } catch (RuntimeException e) {
          return Future.failedFuture(e);
        }
        if (token != null) {
          // A read-only copy as verified, before any handler adds to the user handed out.
          user = user.onSuccess(verified -> verification.remember(token,
            User.create(readOnly(verified.principal()), readOnly(verified.attributes()))));
        }
      }
      return user.map(authenticated -> {
        JsonObject claims = claims(authenticated);
        long now = clock.instant().getEpochSecond();
        if (now - leeway >= ((Number) claims.getValue("exp")).longValue()
          || (claims.containsKey("iat") && ((Number) claims.getValue("iat")).longValue() > now + leeway)
          || (claims.containsKey("nbf") && ((Number) claims.getValue("nbf")).longValue() > now + leeway)) {
          throw badJwt();
        }
        return authenticated;
      });
    }

    @Override
    public String generateToken(JsonObject claims, JWTOptions options) {
      return current.delegate().generateToken(claims, options);
    }

    @Override
    public String generateToken(JsonObject claims) {
      return current.delegate().generateToken(claims);
    }

  }

  /**
   * A deep copy that cannot be changed (a change throws): remembered claims are handed to every later request with the
   * same token, on this event loop, without a copy each time.
   */
  static JsonObject readOnly(JsonObject json) {
    Map<String, Object> map = new LinkedHashMap<>();
    json.getMap().forEach((key, value) -> map.put(key, readOnlyValue(value)));
    return new JsonObject(Collections.unmodifiableMap(map));
  }

  @SuppressWarnings("unchecked")
  private static Object readOnlyValue(Object value) {
    if (value instanceof JsonObject object) {
      return readOnly(object);
    }
    if (value instanceof Map<?, ?> map) {
      return readOnly(new JsonObject((Map<String, Object>) map));
    }
    if (value instanceof JsonArray array) {
      return readOnly(array);
    }
    if (value instanceof List<?> list) {
      return readOnly(new JsonArray((List<Object>) list));
    }
    return value;
  }

  private static JsonArray readOnly(JsonArray array) {
    List<Object> list = new ArrayList<>(array.size());
    array.getList().forEach(value -> list.add(readOnlyValue(value)));
    return new JsonArray(Collections.unmodifiableList(list));
  }

  /** One set of verification keys and the tokens verified with it, least recently used first. */
  private static final class Verification {

    private final JWTAuth delegate;
    private final Map<String, User> verified = new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, User> eldest) {
        return size() > VERIFIED_TOKENS;
      }
    };

    Verification(JWTAuth delegate) {
      this.delegate = delegate;
    }

    JWTAuth delegate() {
      return delegate;
    }

    synchronized User known(String token) {
      return verified.get(token);
    }

    synchronized void remember(String token, User user) {
      verified.put(token, user);
    }
  }

  /**
   * RFC 7515 and RFC 7518 §3.4: the signature is canonical base64url and an ES256 one exactly 64 octets.
   * vertx-auth-jwt also accepts a longer ES256 signature (it halves the bytes and drops the rest), a DER one, and
   * set padding bits, so a valid token had other spellings that verified as well (a token with a character
   * appended, say).
   */
  static boolean strictSignature(String token) {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      // Not a JWS in compact form: vertx-auth-jwt refuses it.
      return true;
    }
    try {
      byte[] signature = Base64.getUrlDecoder().decode(parts[2]);
      if (!Base64.getUrlEncoder().withoutPadding().encodeToString(signature).equals(parts[2])) {
        return false;
      }
      Object alg = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8))
        .getValue("alg");
      return !"ES256".equals(alg) || signature.length == 64;
    } catch (RuntimeException e) {
      return false;
    }
  }

  public static AuthException badJwt() {
    return new AuthException(ErrorCode.BAD_JWT, "invalid JWT: unable to parse or verify signature, token is expired or not valid yet");
  }
}
