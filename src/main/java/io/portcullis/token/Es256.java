package io.portcullis.token;

import io.vertx.core.json.JsonObject;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.signers.ECDSASigner;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Signs JWS compact tokens with ES256 (ECDSA on P-256 with SHA-256) from a private JWK, producing exactly what
 * vertx-auth-jwt's {@code generateToken} does: header {@code {"typ":"JWT","alg":"ES256","kid":…}}, the claims as
 * encoded JSON, and the signature as R‖S (64 bytes, RFC 7518 §3.4).
 *
 * <p>Why not the JDK: its P-256 signing takes ~0.55 ms on these machines (a refresh's whole budget), Bouncy
 * Castle's fixed-base comb multiplication over its specialised P-256 field ~0.08 ms. The nonce is random, from a
 * {@link SecureRandom}, as the JDK's signer makes it: deterministic nonces (RFC 6979) would make two refreshes of one
 * session within a second return the same access token, which clients take for a refresh that did not happen.
 * Tokens are verified as before, by vertx-auth-jwt with the JDK provider.
 */
final class Es256 {

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final ECDomainParameters P256;

  static {
    X9ECParameters curve = CustomNamedCurves.getByName("secp256r1");
    P256 = new ECDomainParameters(curve.getCurve(), curve.getG(), curve.getN(), curve.getH());
  }

  private final ParametersWithRandom key;
  private final byte[] header;

  /** {@code jwk}: a private EC JWK on P-256 ({@code crv}, {@code d}, {@code kid}). */
  Es256(JsonObject jwk) {
    if (!"EC".equals(jwk.getString("kty")) || !"P-256".equals(jwk.getString("crv")) || jwk.getString("d") == null) {
      throw new IllegalArgumentException("ES256 needs a private EC key on P-256");
    }
    BigInteger d = new BigInteger(1, Base64.getUrlDecoder().decode(jwk.getString("d")));
    if (d.signum() <= 0 || d.compareTo(P256.getN()) >= 0) {
      throw new IllegalArgumentException("ES256 private key out of range");
    }
    this.key = new ParametersWithRandom(new ECPrivateKeyParameters(d, P256), new SecureRandom());
    JsonObject header = new JsonObject().put("typ", "JWT").put("alg", "ES256");
    if (jwk.getString("kid") != null) {
      header.put("kid", jwk.getString("kid"));
    }
    this.header = B64.encode(header.encode().getBytes(StandardCharsets.UTF_8));
  }

  /** The compact JWS of {@code claims}. Safe to call from several threads. */
  String sign(JsonObject claims) {
    byte[] payload = B64.encode(claims.encode().getBytes(StandardCharsets.UTF_8));
    byte[] input = new byte[header.length + 1 + payload.length];
    System.arraycopy(header, 0, input, 0, header.length);
    input[header.length] = '.';
    System.arraycopy(payload, 0, input, header.length + 1, payload.length);

    ECDSASigner signer = new ECDSASigner();
    signer.init(true, key);
    BigInteger[] rs = signer.generateSignature(sha256(input));
    byte[] signature = new byte[64];
    fixed32(rs[0], signature, 0);
    fixed32(rs[1], signature, 32);

    byte[] sig = B64.encode(signature);
    byte[] token = new byte[input.length + 1 + sig.length];
    System.arraycopy(input, 0, token, 0, input.length);
    token[input.length] = '.';
    System.arraycopy(sig, 0, token, input.length + 1, sig.length);
    return new String(token, StandardCharsets.US_ASCII);
  }

  private static byte[] sha256(byte[] input) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(input);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code value} as 32 big-endian bytes (ECDSA's r and s are below the P-256 group order). */
  private static void fixed32(BigInteger value, byte[] out, int offset) {
    byte[] bytes = value.toByteArray();
    int length = Math.min(bytes.length, 32);
    System.arraycopy(bytes, bytes.length - length, out, offset + 32 - length, length);
  }
}
