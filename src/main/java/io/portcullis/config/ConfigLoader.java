package io.portcullis.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Loads the configuration: built-in defaults (a copy of {@code conf/config.json}), then the configuration file,
 * then environment variables ({@code PORTCULLIS_} + the key path in upper case joined by {@code _}), and
 * validates the result. Runs once, before anything deploys, so its file read may block.
 */
public final class ConfigLoader {

  public static final String ENV_PREFIX = "PORTCULLIS_";
  public static final String CONFIG_ENV = "PORTCULLIS_CONFIG";
  /** Variables with the prefix that are read outside the settings: the file's path, and app/LogSetup's. */
  static final Set<String> OTHER_VARIABLES = Set.of(CONFIG_ENV, "PORTCULLIS_LOG_LEVEL", "PORTCULLIS_LOG_FORMAT",
    "PORTCULLIS_ACCESS_LOG_LEVEL", "PORTCULLIS_JVM_SIZING");
  private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
  private static final String DEFAULTS = "/portcullis/config.json";
  private static final Set<String> ALGORITHMS = Set.of("ES256", "RS256", "HS256");

  private ConfigLoader() {
  }

  public static Config load(Map<String, String> env) {
    JsonObject merged = defaults();
    String explicit = env.get(CONFIG_ENV);
    Path file = Path.of(explicit == null || explicit.isBlank() ? "conf/config.json" : explicit);
    if (Files.isRegularFile(file)) {
      mergeFile(merged, readFile(file), "");
    } else if (explicit != null && !explicit.isBlank()) {
      throw new ConfigException("Configuration file " + file + " (" + CONFIG_ENV + ") does not exist");
    }
    applyEnv(merged, env, "");
    unknownVariables(env).forEach(LOG::warn);
    return build(merged);
  }

  /**
   * One warning per {@code PORTCULLIS_*} variable that nothing reads, naming the nearest known one: a misspelt
   * setting would otherwise pass silently (unknown keys in the file are refused, but the environment holds more
   * than Portcullis's variables, so refusing there would be too strict). Names only, never values.
   */
  public static List<String> unknownVariables(Map<String, String> env) {
    Set<String> known = new TreeSet<>(OTHER_VARIABLES);
    settingPaths().forEach(path -> known.add(envName(path)));
    List<String> warnings = new ArrayList<>();
    for (String name : new TreeSet<>(env.keySet())) {
      if (!name.startsWith(ENV_PREFIX) || known.contains(name)) {
        continue;
      }
      String nearest = null;
      int best = Integer.MAX_VALUE;
      for (String candidate : known) {
        int distance = editDistance(name, candidate);
        if (distance < best) {
          best = distance;
          nearest = candidate;
        }
      }
      warnings.add("Ignoring unknown environment variable " + name + " (did you mean " + nearest + "?)");
    }
    return warnings;
  }

  /** Levenshtein distance: insertions, deletions and substitutions each cost one. */
  static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  /** The environment variable that overrides the setting at this dotted path. */
  public static String envName(String path) {
    return ENV_PREFIX + path.replace('.', '_').toUpperCase(Locale.ROOT);
  }

  /** Every leaf setting, dotted, in file order; used by the README table check and the env overrides. */
  public static List<String> settingPaths() {
    List<String> paths = new ArrayList<>();
    collectPaths(defaults(), "", paths);
    return paths;
  }

