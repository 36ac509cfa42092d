package io.portcullis.token;

import io.portcullis.config.Config;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Signing keys live in PostgreSQL so that a restart or a second instance keeps verifying earlier tokens. The first
 * process to start generates one, under an advisory lock so that two starting together agree on it. Key states
 * follow from time, so every instance agrees without talking to the others: the newest key whose
 * {@code activate_at} has passed signs; a newer one (from {@code rotate-keys}) is published in JWKS before it
 * signs; an older one keeps verifying until the longest-lived token it signed has expired.
 */
public final class SigningKeys {

  private static final long LOCK_ID = 0x706f7274L; // "port"
  private static final String REFRESH_SECRET = "refresh_token_hmac";
  private static final String LOCK = "SELECT pg_advisory_xact_lock($1)";
  private static final String SELECT_KEYS = "SELECT kid, private_jwk, public_jwk, activate_at, max_exp FROM signing_keys "
    + "WHERE algorithm = $1 ORDER BY activate_at DESC, created_at DESC";
  private static final String INSERT_KEY = "INSERT INTO signing_keys (kid, algorithm, private_jwk, public_jwk, "
    + "created_at, activate_at) VALUES ($1, $2, $3, $4, $5, $6)";
  private static final String SEAL_KEY = "UPDATE signing_keys SET private_jwk = $2 WHERE kid = $1";
  private static final String RECORD_EXP = "UPDATE signing_keys SET max_exp = GREATEST(COALESCE(max_exp, $2), $2) "
    + "WHERE kid = $1";
  private static final String SELECT_SECRET = "SELECT value FROM server_secrets WHERE name = $1";
  private static final String INSERT_SECRET = "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3)";

  private SigningKeys() {
  }

  public static Future<KeySet> load(Vertx vertx, Pool pool, Config.Jwt jwt, Clock clock, SecureRandom random) {
    KeyCipher cipher = KeyCipher.of(jwt.keysEncryptionKey(), random);
    return pool.withTransaction(conn -> conn.preparedQuery(LOCK).execute(Tuple.of(LOCK_ID))
      .compose(locked -> secret(conn, clock, random))
      .compose(secret -> jwt.symmetric()
        ? Future.succeededFuture(symmetric(jwt, secret))
        : asymmetric(vertx, conn, jwt, cipher, clock, random, secret)));
  }

  /**
   * Adds the next signing key, published now and signing after {@code jwt.rotation_delay_seconds} (longer than
   * the JWKS cache, so resource servers know it before they see it). A rotation already pending is answered
   * as it is. Answers {@code {kid, activate_at}}.
   */
  public static Future<JsonObject> rotate(Vertx vertx, Pool pool, Config.Jwt jwt, Clock clock, SecureRandom random) {
    if (jwt.symmetric()) {
      return Future.failedFuture(new IllegalStateException("HS256 keys are the configured secret: rotate it in the "
        + "configuration instead"));
    }
    KeyCipher cipher = KeyCipher.of(jwt.keysEncryptionKey(), random);
    // At the database's precision, so that the answer names the activate_at stored (and answered again later).
    OffsetDateTime now = OffsetDateTime.now(clock).truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    return pool.withTransaction(conn -> conn.preparedQuery(LOCK).execute(Tuple.of(LOCK_ID))
      .compose(locked -> conn.preparedQuery(SELECT_KEYS).execute(Tuple.of(jwt.algorithm())))
      .compose(rows -> {
        for (Row row : rows) {
          // The stored keys must open with this process's encryption key: else the new private key would be written
          // in clear, or under a key no server has (their reloads and restarts would then fail).
          open(row.getString("private_jwk"), row.getString("kid"), cipher);
        }
        for (Row row : rows) {
          if (row.getOffsetDateTime("activate_at").isAfter(now)) {
            return Future.succeededFuture(answer(row.getString("kid"), row.getOffsetDateTime("activate_at")));
          }
        }
        OffsetDateTime activateAt = now.plusSeconds(jwt.rotationDelaySeconds());
        return insert(vertx, conn, jwt.algorithm(), cipher, random, now, activateAt)
          .map(jwk -> answer(jwk.getString("kid"), activateAt));
      }));
  }

  /** Remembers the expiry of a long-lived token (a service key) so its key stays published until then. */
  public static Future<Void> recordExpiry(Pool pool, String kid, OffsetDateTime exp) {
    return pool.preparedQuery(RECORD_EXP).execute(Tuple.of(kid, exp)).mapEmpty();
  }

  private static JsonObject answer(String kid, OffsetDateTime activateAt) {
    return new JsonObject().put("kid", kid).put("activate_at", activateAt.toString());
  }

