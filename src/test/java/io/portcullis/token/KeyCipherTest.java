package io.portcullis.token;

import org.junit.jupiter.api.Test;

import java.security.SecureRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Private signing keys sealed at rest (AES-GCM, the key id bound as associated data). */
class KeyCipherTest {

  private static final String SECRET = "a long enough encryption secret";
  private static final String JWK = "{\"kty\":\"EC\",\"d\":\"private part\"}";

  private final KeyCipher cipher = KeyCipher.of(SECRET, new SecureRandom());

  @Test
  void sealedKeysOpenWithTheSameSecretAndKid() {
    String sealed = cipher.encrypt(JWK, "kid-1");

    assertTrue(KeyCipher.isEncrypted(sealed));
    assertFalse(sealed.contains("private part"));
    assertEquals(JWK, KeyCipher.of(SECRET, new SecureRandom()).decrypt(sealed, "kid-1"));
  }

  @Test
  void eachSealingUsesAFreshNonce() {
    assertNotEquals(cipher.encrypt(JWK, "kid-1"), cipher.encrypt(JWK, "kid-1"));
  }

  @Test
  void aWrongSecretIsNamedWithoutTellingTheSecret() {
    String sealed = cipher.encrypt(JWK, "kid-1");

    KeyCipher.KeyEncryptionException e = assertThrows(KeyCipher.KeyEncryptionException.class,
      () -> KeyCipher.of("another secret entirely", new SecureRandom()).decrypt(sealed, "kid-1"));

    assertTrue(e.getMessage().contains("jwt.keys_encryption_key"), e.getMessage());
    assertTrue(e.getMessage().contains("kid-1"), e.getMessage());
    assertFalse(e.getMessage().contains("another secret"), e.getMessage());
  }

  @Test
  void aSealedKeyMovedToAnotherKidDoesNotOpen() {
    String sealed = cipher.encrypt(JWK, "kid-1");
    assertThrows(KeyCipher.KeyEncryptionException.class, () -> cipher.decrypt(sealed, "kid-2"));
  }

  @Test
  void aTamperedOrGarbledKeyDoesNotOpen() {
    String sealed = cipher.encrypt(JWK, "kid-1");
    // A character well inside the ciphertext (the last ones may only carry unused bits).
    int at = KeyCipher.PREFIX.length() + 24;
    String tampered = sealed.substring(0, at) + (sealed.charAt(at) == 'A' ? 'B' : 'A') + sealed.substring(at + 1);

    assertThrows(KeyCipher.KeyEncryptionException.class, () -> cipher.decrypt(tampered, "kid-1"));
    assertThrows(KeyCipher.KeyEncryptionException.class, () -> cipher.decrypt(KeyCipher.PREFIX + "!!", "kid-1"));
  }

  @Test
  void noSecretMeansNoCipher() {
    assertNull(KeyCipher.of(null, new SecureRandom()));
    assertNull(KeyCipher.of("", new SecureRandom()));
    assertFalse(KeyCipher.isEncrypted(JWK));
  }
}