  static JsonObject defaults() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULTS)) {
      if (in == null) {
        throw new IllegalStateException("built-in defaults " + DEFAULTS + " missing from the jar");
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonObject readFile(Path file) {
    try {
      return new JsonObject(Files.readString(file));
    } catch (IOException e) {
      throw new ConfigException("Cannot read configuration file " + file + ": " + e.getMessage());
    } catch (DecodeException e) {
      throw new ConfigException("Configuration file " + file + " is not a JSON object: " + e.getMessage());
    }
  }

  private static void collectPaths(JsonObject node, String prefix, List<String> out) {
    for (String key : node.fieldNames()) {
      Object value = node.getValue(key);
      if (value instanceof JsonObject child) {
        collectPaths(child, prefix + key + ".", out);
      } else {
        out.add(prefix + key);
      }
    }
  }

  private static void mergeFile(JsonObject target, JsonObject file, String prefix) {
    for (String key : file.fieldNames()) {
      String path = prefix + key;
      if (!target.containsKey(key)) {
        throw new ConfigException("Unknown setting '" + path + "' in the configuration file");
      }
      Object defaultValue = target.getValue(key);
      Object value = file.getValue(key);
      if (defaultValue instanceof JsonObject defaultChild) {
        if (!(value instanceof JsonObject child)) {
          throw new ConfigException("Setting '" + path + "' must be an object");
        }
        mergeFile(defaultChild, child, path + ".");
      } else {
        target.put(key, value);
      }
    }
  }

  private static void applyEnv(JsonObject node, Map<String, String> env, String prefix) {
    for (String key : node.fieldNames()) {
      String path = prefix + key;
      Object current = node.getValue(key);
      if (current instanceof JsonObject child) {
        applyEnv(child, env, path + ".");
        continue;
      }
      String raw = env.get(envName(path));
      if (raw == null) {
        continue;
      }
      node.put(key, parseEnv(path, raw, current));
    }
  }

  private static Object parseEnv(String path, String raw, Object typeOf) {
    String value = raw.trim();
    try {
      if (typeOf instanceof Integer || typeOf instanceof Long) {
        return Long.parseLong(value);
      }
      if (typeOf instanceof Boolean) {
        if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
          return Boolean.parseBoolean(value);
        }
        throw new NumberFormatException();
      }
      if (typeOf instanceof JsonArray) {
        JsonArray array = new JsonArray();
        for (String part : value.split(",")) {
          if (!part.isBlank()) {
            array.add(part.trim());
          }
        }
        return array;
      }
      return raw;
    } catch (NumberFormatException e) {
      String expected = typeOf instanceof Boolean ? "true or false" : "a whole number";
      throw new ConfigException("Setting '" + path + "' (" + envName(path) + ") must be " + expected
        + ", got '" + raw + "'");
    }
  }

  private static Config build(JsonObject c) {
    Reader r = new Reader(c);
    String externalUrl = externalUrl(r);
    Config.Jwt jwt = jwt(r, externalUrl);
    Config.Password password = password(r);
    String dbUrl = dbUrl(r);
    List<String> adminRoles = r.stringList("admin_roles");
    Config.Cluster cluster = cluster(r, dbUrl);
    return new Config(
      Path.of(r.nonEmpty("data_dir")),
      stripSlash(r.url("site_url", false)),
      externalUrl,
      adminRoles,
      new Config.Http(r.nonEmpty("http.host"), r.integer("http.port", 0, 65535),
        r.integer("http.instances", 0, 256), r.integer("http.body_limit_bytes", 1024, 10 * 1024 * 1024),
        r.integer("http.request_timeout_ms", 100, 600_000), r.integer("http.idle_timeout_seconds", 1, 3600),
        r.stringList("http.trusted_proxies"), r.nonEmpty("http.client_ip_header")),
      new Config.Cors(r.stringList("cors.allowed_origins"), r.bool("cors.allow_credentials")),
      new Config.Db(dbUrl, r.integer("db.pool_size", 1, 512), r.integer("db.embedded_port", 0, 65535),
        r.integer("db.connect_timeout_seconds", 0, 86_400)),
      jwt,
      password,
      new Config.Signup(r.bool("signup.disabled"), r.bool("signup.autoconfirm"), r.bool("signup.anonymous_enabled")),
      new Config.Sessions(r.integer("sessions.refresh_token_reuse_interval", 0, 3600),
        r.integer("sessions.timebox_seconds", 0, 366 * 86_400),
        r.integer("sessions.inactivity_timeout_seconds", 0, 366 * 86_400),
        r.bool("sessions.single_per_user"),
        r.integer("sessions.cache_ttl_ms", 0, 600_000)),
      r.onOff("rate_limits"),
      rateLimit(r),
      lockout(r),
      mailer(r),
      smtp(r),
      r.bool("metrics.enabled"),
      r.integer("shutdown.grace_ms", 0, 600_000),
      r.integer("shutdown.unready_delay_ms", 0, 600_000),
      new Config.Security(r.bool("security.update_password_require_reauthentication"),
        r.integer("security.reauthentication_window_seconds", 0, 366 * 86_400)),
      cluster,
      new Config.Hooks(r.integer("hooks.timeout_ms", 100, 60_000), r.hook("hooks.custom_access_token"),
        r.hook("hooks.before_user_created")),
      federation(r, externalUrl),
      r.bool("cookies.enabled"));
  }

  /** Presets: where each named provider lives unless {@code url} says otherwise (empty: it must be set). */
  private static final Map<String, String> PROVIDER_URLS = Map.of(
    "keycloak", "",
    "google", "https://accounts.google.com",
    "azure", "https://login.microsoftonline.com/common/v2.0",
    "gitlab", "https://gitlab.com",
    "github", "https://github.com",
    "oidc", "");

  private static Config.Federation federation(Reader r, String externalUrl) {
    Map<String, Config.Provider> providers = new java.util.TreeMap<>();
    for (String name : PROVIDER_URLS.keySet()) {
      String path = "external." + name + ".";
      if (!r.bool(path + "enabled")) {
        continue;
      }
      String url = stripSlash(r.url(path + "url", true));
      if (url.isEmpty()) {
        url = PROVIDER_URLS.get(name);
      }
      if (url.isEmpty()) {
        throw new ConfigException("Setting '" + path + "url' (" + envName(path + "url")
          + ") must name the OpenID Connect issuer when " + name + " is enabled");
      }
      String redirectUri = r.url(path + "redirect_uri", true);
      List<String> scopes = new ArrayList<>();
      for (String scope : r.string(path + "scopes").split("[ ,]")) {
        if (!scope.isBlank()) {
          scopes.add(scope.trim());
        }
      }
      providers.put(name, new Config.Provider(name, r.nonEmpty(path + "client_id"), r.string(path + "secret"), url,
        redirectUri.isEmpty() ? externalUrl + "/auth/v1/callback" : redirectUri, List.copyOf(scopes)));
    }
    return new Config.Federation(Map.copyOf(providers), r.bool("security.manual_linking_enabled"));
  }

  /**
   * Refused without an external database (each instance would start its own embedded PostgreSQL) and without an
   * explicit external URL (each instance would take its own port as the tokens' issuer and refuse the others').
   */
  private static Config.Cluster cluster(Reader r, String dbUrl) {
    Config.Cluster cluster = new Config.Cluster(r.bool("cluster.enabled"), r.nonEmpty("cluster.name"),
      r.nonEmpty("cluster.host"), r.integer("cluster.port", 1, 65535), r.stringList("cluster.members"));
    if (cluster.enabled() && dbUrl.isEmpty()) {
      throw new ConfigException("Setting 'cluster.enabled' (" + envName("cluster.enabled") + ") needs an external "
        + "PostgreSQL shared by every instance: set 'db.url' (" + envName("db.url") + ")");
    }
    if (cluster.enabled() && r.url("external_url", true).isEmpty()) {
      throw new ConfigException("Setting 'cluster.enabled' (" + envName("cluster.enabled") + ") needs the URL "
        + "every instance is reached by, so that they all issue and accept the same tokens: set 'external_url' ("
        + envName("external_url") + ")");
    }
    return cluster;
  }

  private static Config.RateLimit rateLimit(Reader r) {
    return new Config.RateLimit(
      r.integer("rate_limit.burst", 1, 1_000_000),
      r.integer("rate_limit.refresh_burst", 1, 1_000_000),
      r.integer("rate_limit.password_grant", 1, 100_000_000),
      r.integer("rate_limit.refresh", 1, 100_000_000),
      r.integer("rate_limit.signup", 1, 100_000_000),
      r.integer("rate_limit.recover", 1, 100_000_000),
      r.integer("rate_limit.otp", 1, 100_000_000),
      r.integer("rate_limit.resend", 1, 100_000_000),
      r.integer("rate_limit.verify", 1, 100_000_000),
      r.integer("rate_limit.user_update", 1, 100_000_000),
      r.integer("rate_limit.mfa", 1, 100_000_000),
      r.integer("rate_limit.anonymous", 1, 100_000_000));
  }

  private static Config.Lockout lockout(Reader r) {
    return new Config.Lockout(
      r.bool("lockout.enabled"),
      r.integer("lockout.failures", 1, 1000),
      r.integer("lockout.wait_increment_seconds", 1, 86_400),
      r.integer("lockout.max_wait_seconds", 1, 30 * 86_400),
      r.integer("lockout.reset_after_seconds", 1, 365 * 86_400));
  }

  private static Config.Mailer mailer(Reader r) {
    return new Config.Mailer(
      r.integer("mailer.otp_exp", 60, 7 * 24 * 3600),
      r.integer("mailer.confirmation_exp", 60, 30 * 24 * 3600),
      r.integer("mailer.send_interval_seconds", 0, 24 * 3600),
      r.bool("mailer.secure_email_change"),
      r.nonEmpty("mailer.templates_dir"),
      r.stringList("mailer.redirect_allow_list"));
  }

  private static Config.Smtp smtp(Reader r) {
    return new Config.Smtp(
      r.string("smtp.host").trim(),
      r.integer("smtp.port", 1, 65535),
      r.string("smtp.user"),
      r.string("smtp.password"),
      r.oneOf("smtp.security", Set.of("NONE", "STARTTLS", "TLS")).toLowerCase(Locale.ROOT),
      r.mailbox("smtp.from"),
      r.string("smtp.sender_name"),
      r.integer("smtp.max_attempts", 1, 100));
  }

  /** The configured external URL, else {@code http://localhost:<http.port>}. */
  private static String externalUrl(Reader r) {
    String externalUrl = stripSlash(r.url("external_url", true));
    if (externalUrl.isEmpty()) {
      // So that a newcomer who sets only the port gets an issuer and discovery URLs that name it.
      int port = r.integer("http.port", 0, 65535);
      if (port == 0) {
        throw new ConfigException("Setting 'external_url' (" + envName("external_url")
          + ") must be set when http.port is 0 (any free port)");
      }
      externalUrl = "http://localhost:" + port;
    }
    return externalUrl;
  }

  private static Config.Jwt jwt(Reader r, String externalUrl) {
    Config.Jwt jwt = new Config.Jwt(
      r.oneOf("jwt.algorithm", ALGORITHMS).toUpperCase(Locale.ROOT),
      r.integer("jwt.exp", 60, 7 * 24 * 3600),
      r.nonEmpty("jwt.aud"),
      r.string("jwt.issuer").isEmpty() ? externalUrl + "/auth/v1" : r.string("jwt.issuer"),
      r.string("jwt.secret"),
      r.integer("jwt.leeway_seconds", 0, 300),
      r.longValue("jwt.service_key_exp", 60, 100L * 365 * 24 * 3600),
      r.integer("jwt.rotation_delay_seconds", 0, 30 * 24 * 3600),
      r.integer("jwt.key_refresh_seconds", 1, 3600),
      r.string("jwt.keys_encryption_key"));
    if (!jwt.keysEncryptionKey().isEmpty() && jwt.keysEncryptionKey().length() < 32) {
      throw new ConfigException("Setting 'jwt.keys_encryption_key' (" + envName("jwt.keys_encryption_key")
        + ") must be at least 32 characters");
    }
    if (jwt.symmetric() && jwt.secret().length() < 32) {
      throw new ConfigException("Setting 'jwt.secret' (" + envName("jwt.secret")
        + ") must be at least 32 characters when jwt.algorithm is HS256");
    }
    return jwt;
  }

  private static Config.Password password(Reader r) {
    Config.Password password = new Config.Password(
      r.integer("password.min_length", 6, 1024),
      r.integer("password.argon2_memory_kib", 8, 4 * 1024 * 1024),
      r.integer("password.argon2_iterations", 1, 100),
      r.integer("password.argon2_parallelism", 1, 64),
      r.integer("password.hash_workers", 1, 256),
      r.integer("password.hash_queue", 0, 100_000),
      r.characterClasses("password.required_characters"),
      r.bool("password.reject_common"));
    if (password.argon2MemoryKib() < 8 * password.argon2Parallelism()) {
      throw new ConfigException("Setting 'password.argon2_memory_kib' must be at least 8 × password.argon2_parallelism");
    }
    return password;
  }

  private static String dbUrl(Reader r) {
    String dbUrl = r.string("db.url").trim();
    if (!dbUrl.isEmpty() && !(dbUrl.startsWith("postgres://") || dbUrl.startsWith("postgresql://"))) {
      throw new ConfigException("Setting 'db.url' (" + envName("db.url")
        + ") must look like postgres://user:password@host:5432/database");
    }
    return dbUrl;
  }

  private static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /** Typed reads by dotted path whose errors name the setting and its environment variable. */
  private record Reader(JsonObject root) {

    Object value(String path) {
      JsonObject node = root;
      String[] parts = path.split("\\.");
      for (int i = 0; i < parts.length - 1; i++) {
        node = node.getJsonObject(parts[i]);
      }
      return node.getValue(parts[parts.length - 1]);
    }

    ConfigException bad(String path, String expected) {
      return new ConfigException("Setting '" + path + "' (" + envName(path) + ") must be " + expected
        + ", got '" + value(path) + "'");
    }

    String string(String path) {
      Object v = value(path);
      if (v == null) {
        return "";
      }
      if (!(v instanceof String s)) {
        throw bad(path, "a string");
      }
      return s;
    }

    String nonEmpty(String path) {
      String s = string(path);
      if (s.isBlank()) {
        throw bad(path, "a non-empty string");
      }
      return s;
    }

    boolean onOff(String path) {
      String s = string(path).trim().toLowerCase(Locale.ROOT);
      if (!s.equals("on") && !s.equals("off")) {
        throw bad(path, "on or off");
      }
      return s.equals("on");
    }

    List<String> characterClasses(String path) {
      List<String> out = new ArrayList<>();
      for (String part : string(path).split(",")) {
        String name = part.trim().toLowerCase(Locale.ROOT);
        if (name.isEmpty()) {
          continue;
        }
        if (!Set.of("lower", "upper", "digit", "symbol").contains(name)) {
          throw bad(path, "a comma-separated list of lower, upper, digit, symbol");
        }
        out.add(name);
      }
      return List.copyOf(out);
    }

    String mailbox(String path) {
      String s = nonEmpty(path).trim();
      int at = s.indexOf('@');
      if (at <= 0 || at == s.length() - 1 || s.chars().anyMatch(Character::isWhitespace)) {
        throw bad(path, "an email address");
      }
      return s;
    }

    String oneOf(String path, Set<String> allowed) {
      String s = string(path);
      if (!allowed.contains(s.toUpperCase(Locale.ROOT))) {
        throw bad(path, "one of " + allowed);
      }
      return s;
    }

    String url(String path, boolean optional) {
      String s = string(path).trim();
      if (s.isEmpty() && optional) {
        return s;
      }
      try {
        URI uri = new URI(s);
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
          throw bad(path, "an http(s) URL");
        }
      } catch (URISyntaxException e) {
        throw bad(path, "an http(s) URL");
      }
      return s;
    }

    long longValue(String path, long min, long max) {
      Object v = value(path);
      if (!(v instanceof Number n) || n.doubleValue() != n.longValue() || n.longValue() < min || n.longValue() > max) {
        throw bad(path, "a whole number from " + min + " to " + max);
      }
      return n.longValue();
    }

    int integer(String path, int min, int max) {
      return (int) longValue(path, min, max);
    }

    /** A hook's settings: an HTTP endpoint needs its Standard Webhooks secret ({@code v1,whsec_<base64>}). */
    Config.Hook hook(String path) {
      String uri = url(path + ".uri", true);
      String secret = string(path + ".secret").trim();
      if (!uri.isEmpty()) {
        String key = secret.startsWith("v1,") ? secret.substring(3) : secret;
        boolean valid = key.startsWith("whsec_");
        if (valid) {
          try {
            valid = java.util.Base64.getDecoder().decode(key.substring(6)).length >= 16;
          } catch (IllegalArgumentException e) {
            valid = false;
          }
        }
        if (!valid) {
          throw bad(path + ".secret", "a Standard Webhooks secret (v1,whsec_ and at least 16 bytes in base64) "
            + "when " + path + ".uri is set");
        }
        secret = key;
      }
      return new Config.Hook(bool(path + ".enabled"), uri, secret);
    }

    boolean bool(String path) {
      Object v = value(path);
      if (!(v instanceof Boolean b)) {
        throw bad(path, "true or false");
      }
      return b;
    }

    List<String> stringList(String path) {
      Object v = value(path);
      if (!(v instanceof JsonArray array)) {
        throw bad(path, "a list of strings");
      }
      List<String> out = new ArrayList<>();
      for (Object o : array) {
        if (!(o instanceof String s) || s.isBlank()) {
          throw bad(path, "a list of strings");
        }
        out.add(s);
      }
      return List.copyOf(out);
    }
  }
}