  private static KeySet symmetric(Config.Jwt jwt, byte[] refreshSecret) {
    byte[] secret = jwt.secret().getBytes(StandardCharsets.UTF_8);
    JsonObject oct = new JsonObject()
      .put("kty", "oct")
      .put("alg", jwt.algorithm())
      .put("use", "sig")
      // A kid in every header, as for asymmetric keys: derived from the secret, so every instance agrees without storing it.
      .put("kid", "hs-" + b64(Arrays.copyOf(sha256(secret), 9)))
      .put("k", b64(secret));
    // Symmetric keys are never published: the JWKS stays empty.
    return new KeySet(oct, List.of(oct), new JsonArray(), refreshSecret);
  }

  private static Future<KeySet> asymmetric(Vertx vertx, SqlConnection conn, Config.Jwt jwt, KeyCipher cipher,
                                           Clock clock, SecureRandom random, byte[] refreshSecret) {
    OffsetDateTime now = OffsetDateTime.now(clock);
    return conn.preparedQuery(SELECT_KEYS).execute(Tuple.of(jwt.algorithm())).compose(rows -> {
      List<Row> keys = new ArrayList<>();
      rows.forEach(keys::add);
      Future<Void> sealed = seal(conn, keys, cipher);
      Row signer = keys.stream().filter(k -> !k.getOffsetDateTime("activate_at").isAfter(now)).findFirst().orElse(null);
      if (signer == null) {
        return sealed.compose(done -> insert(vertx, conn, jwt.algorithm(), cipher, random, now, now))
          .map(jwk -> {
            JsonObject publicJwk = publicPart(jwk);
            List<JsonObject> verify = new ArrayList<>();
            JsonArray published = new JsonArray();
            for (Row next : keys) {
              JsonObject pub = new JsonObject(next.getString("public_jwk"));
              verify.add(pub);
              published.add(pub);
            }
            verify.add(publicJwk);
            published.add(publicJwk);
            return new KeySet(jwk, verify, published, refreshSecret);
          });
      }
      String signingKid = signer.getString("kid");
      JsonObject signing = new JsonObject(open(signer.getString("private_jwk"), signingKid, cipher));
      List<JsonObject> verify = new ArrayList<>();
      JsonArray published = new JsonArray();
      OffsetDateTime supersededAt = null;
      for (Row key : keys) {
        OffsetDateTime activateAt = key.getOffsetDateTime("activate_at");
        boolean live = activateAt.isAfter(now) || key == signer || retiresAfter(key, supersededAt, jwt).isAfter(now);
        if (live) {
          JsonObject pub = new JsonObject(key.getString("public_jwk"));
          verify.add(pub);
          published.add(pub);
        }
        if (!activateAt.isAfter(now)) {
          supersededAt = activateAt;
        }
      }
      return sealed.map(done -> new KeySet(signing, verify, published, refreshSecret));
    });
  }

  /** A superseded key verifies until its newest access token and any longer-lived token it signed expired. */
  private static OffsetDateTime retiresAfter(Row key, OffsetDateTime supersededAt, Config.Jwt jwt) {
    OffsetDateTime byAccessTokens = supersededAt == null
      ? OffsetDateTime.MAX
      : supersededAt.plusSeconds(jwt.exp() + (long) jwt.leewaySeconds());
    OffsetDateTime maxExp = key.getOffsetDateTime("max_exp");
    return maxExp != null && maxExp.isAfter(byAccessTokens) ? maxExp.plusSeconds(jwt.leewaySeconds()) : byAccessTokens;
  }

  /** With an encryption key configured, keys still stored in clear are encrypted in place. */
  private static Future<Void> seal(SqlConnection conn, List<Row> keys, KeyCipher cipher) {
    Future<Void> chain = Future.succeededFuture();
    for (Row key : keys) {
      String stored = key.getString("private_jwk");
      String kid = key.getString("kid");
      open(stored, kid, cipher); // fails start-up at once on a wrong or missing encryption key
      if (cipher != null && !KeyCipher.isEncrypted(stored)) {
        chain = chain.compose(done -> conn.preparedQuery(SEAL_KEY).execute(Tuple.of(kid, cipher.encrypt(stored, kid)))
          .mapEmpty());
      }
    }
    return chain;
  }

  private static String open(String stored, String kid, KeyCipher cipher) {
    if (!KeyCipher.isEncrypted(stored)) {
      return stored;
    }
    if (cipher == null) {
      throw new KeyCipher.KeyEncryptionException("Signing key " + kid + " is encrypted: set jwt.keys_encryption_key "
        + "(PORTCULLIS_JWT_KEYS_ENCRYPTION_KEY) to the key it was encrypted with");
    }
    return cipher.decrypt(stored, kid);
  }

