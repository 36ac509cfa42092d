package io.portcullis.token;

import io.portcullis.config.Config;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.time.Instant;

/**
 * Signs access tokens with the current key only (a JWTAuth holding several keys of one algorithm would pick one
 * at random), putting {@code iat} and {@code exp} from the injected clock. ES256 keys sign through {@link Es256}
 * (several times faster than the JDK provider); RS256 and HS256 through vertx-auth-jwt.
 */
public final class TokenSigner {

  private final JWTAuth signer;
  private final Es256 es256;
  private final JWTOptions options;
  private final Config.Jwt jwt;

  public TokenSigner(Vertx vertx, KeySet keys, Config.Jwt jwt) {
    this.jwt = jwt;
    this.signer = JWTAuth.create(vertx, new JWTAuthOptions().addJwk(keys.signingJwk()));
    this.es256 = "ES256".equals(keys.algorithm()) ? new Es256(keys.signingJwk()) : null;
    this.options = new JWTOptions().setAlgorithm(keys.algorithm()).setNoTimestamp(true);
  }

  /** A user's access token, with GoTrue's claim set (what supabase-js and Supabase's RLS policies read). */
  public String accessToken(JsonObject user, String sessionId, String amrMethod, Instant amrAt, Instant now) {
    return accessToken(user, sessionId, amrMethod, amrAt, null, null, now);
  }

  /**
   * With a second factor ({@code mfaMethod} not null) the token is {@code aal2} and its {@code amr} lists that
   * factor first (newest first, as GoTrue orders it).
   */
  public String accessToken(JsonObject user, String sessionId, String amrMethod, Instant amrAt, String mfaMethod,
                            Instant mfaAt, Instant now) {
    return sign(claims(user, sessionId, amrMethod, amrAt, mfaMethod, mfaAt, now));
  }

  /** The claims of a user's access token, before any hook changes them. */
  public JsonObject claims(JsonObject user, String sessionId, String amrMethod, Instant amrAt, String mfaMethod,
                           Instant mfaAt, Instant now) {
    JsonArray amr = new JsonArray();
    if (mfaMethod != null) {
      amr.add(new JsonObject().put("method", mfaMethod).put("timestamp", mfaAt.getEpochSecond()));
    }
    amr.add(new JsonObject().put("method", amrMethod).put("timestamp", amrAt.getEpochSecond()));
    return new JsonObject()
      .put("iss", jwt.issuer())
      .put("sub", user.getString("id"))
      .put("aud", jwt.aud())
      .put("exp", now.getEpochSecond() + jwt.exp())
      .put("iat", now.getEpochSecond())
      .put("email", user.getString("email"))
      .put("phone", user.getString("phone"))
      .put("app_metadata", user.getJsonObject("app_metadata"))
      .put("user_metadata", user.getJsonObject("user_metadata"))
      .put("role", user.getString("role"))
      .put("aal", mfaMethod == null ? "aal1" : "aal2")
      .put("amr", amr)
      .put("session_id", sessionId)
      .put("is_anonymous", user.getBoolean("is_anonymous", false));
  }

  public String sign(JsonObject claims) {
    return es256 != null ? es256.sign(claims) : signer.generateToken(claims, options);
  }

  /** A long-lived token for operators' admin calls: no user, no session. */
  public String serviceKey(String role, Instant now, long lifetimeSeconds) {
    JsonObject claims = new JsonObject()
      .put("iss", jwt.issuer())
      .put("aud", jwt.aud())
      .put("role", role)
      .put("iat", now.getEpochSecond())
      .put("exp", now.getEpochSecond() + lifetimeSeconds);
    return sign(claims);
  }
}
