package io.portcullis.mfa;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;

/**
 * RFC 6238 TOTP as authenticator apps compute it: HMAC-SHA1, 6 digits, 30-second steps, and one step of clock
 * skew either way. Answers the step a code matched, so that the caller can refuse any code of that step or an
 * earlier one afterwards (a code is accepted at most once).
 */
public final class Totp {

  public static final int PERIOD_SECONDS = 30;
  public static final int DIGITS = 6;
  private static final int SKEW_STEPS = 1;
  private static final int MODULUS = 1_000_000;

  private Totp() {
  }

  /** The time step of an instant. */
  public static long step(Instant now) {
    return Math.floorDiv(now.getEpochSecond(), PERIOD_SECONDS);
  }

  /** RFC 4226 HOTP of {@code key} at {@code counter}, as 6 digits. */
  public static String code(byte[] key, long counter) {
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(key, "HmacSHA1"));
      byte[] hash = mac.doFinal(ByteBuffer.allocate(8).putLong(counter).array());
      int offset = hash[hash.length - 1] & 0x0f;
      int binary = ((hash[offset] & 0x7f) << 24) | ((hash[offset + 1] & 0xff) << 16)
        | ((hash[offset + 2] & 0xff) << 8) | (hash[offset + 3] & 0xff);
      return String.format("%0" + DIGITS + "d", binary % MODULUS);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The step within ±1 of {@code nowStep}, later than {@code lastAcceptedStep}, whose code is {@code code}; -1
   * when there is none. Every candidate is compared (in constant time), so the answer time tells nothing.
   */
  public static long matchingStep(byte[] key, String code, long nowStep, long lastAcceptedStep) {
    byte[] given = code.getBytes(StandardCharsets.US_ASCII);
    long matched = -1;
    for (long step = nowStep - SKEW_STEPS; step <= nowStep + SKEW_STEPS; step++) {
      boolean equal = MessageDigest.isEqual(code(key, step).getBytes(StandardCharsets.US_ASCII), given);
      if (equal && step > lastAcceptedStep && matched < 0) {
        matched = step;
      }
    }
    return matched;
  }
}
