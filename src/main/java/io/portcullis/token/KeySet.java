package io.portcullis.token;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The keys one process works with, loaded from the database at start-up: the one JWK that signs (with its
 * private part), the JWKs that verify, the public JWKS document, and the refresh-token derivation secret.
 */
public record KeySet(JsonObject signingJwk, List<JsonObject> verificationJwks, JsonArray publishedJwks,
                     byte[] refreshSecret) {

  /** The {@code kid} new tokens carry; null for a symmetric (HS256) deployment. */
  public String signingKid() {
    return signingJwk.getString("kid");
  }

  public String algorithm() {
    return signingJwk.getString("alg");
  }
}
