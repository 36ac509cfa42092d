package io.portcullis.external;

import io.vertx.core.Future;

import java.util.List;
import java.util.Map;

/** One configured sign-in provider: where to send the browser, and what its callback's code proves. */
public interface ExternalProvider {

  String name();

  /**
   * The provider's authorization URL for this flow: {@code state} the flow id, {@code nonce} bound into the ID
   * token, {@code challenge} the S256 challenge of the verifier this service keeps for the code exchange.
   */
  Future<String> authorizeUrl(String state, String nonce, String challenge, List<String> scopes,
                              Map<String, String> extra);

  /** Exchanges the callback's code (with the flow's verifier) and answers the verified identity. */
  Future<ProviderIdentity> redeem(String code, String verifier, String nonce);

  /**
   * Verifies an ID token the app obtained itself (signInWithIdToken); {@code nonce} the hashed nonce it must carry,
   * or null when none was given. Providers without ID tokens fail.
   */
  Future<ProviderIdentity> verifyIdToken(String idToken, String nonce, String accessToken);
}
