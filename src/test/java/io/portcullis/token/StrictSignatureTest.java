package io.portcullis.token;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 7515/7518's one spelling of a signature, checked before vertx-auth-jwt sees the token (it also accepts an
 * ES256 signature with bytes appended, in DER, or with padding bits set).
 */
class StrictSignatureTest {

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  @Test
  void aCanonical64ByteEs256SignaturePasses() {
    assertTrue(TokenVerifier.strictSignature(token("ES256", new byte[64])));
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {0, 63, 65, 70, 72, 128})
  void anEs256SignatureOfAnyOtherLengthFails(int length) {
    assertFalse(TokenVerifier.strictSignature(token("ES256", new byte[length])));
  }

  @Test
  void otherAlgorithmsKeepTheirOwnLengths() {
    assertTrue(TokenVerifier.strictSignature(token("RS256", new byte[256])));
    assertTrue(TokenVerifier.strictSignature(token("HS256", new byte[32])));
  }

  @Test
  void paddingBitsSetOrPaddingCharactersFail() {
    String canonical = token("ES256", new byte[64]);
    // 64 bytes are 86 base64url characters, the last carrying 4 unused bits: "A" → "B" sets one of them.
    String bitsSet = canonical.substring(0, canonical.length() - 1) + "B";
    assertFalse(TokenVerifier.strictSignature(bitsSet));
    assertFalse(TokenVerifier.strictSignature(canonical + "=="));
    assertFalse(TokenVerifier.strictSignature(canonical + "A"));
  }

  @Test
  void aSignatureThatIsNoBase64urlFails() {
    String canonical = token("ES256", new byte[64]);
    assertFalse(TokenVerifier.strictSignature(canonical.substring(0, canonical.length() - 2) + "+/"));
  }

  @Test
  void whatIsNoCompactJwsIsLeftToTheVerifier() {
    assertTrue(TokenVerifier.strictSignature("not-a-jws"));
    assertTrue(TokenVerifier.strictSignature("a.b.c.d"));
  }

  private static String token(String alg, byte[] signature) {
    String header = B64.encodeToString(("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}").getBytes(StandardCharsets.UTF_8));
    String payload = B64.encodeToString("{\"sub\":\"x\"}".getBytes(StandardCharsets.UTF_8));
    return header + "." + payload + "." + B64.encodeToString(signature);
  }
}
