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
  Security security,
  Cluster cluster,
  Hooks hooks,
  Federation federation,
  boolean cookiesEnabled) {

  /**
   * {@code updatePasswordRequireReauthentication}: a password change from a session older than
   * {@code reauthenticationWindowSeconds} needs the nonce {@code GET /reauthenticate} mailed.
   */
  public record Security(boolean updatePasswordRequireReauthentication, int reauthenticationWindowSeconds) {
  }

  /** Extension points served over the bus or by an HTTP endpoint; {@code timeoutMs} fails them closed. */
  public record Hooks(int timeoutMs, Hook customAccessToken, Hook beforeUserCreated) {
  }

  /** {@code uri} empty: the hook is served on the bus; else POSTed there, signed with {@code secret}. */
  public record Hook(boolean enabled, String uri, String secret) {
  }

  /** A clustered event bus (Hazelcast, TCP join on {@code members}: {@code host[:port]}); off by default. */
  public record Cluster(boolean enabled, String name, String host, int port, List<String> members) {
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

  /**
   * Sign-in through external providers: the enabled ones by name ({@code keycloak}, {@code google}, {@code azure},
   * {@code gitlab}, {@code github}, {@code oidc}), and whether signed-in users may link further identities.
   */
  public record Federation(java.util.Map<String, Provider> providers, boolean manualLinkingEnabled) {
  }

  /**
   * One external provider. {@code url}: the OpenID Connect issuer whose discovery document is read (for
   * {@code github}, the web base URL); {@code redirectUri}: this service's callback as registered at the provider.
   */
  public record Provider(String name, String clientId, String secret, String url, String redirectUri,
                         List<String> scopes) {
  }

  /** The base URL of the GoTrue dialect as seen by clients. */
  public String publicBaseUrl() {
    return externalUrl + "/auth/v1";
  }
}
