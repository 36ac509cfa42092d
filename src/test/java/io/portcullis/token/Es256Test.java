package io.portcullis.token;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our ES256 signer against the two verifiers that matter: the JDK's ECDSA (what JWKS-verifying resource servers
 * do, over the R‖S bytes) and vertx-auth-jwt (what Portcullis itself verifies with); and against vertx-auth-jwt's
 * own signer for everything but the signature bytes.
 */
class Es256Test {

  private static final Base64.Decoder B64 = Base64.getUrlDecoder();
  private static Vertx vertx;
  private static JsonObject jwk;
  private static JWTAuth vertxJwt;
  private static Es256 signer;

  @BeforeContainer
  static void keys() {
    vertx = Vertx.vertx();
    jwk = SigningKeys.generate("ES256", new SecureRandom());
    vertxJwt = JWTAuth.create(vertx, new JWTAuthOptions().addJwk(jwk));
    signer = new Es256(jwk);
  }

  @AfterContainer
  static void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Property(tries = 200)
  void theJdkAndVertxVerifyEveryTokenAndOnlyTheSignatureDiffersFromVertx(@ForAll String sub,
    @ForAll @IntRange(min = 0, max = 86_400) int age)
    throws Exception {
    long iat = System.currentTimeMillis() / 1000 - age;
    JsonObject claims = new JsonObject().put("sub", sub).put("iat", iat).put("exp", iat + 86_400 + 3600)
      .put("user_metadata", new JsonObject().put("name", sub));
    String ours = signer.sign(claims);
    String theirs = vertxJwt.generateToken(claims, new JWTOptions().setAlgorithm("ES256").setNoTimestamp(true));

    String[] o = ours.split("\\.");
    String[] t = theirs.split("\\.");
    assertEquals(3, o.length);
    assertEquals(t[0], o[0], "header");
    assertEquals(t[1], o[1], "payload");
    assertEquals(86, o[2].length(), "a 64-byte R||S signature in base64url");

    Signature ecdsa = Signature.getInstance("SHA256withECDSAinP1363Format");
    ecdsa.initVerify(publicKey(jwk));
    ecdsa.update((o[0] + "." + o[1]).getBytes(StandardCharsets.US_ASCII));
    assertTrue(ecdsa.verify(B64.decode(o[2])), "the JDK verifies it");

    JsonObject principal = vertxJwt.authenticate(new TokenCredentials(ours))
      .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).principal();
    assertEquals(sub, principal.getString("sub"));
  }

  @Property(tries = 20)
  void theSameClaimsSignedTwiceGiveTwoTokens(@ForAll String sub) {
    // Two refreshes of one session within a second have the same claims; clients expect a new access token.
    JsonObject claims = new JsonObject().put("sub", sub).put("iat", 1_700_000_000L);
    assertTrue(!signer.sign(claims).equals(signer.sign(claims)));
  }

  @Property(tries = 50)
  void aChangedPayloadNoLongerVerifies(@ForAll String sub) throws Exception {
    String[] o = signer.sign(new JsonObject().put("sub", sub)).split("\\.");
    byte[] payload = B64.decode(o[1]);
    payload[payload.length - 2] ^= 1;
    Signature ecdsa = Signature.getInstance("SHA256withECDSAinP1363Format");
    ecdsa.initVerify(publicKey(jwk));
    ecdsa.update((o[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(payload))
      .getBytes(StandardCharsets.US_ASCII));
    assertTrue(!ecdsa.verify(B64.decode(o[2])));
  }

  @Property(tries = 1)
  void keysThatAreNotPrivateP256KeysAreRefused() {
    JsonObject publicOnly = jwk.copy();
    publicOnly.remove("d");
    assertThrows(IllegalArgumentException.class, () -> new Es256(publicOnly));
    assertThrows(IllegalArgumentException.class, () -> new Es256(jwk.copy().put("crv", "P-384")));
    assertThrows(IllegalArgumentException.class, () -> new Es256(SigningKeys.generate("RS256", new SecureRandom())));
    byte[] zero = new byte[32];
    Arrays.fill(zero, (byte) 0);
    assertThrows(IllegalArgumentException.class,
      () -> new Es256(jwk.copy().put("d", Base64.getUrlEncoder().withoutPadding().encodeToString(zero))));
  }

  private static PublicKey publicKey(JsonObject jwk) throws Exception {
    AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
    parameters.init(new ECGenParameterSpec("secp256r1"));
    ECParameterSpec spec = parameters.getParameterSpec(ECParameterSpec.class);
    ECPoint point = new ECPoint(new BigInteger(1, B64.decode(jwk.getString("x"))),
      new BigInteger(1, B64.decode(jwk.getString("y"))));
    return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, spec));
  }
}
