package io.portcullis.credential;

import com.password4j.BcryptFunction;
import com.password4j.Password;
import io.portcullis.config.Config;
import io.portcullis.metrics.AuthMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Hashes and verifies passwords: argon2id with the configured parameters, bcrypt accepted for imported users.
 * Every method blocks for tens of milliseconds: call it only on a worker thread. The argon2 block memory comes from
 * an {@link Argon2id} that keeps it between hashes, one per process ({@link HashMemory}).
 */
public final class PasswordHasher {

  private static final Logger LOG = LoggerFactory.getLogger(PasswordHasher.class);
  private static final int HASH_LENGTH = 32;
  private static final int SALT_LENGTH = 16;

  /** The outcome of a check; {@code rehash} is true when the stored hash should be replaced by a current one. */
  public record Verification(boolean matches, boolean rehash) {
    static final Verification FAILED = new Verification(false, false);
  }

  /** Imported argon2 hashes beyond the configuration's own ranges are refused rather than computed. */
  private static final int MAX_MEMORY_KIB = 4 * 1024 * 1024;
  private static final int MAX_ITERATIONS = 100;
  private static final int MAX_PARALLELISM = 64;
  private static final int MAX_HASH_LENGTH = 1024;

  private final Argon2id argon2;
  private final Argon2id.Parameters parameters;
  private final SecureRandom random;
  private final byte[] dummySalt = new byte[SALT_LENGTH];
  private final AuthMetrics metrics;

  public PasswordHasher(Config.Password config, SecureRandom random) {
    this(config, random, AuthMetrics.of(null));
  }

  public PasswordHasher(Config.Password config, SecureRandom random, AuthMetrics metrics) {
    this(config, random, metrics, new Argon2id(parameters(config), 1));
  }

  /** With the process's argon2 memory, shared by its hashing workers. */
  public PasswordHasher(Config.Password config, SecureRandom random, AuthMetrics metrics, Argon2id argon2) {
    this.metrics = metrics;
    this.random = random;
    this.parameters = parameters(config);
    this.argon2 = argon2;
    random.nextBytes(dummySalt);
  }

  /** The argon2id parameters of new hashes. */
  static Argon2id.Parameters parameters(Config.Password config) {
    return new Argon2id.Parameters(Argon2id.Type.ID, Argon2id.VERSION_13, config.argon2MemoryKib(),
      config.argon2Iterations(), config.argon2Parallelism(), HASH_LENGTH);
  }

  public String hash(String password) {
    long start = System.nanoTime();
    try {
      byte[] salt = new byte[SALT_LENGTH];
      random.nextBytes(salt);
      return HashPriority.run(
        () -> Argon2id.encode(parameters, salt, argon2.hash(Argon2id.utf8(password), salt, parameters)));
    } finally {
      metrics.hashed(System.nanoTime() - start);
    }
  }

  /** Checks a password against a stored hash; a missing hash still costs one argon2id verification. */
  public Verification verify(String password, String storedHash) {
    long start = System.nanoTime();
    try {
      return HashPriority.run(() -> check(password, storedHash));
    } finally {
      metrics.hashed(System.nanoTime() - start);
    }
  }

  private Verification check(String password, String storedHash) {
    if (storedHash == null) {
      dummyCheck(password);
      return Verification.FAILED;
    }
    try {
      if (storedHash.startsWith("$argon2")) {
        Argon2id.Encoded stored = Argon2id.parse(storedHash);
        if (!withinLimits(stored.parameters())) {
          throw new IllegalArgumentException("argon2 parameters out of range");
        }
        boolean matches = MessageDigest.isEqual(stored.hash(),
          argon2.hash(Argon2id.utf8(password), stored.salt(), stored.parameters()));
        return new Verification(matches, matches && !stored.parameters().equals(parameters));
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
    dummyCheck(password);
    return Verification.FAILED;
  }

  /** For an unknown email or an unusable hash: the work of a wrong password, so timing tells nothing. */
  private void dummyCheck(String password) {
    argon2.hash(Argon2id.utf8(password), dummySalt, parameters);
  }

  private static boolean withinLimits(Argon2id.Parameters p) {
    return p.memoryKib() <= MAX_MEMORY_KIB && p.iterations() <= MAX_ITERATIONS && p.parallelism() <= MAX_PARALLELISM
      && p.hashLength() <= MAX_HASH_LENGTH;
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
}