  private static Future<JsonObject> insert(Vertx vertx, SqlConnection conn, String algorithm, KeyCipher cipher,
                                           SecureRandom random, OffsetDateTime now, OffsetDateTime activateAt) {
    // Key generation takes up to a second for RSA: never on the event loop.
    return vertx.executeBlocking(() -> generate(algorithm, random), false).compose(privateJwk -> {
      String kid = privateJwk.getString("kid");
      String stored = cipher == null ? privateJwk.encode() : cipher.encrypt(privateJwk.encode(), kid);
      return conn.preparedQuery(INSERT_KEY)
        .execute(Tuple.of(kid, algorithm, stored, publicPart(privateJwk).encode(), now, activateAt))
        .map(done -> privateJwk);
    });
  }

  private static Future<byte[]> secret(SqlConnection conn, Clock clock, SecureRandom random) {
    return conn.preparedQuery(SELECT_SECRET).execute(Tuple.of(REFRESH_SECRET)).compose(rows -> {
      if (rows.iterator().hasNext()) {
        return Future.succeededFuture(rows.iterator().next().getBuffer("value").getBytes());
      }
      byte[] value = new byte[32];
      random.nextBytes(value);
      return conn.preparedQuery(INSERT_SECRET)
        .execute(Tuple.of(REFRESH_SECRET, io.vertx.core.buffer.Buffer.buffer(value), OffsetDateTime.now(clock)))
        .map(done -> value);
    });
  }

  /** A new private JWK (with {@code kid}, {@code alg}, {@code use}) for ES256 or RS256. */
  static JsonObject generate(String algorithm, SecureRandom random) {
    byte[] kidBytes = new byte[12];
    random.nextBytes(kidBytes);
    String kid = b64(kidBytes);
    try {
      if ("ES256".equals(algorithm)) {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), random);
        KeyPair pair = generator.generateKeyPair();
        ECPublicKey pub = (ECPublicKey) pair.getPublic();
        ECPrivateKey priv = (ECPrivateKey) pair.getPrivate();
        return new JsonObject()
          .put("kty", "EC").put("crv", "P-256").put("alg", algorithm).put("use", "sig").put("kid", kid)
          .put("x", b64(unsigned(pub.getW().getAffineX(), 32)))
          .put("y", b64(unsigned(pub.getW().getAffineY(), 32)))
          .put("d", b64(unsigned(priv.getS(), 32)));
      }
      if ("RS256".equals(algorithm)) {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048, random);
        KeyPair pair = generator.generateKeyPair();
        RSAPublicKey pub = (RSAPublicKey) pair.getPublic();
        RSAPrivateCrtKey priv = (RSAPrivateCrtKey) pair.getPrivate();
        return new JsonObject()
          .put("kty", "RSA").put("alg", algorithm).put("use", "sig").put("kid", kid)
          .put("n", b64(unsigned(pub.getModulus(), 0)))
          .put("e", b64(unsigned(pub.getPublicExponent(), 0)))
          .put("d", b64(unsigned(priv.getPrivateExponent(), 0)))
          .put("p", b64(unsigned(priv.getPrimeP(), 0)))
          .put("q", b64(unsigned(priv.getPrimeQ(), 0)))
          .put("dp", b64(unsigned(priv.getPrimeExponentP(), 0)))
          .put("dq", b64(unsigned(priv.getPrimeExponentQ(), 0)))
          .put("qi", b64(unsigned(priv.getCrtCoefficient(), 0)));
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Cannot generate a " + algorithm + " key", e);
    }
    throw new IllegalArgumentException("Unsupported signing algorithm " + algorithm);
  }

  /** The JWK without its private members, as published in JWKS. */
  static JsonObject publicPart(JsonObject jwk) {
    JsonObject copy = jwk.copy();
    for (String member : List.of("d", "p", "q", "dp", "dq", "qi", "k")) {
      copy.remove(member);
    }
    return copy;
  }

  /** Big-endian unsigned bytes, left-padded to {@code length} when it is not 0 (RFC 7518 §6.2.1.2). */
  private static byte[] unsigned(BigInteger value, int length) {
    byte[] bytes = value.toByteArray();
    if (bytes.length > 1 && bytes[0] == 0) {
      bytes = Arrays.copyOfRange(bytes, 1, bytes.length);
    }
    if (length > 0 && bytes.length < length) {
      byte[] padded = new byte[length];
      System.arraycopy(bytes, 0, padded, length - bytes.length, bytes.length);
      return padded;
    }
    return bytes;
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
