package io.portcullis.credential;

import com.password4j.Argon2Function;
import com.password4j.BcryptFunction;
import com.password4j.Password;
import com.password4j.types.Argon2;
import io.portcullis.config.Config;
import io.portcullis.metrics.AuthMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * Hashes and verifies passwords: argon2id with the configured parameters, bcrypt accepted for imported users.
 * Every method blocks for tens of milliseconds: call it only on a worker thread.
 */
public final class PasswordHasher {

  private static final Logger LOG = LoggerFactory.getLogger(PasswordHasher.class);
  private static final int HASH_LENGTH = 32;
  private static final int SALT_LENGTH = 16;

  /** The outcome of a check; {@code rehash} is true when the stored hash should be replaced by a current one. */
  public record Verification(boolean matches, boolean rehash) {
    static final Verification FAILED = new Verification(false, false);
  }

  private final Argon2Function argon2;
  private final String dummyHash;
  private final AuthMetrics metrics;

  public PasswordHasher(Config.Password config, SecureRandom random) {
    this(config, random, AuthMetrics.of(null));
  }

  public PasswordHasher(Config.Password config, SecureRandom random, AuthMetrics metrics) {
    this.metrics = metrics;
    this.argon2 = Argon2Function.getInstance(config.argon2MemoryKib(), config.argon2Iterations(),
      config.argon2Parallelism(), HASH_LENGTH, Argon2.ID, Argon2Function.ARGON2_VERSION_13);
    byte[] filler = new byte[24];
    random.nextBytes(filler);
    // Checked against when the email is unknown, so that path costs what a wrong password costs.
    this.dummyHash = hash(Base64.getEncoder().encodeToString(filler));
  }

  public String hash(String password) {
    long start = System.nanoTime();
    try {
      return Password.hash(password).addRandomSalt(SALT_LENGTH).with(argon2).getResult();
    } finally {
      metrics.hashed(System.nanoTime() - start);
    }
  }

  /** Checks a password against a stored hash; a missing hash still costs one argon2id verification. */
  public Verification verify(String password, String storedHash) {
    long start = System.nanoTime();
    try {
      return check(password, storedHash);
    } finally {
      metrics.hashed(System.nanoTime() - start);
    }
  }

  private Verification check(String password, String storedHash) {
    if (storedHash == null) {
      Password.check(password, dummyHash).with(argon2);
      return Verification.FAILED;
    }
    try {
      if (storedHash.startsWith("$argon2")) {
        Argon2Function stored = Argon2Function.getInstanceFromHash(storedHash);
        boolean matches = Password.check(password, storedHash).with(stored);
        return new Verification(matches, matches && !sameParameters(stored));
      }
      if (storedHash.startsWith("$2a$") || storedHash.startsWith("$2b$") || storedHash.startsWith("$2y$")) {
        boolean matches = Password.check(password, storedHash).with(BcryptFunction.getInstanceFromHash(storedHash));
        return new Verification(matches, matches);
      }
      if (storedHash.startsWith("pbkdf2_sha256$")) {
        boolean matches = pbkdf2Matches(password, storedHash);
        return new Verification(matches, matches);
      }
    } catch (RuntimeException e) {
      LOG.warn("Stored password hash could not be parsed: {}", e.getClass().getSimpleName());
    }
    Password.check(password, dummyHash).with(argon2);
    return Verification.FAILED;
  }

  /**
   * PBKDF2-HMAC-SHA256 hashes as Django stores them ({@code pbkdf2_sha256$<iterations>$<salt>$<base64 hash>}),
   * for users imported from such a system; replaced by argon2id at their first sign-in.
   */
  private static boolean pbkdf2Matches(String password, String stored) {
    String[] parts = stored.split("\\$");
    if (parts.length != 4) {
      return false;
    }
    int iterations = Integer.parseInt(parts[1]);
    if (iterations < 1 || iterations > 10_000_000) {
      return false;
    }
    byte[] expected = Base64.getDecoder().decode(parts[3]);
    try {
      javax.crypto.SecretKeyFactory factory = javax.crypto.SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
      byte[] actual = factory.generateSecret(new javax.crypto.spec.PBEKeySpec(password.toCharArray(),
        parts[2].getBytes(java.nio.charset.StandardCharsets.UTF_8), iterations, expected.length * 8)).getEncoded();
      return java.security.MessageDigest.isEqual(expected, actual);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private boolean sameParameters(Argon2Function stored) {
    return stored.getMemory() == argon2.getMemory()
      && stored.getIterations() == argon2.getIterations()
      && stored.getParallelism() == argon2.getParallelism()
      && stored.getOutputLength() == argon2.getOutputLength()
      && stored.getVariant() == argon2.getVariant()
      && stored.getVersion() == argon2.getVersion();
  }
}
