package io.portcullis.token;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Encrypts private signing keys at rest with AES-256-GCM under a key derived (SHA-256) from
 * {@code jwt.keys_encryption_key}. Stored form: {@code enc:v1:<base64(iv ‖ ciphertext ‖ tag)>}; the key id is
 * bound as associated data, so a ciphertext cannot be moved to another row.
 */
public final class KeyCipher {

  static final String PREFIX = "enc:v1:";
  private static final int IV_BYTES = 12;
  private static final int TAG_BITS = 128;

  private final SecretKeySpec key;
  private final SecureRandom random;

  /** Null when no encryption key is configured. */
  public static KeyCipher of(String secret, SecureRandom random) {
    return secret == null || secret.isEmpty() ? null : new KeyCipher(secret, random);
  }

  private KeyCipher(String secret, SecureRandom random) {
    try {
      this.key = new SecretKeySpec(MessageDigest.getInstance("SHA-256")
        .digest(secret.getBytes(StandardCharsets.UTF_8)), "AES");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    this.random = random;
  }

  public static boolean isEncrypted(String stored) {
    return stored.startsWith(PREFIX);
  }

  public String encrypt(String plaintext, String kid) {
    try {
      byte[] iv = new byte[IV_BYTES];
      random.nextBytes(iv);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
      cipher.updateAAD(kid.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
      return PREFIX + Base64.getEncoder().encodeToString(ByteBuffer.allocate(iv.length + sealed.length)
        .put(iv).put(sealed).array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Cannot encrypt signing key " + kid, e);
    }
  }

  /** The plaintext; a wrong key fails with a message that says so and names no secret. */
  public String decrypt(String stored, String kid) {
    try {
      byte[] all = Base64.getDecoder().decode(stored.substring(PREFIX.length()));
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, all, 0, IV_BYTES));
      cipher.updateAAD(kid.getBytes(StandardCharsets.UTF_8));
      return new String(cipher.doFinal(all, IV_BYTES, all.length - IV_BYTES), StandardCharsets.UTF_8);
    } catch (AEADBadTagException e) {
      throw new KeyEncryptionException("jwt.keys_encryption_key (PORTCULLIS_JWT_KEYS_ENCRYPTION_KEY) is wrong: "
        + "it cannot decrypt signing key " + kid);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new KeyEncryptionException("Signing key " + kid + " is stored in an unreadable form");
    }
  }

  /** Start-up must stop: the stored keys and the configured encryption key do not fit together. */
  public static final class KeyEncryptionException extends RuntimeException {
    public KeyEncryptionException(String message) {
      super(message);
    }
  }
}
