package io.portcullis.session;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.UUID;

/**
 * Refresh tokens are derived, not stored: token n of a session is its session id, n, and MAC = HMAC-SHA256(server
 * secret, session id ‖ n), 256 bits, in base64url; only the SHA-256 of the MAC's base64url lands in the database.
 * Derivation lets a concurrent or repeated refresh be answered with the session's already-issued active token
 * (within the reuse interval) without ever keeping a token in clear; carrying the session id and n lets a refresh
 * name the successor's stored hash before it asks the database, so a rotation is one statement.
 * <p>
 * Tokens of the earlier format were the MAC's base64url alone: they are stored under the same hash, so they keep
 * refreshing, and the answer carries the same session's token in the current format.
 */
public final class RefreshTokens {

  /** 16 bytes of session id, 8 of counter, 32 of MAC, in base64url without padding. */
  private static final int BYTES = 56;
  private static final int LENGTH = 75;
  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

  private final ThreadLocal<Mac> mac;
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  });

  /**
   * A presented token: the hash its row is stored under, and, for a token of the current format whose MAC checks,
   * its session and counter ({@code sessionId} null otherwise: the database alone knows).
   */
  public record Presented(byte[] hash, UUID sessionId, long counter) {
  }

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
    return BASE64URL.encodeToString(ByteBuffer.allocate(BYTES)
      .putLong(sessionId.getMostSignificantBits())
      .putLong(sessionId.getLeastSignificantBits())
      .putLong(counter)
      .put(mac(sessionId, counter))
      .array());
  }

  private byte[] mac(UUID sessionId, long counter) {
    ByteBuffer input = ByteBuffer.allocate(24)
      .putLong(sessionId.getMostSignificantBits())
      .putLong(sessionId.getLeastSignificantBits())
      .putLong(counter);
    return mac.get().doFinal(input.array());
  }

  /**
   * What a presented token says: a token of the current format whose MAC is this server's names its session and
   * counter; any other text is looked up as a whole (a token of the earlier format is found, the rest is not).
   */
  public Presented parse(String token) {
    byte[] bytes = decoded(token);
    if (bytes != null) {
      ByteBuffer in = ByteBuffer.wrap(bytes);
      UUID sessionId = new UUID(in.getLong(), in.getLong());
      long counter = in.getLong();
      byte[] presentedMac = new byte[32];
      in.get(presentedMac);
      if (MessageDigest.isEqual(presentedMac, mac(sessionId, counter))) {
        return new Presented(sha256(BASE64URL.encodeToString(presentedMac)), sessionId, counter);
      }
    }
    return new Presented(sha256(token), null, 0);
  }

  /** The hash that token n of a session is stored under. */
  public byte[] storedHash(UUID sessionId, long counter) {
    return sha256(BASE64URL.encodeToString(mac(sessionId, counter)));
  }

  /** The 56 bytes of a token of the current format, or null. */
  private static byte[] decoded(String token) {
    if (token.length() != LENGTH) {
      return null;
    }
    try {
      byte[] bytes = Base64.getUrlDecoder().decode(token);
      // Canonical spelling only: the decoder ignores the last character's two spare bits.
      return bytes.length == BYTES && BASE64URL.encodeToString(bytes).equals(token) ? bytes : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static byte[] sha256(String text) {
    return SHA256.get().digest(text.getBytes(StandardCharsets.UTF_8));
  }
}
