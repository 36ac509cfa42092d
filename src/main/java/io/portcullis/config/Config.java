package io.portcullis.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The whole configuration, loaded once and validated before anything deploys ({@link ConfigLoader}).
 * Field names follow the keys of {@code conf/config.json}.
 */
public record Config(
  Path dataDir,
  String siteUrl,
  String externalUrl,
  List<String> adminRoles,
  Http http,
  Cors cors,
  Db db,
  Jwt jwt,
  Password password,
  Signup signup,
  Sessions sessions,
  boolean rateLimitsEnabled,
  RateLimit rateLimit,
  Lockout lockout,
  Mailer mailer,
  Smtp smtp,
  boolean metricsEnabled,
  int shutdownGraceMs,
  int shutdownUnreadyDelayMs,
  Security security) {

  /**
   * {@code updatePasswordRequireReauthentication}: a password change from a session older than
   * {@code reauthenticationWindowSeconds} needs the nonce {@code GET /reauthenticate} mailed.
   */
  public record Security(boolean updatePasswordRequireReauthentication, int reauthenticationWindowSeconds) {
  }

  public record Http(String host, int port, int instances, int bodyLimitBytes, int requestTimeoutMs,
                     int idleTimeoutSeconds, List<String> trustedProxies, String clientIpHeader) {
    /**
     * How long any request on the bus waits for its answer: as long as an HTTP request may live, since no
     * answer is of use after its request got 503 (derived, not a setting of its own).
     */
    public long busTimeoutMs() {
      return requestTimeoutMs;
    }
  }

  /** Browser origins allowed to call the API; empty means the site URL alone, {@code *} any origin. */
  public record Cors(List<String> allowedOrigins, boolean allowCredentials) {
  }

  /**
   * {@code url} empty means the embedded PostgreSQL under {@code data_dir}. {@code connectTimeoutSeconds}: how
   * long start-up keeps retrying a database that does not answer yet before it gives up.
   */
  public record Db(String url, int poolSize, int embeddedPort, int connectTimeoutSeconds) {
    public boolean embedded() {
      return url == null || url.isEmpty();
    }
  }

  public record Jwt(String algorithm, int exp, String aud, String issuer, String secret, int leewaySeconds,
                    long serviceKeyExp, int rotationDelaySeconds, int keyRefreshSeconds, String keysEncryptionKey) {
    public boolean symmetric() {
      return algorithm.toUpperCase(Locale.ROOT).startsWith("HS");
    }
  }

  /** {@code requiredCharacters}: comma-separated classes among lower, upper, digit, symbol (empty: none). */
  public record Password(int minLength, int argon2MemoryKib, int argon2Iterations, int argon2Parallelism,
                         int hashWorkers, int hashQueue, List<String> requiredCharacters, boolean rejectCommon) {
  }

  /** Requests per hour per client IP, per route, with bucket sizes. */
  public record RateLimit(int burst, int refreshBurst, int passwordGrant, int refresh, int signup, int recover, int otp,
                          int resend, int verify, int userUpdate, int mfa, int anonymous) {
  }

  /** Per-account brute-force protection (Keycloak's model). */
  public record Lockout(boolean enabled, int failures, int waitIncrementSeconds, int maxWaitSeconds,
                        int resetAfterSeconds) {
  }

  /** {@code anonymousEnabled}: sign-up without email or phone makes an anonymous user. */
  public record Signup(boolean disabled, boolean autoconfirm, boolean anonymousEnabled) {
  }

  /** Time-box and inactivity timeout in seconds (0 = off); {@code singlePerUser} ends older sessions at sign-in. */
  public record Sessions(int refreshTokenReuseInterval, int timeboxSeconds, int inactivityTimeoutSeconds,
                         boolean singlePerUser, int cacheTtlMs) {
  }

  /** Lifetimes in seconds; the allow-list holds exact URLs or patterns with {@code *} (one path segment or
   * host label) and {@code **} (anything). */
  public record Mailer(int otpExp, int confirmationExp, int sendIntervalSeconds, boolean secureEmailChange,
                       String templatesDir, List<String> redirectAllowList) {
  }

  /** {@code host} empty means no SMTP server: mails are written to the log instead. */
  public record Smtp(String host, int port, String user, String password, String security, String from,
                     String senderName, int maxAttempts) {
    public boolean enabled() {
      return host != null && !host.isEmpty();
    }
  }

  /** The base URL of the GoTrue dialect as seen by clients. */
  public String publicBaseUrl() {
    return externalUrl + "/auth/v1";
  }
}
