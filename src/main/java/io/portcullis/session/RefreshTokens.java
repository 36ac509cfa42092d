package io.portcullis.session;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.UUID;

/**
 * Refresh tokens are derived, not stored: token n of a session is HMAC-SHA256(server secret, session id ‖ n),
 * 256 bits, and only its SHA-256 lands in the database. Derivation lets a concurrent or repeated refresh be
 * answered with the session's already-issued active token (within the reuse interval) without ever keeping a token in clear.
 */
public final class RefreshTokens {

  private final ThreadLocal<Mac> mac;
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  });

  public RefreshTokens(byte[] secret) {
    SecretKeySpec key = new SecretKeySpec(secret, "HmacSHA256");
    this.mac = ThreadLocal.withInitial(() -> {
      try {
        Mac m = Mac.getInstance("HmacSHA256");
        m.init(key);
        return m;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  public String token(UUID sessionId, long counter) {
    ByteBuffer input = ByteBuffer.allocate(24)
      .putLong(sessionId.getMostSignificantBits())
      .putLong(sessionId.getLeastSignificantBits())
      .putLong(counter);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.get().doFinal(input.array()));
  }

  public static byte[] hash(String token) {
    return SHA256.get().digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
