import io.portcullis.app.LogSetup;
import io.portcullis.config.Config;
import io.portcullis.config.ConfigException;
import io.portcullis.config.ConfigLoader;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Helper of scripts/check-container-emulated (the engine-less container checks), run with the application jar on
 * the class path (source-file mode): {@code java -cp target/portcullis.jar scripts/ContainerCheck.java <mode> ...}. It checks configuration with the
 * application's own ConfigLoader, so a setting the service would refuse, or a PORTCULLIS_* name it does not know,
 * fails here. YAML is read with the SnakeYAML the jar carries (through Liquibase).
 *
 * <ul>
 *   <li>{@code image <expose> <volume> NAME=VALUE...}: the image's ENV alone is a valid configuration that listens
 *   on all interfaces at the exposed port and keeps the embedded database under the volume.</li>
 *   <li>{@code compose <docker-compose.yml>}: the compose file wires Portcullis to PostgreSQL 17 (healthcheck with
 *   pg_isready, named volume, service_healthy dependency, matching credentials) and to the SMTP catcher, and the
 *   Portcullis environment is a valid configuration.</li>
 * </ul>
 * Prints one "ok" line per check; the first failed check prints "FAIL ..." and exits 1.
 */
public final class ContainerCheck {

  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?}|\\$\\$");

  private ContainerCheck() {
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      fail("usage: ContainerCheck image <expose> <volume> NAME=VALUE... | compose <file>");
    }
    switch (args[0]) {
      case "image" -> image(Integer.parseInt(args[1]), args[2], List.of(args).subList(3, args.length));
      case "compose" -> compose(Path.of(args[1]));
      default -> fail("unknown mode " + args[0]);
    }
  }

  private static void image(int expose, String volume, List<String> envLines) {
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : envLines) {
      int eq = line.indexOf('=');
      env.put(line.substring(0, eq), line.substring(eq + 1));
    }
    knownNames(env.keySet(), "Dockerfile ENV");
    Config config = load(env, "the image's ENV");
    check(isAnyAddress(config.http().host()), "the image listens on all interfaces (http.host "
      + config.http().host() + ")");
    check(config.http().port() == expose, "the image's HTTP port " + config.http().port() + " is the EXPOSEd "
      + expose);
    check(config.db().embedded(), "the image defaults to the embedded PostgreSQL");
    check(config.dataDir().toAbsolutePath().normalize().equals(Path.of(volume)),
      "the data directory " + config.dataDir() + " is the VOLUME " + volume);
  }

  private static void compose(Path file) throws IOException {
    Object parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
    Map<String, Object> root = map(parsed, "the top level");
    Map<String, Object> services = map(root.get("services"), "services");
    Map<String, Object> volumes = root.get("volumes") == null ? Map.of() : map(root.get("volumes"), "volumes");

    Map<String, Object> postgres = map(services.get("postgres"), "services.postgres");
    String pgImage = string(postgres.get("image"), "services.postgres.image");
    check(pgImage.equals("postgres:17") || pgImage.startsWith("postgres:17."),
      "services.postgres runs PostgreSQL 17 (" + pgImage + ")");
    Map<String, Object> pgHealth = map(postgres.get("healthcheck"), "services.postgres.healthcheck");
    check(String.valueOf(pgHealth.get("test")).contains("pg_isready"),
      "services.postgres has a healthcheck with pg_isready");
    String dataVolume = null;
    for (Object entry : list(postgres.get("volumes"), "services.postgres.volumes")) {
      String spec = String.valueOf(entry);
      if (spec.endsWith(":/var/lib/postgresql/data")) {
        dataVolume = spec.substring(0, spec.indexOf(':'));
      }
    }
    check(dataVolume != null && volumes.containsKey(dataVolume),
      "services.postgres keeps /var/lib/postgresql/data in a named volume (" + dataVolume + ")");
    Map<String, String> pgEnv = environment(postgres.get("environment"), "services.postgres.environment");

    String mailName = null;
    for (Map.Entry<String, Object> service : services.entrySet()) {
      Object image = map(service.getValue(), "services." + service.getKey()).get("image");
      if (image != null && String.valueOf(image).contains("mailpit")) {
        mailName = service.getKey();
      }
    }
    check(mailName != null, "an SMTP catcher (mailpit) service exists (" + mailName + ")");

    Map<String, Object> app = map(services.get("portcullis"), "services.portcullis");
    Object build = app.get("build");
    String context = build instanceof Map<?, ?> b ? String.valueOf(b.get("context")) : String.valueOf(build);
    check(Files.isRegularFile(file.toAbsolutePath().getParent().resolve(context).resolve("Dockerfile")),
      "services.portcullis builds the Dockerfile in '" + context + "'");
    Map<String, Object> depends = map(app.get("depends_on"), "services.portcullis.depends_on");
    Map<String, Object> onPostgres = map(depends.get("postgres"), "services.portcullis.depends_on.postgres");
    check("service_healthy".equals(onPostgres.get("condition")),
      "services.portcullis waits for postgres with condition: service_healthy");

    Map<String, String> env = environment(app.get("environment"), "services.portcullis.environment");
    knownNames(env.keySet(), "services.portcullis.environment");
    URI db = URI.create(env.getOrDefault("PORTCULLIS_DB_URL", ""));
    check("postgres".equals(db.getScheme()) || "postgresql".equals(db.getScheme()),
      "PORTCULLIS_DB_URL is a postgres:// URL");
    check("postgres".equals(db.getHost()) && (db.getPort() == 5432 || db.getPort() == -1),
      "PORTCULLIS_DB_URL names the postgres service on 5432 (" + db.getHost() + ":" + db.getPort() + ")");
    String userInfo = db.getUserInfo() == null ? "" : db.getUserInfo();
    String expectedUserInfo = pgEnv.get("POSTGRES_USER") + ":" + pgEnv.get("POSTGRES_PASSWORD");
    check(userInfo.equals(expectedUserInfo), "PORTCULLIS_DB_URL carries POSTGRES_USER and POSTGRES_PASSWORD");
    check(db.getPath().equals("/" + pgEnv.getOrDefault("POSTGRES_DB", pgEnv.get("POSTGRES_USER"))),
      "PORTCULLIS_DB_URL names POSTGRES_DB (" + db.getPath() + ")");
    check(mailName.equals(env.get("PORTCULLIS_SMTP_HOST")), "PORTCULLIS_SMTP_HOST is the " + mailName + " service");
    check("1025".equals(env.get("PORTCULLIS_SMTP_PORT")) && "none".equals(env.get("PORTCULLIS_SMTP_SECURITY")),
      "Portcullis sends to the catcher's plain SMTP port 1025 (PORTCULLIS_SMTP_SECURITY=none)");

    Config config = load(env, "services.portcullis.environment");
    check(!config.db().embedded(), "services.portcullis uses the external PostgreSQL, not the embedded one");
    check(isAnyAddress(config.http().host()), "services.portcullis listens on all interfaces");
    boolean published = false;
    for (Object port : list(app.get("ports"), "services.portcullis.ports")) {
      String spec = String.valueOf(port);
      published |= spec.endsWith(":" + config.http().port()) || spec.equals(String.valueOf(config.http().port()));
    }
    check(published, "services.portcullis publishes its HTTP port " + config.http().port());
  }

  /** Compose's interpolation: ${NAME}, ${NAME:-default}, ${NAME-default}, $$; values from this process's env. */
  private static String interpolate(String value, String where) {
    Matcher m = VARIABLE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String replacement;
      if (m.group().equals("$$")) {
        replacement = "$";
      } else {
        String set = System.getenv(m.group(1));
        if (set != null && !set.isEmpty()) {
          replacement = set;
        } else if (m.group(2) != null) {
          replacement = m.group(2);
        } else {
          fail(where + " needs the variable " + m.group(1));
          return value;
        }
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static Map<String, String> environment(Object node, String where) {
    Map<String, String> env = new LinkedHashMap<>();
    if (node instanceof Map<?, ?> m) {
      m.forEach((k, v) -> env.put(String.valueOf(k), v == null ? "" : interpolate(String.valueOf(v), where)));
    } else if (node instanceof List<?> l) {
      for (Object item : l) {
        String s = String.valueOf(item);
        int eq = s.indexOf('=');
        env.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : interpolate(s.substring(eq + 1), where));
      }
    } else {
      fail(where + " is missing");
    }
    return env;
  }

  /** Every PORTCULLIS_* name must be a setting, PORTCULLIS_CONFIG, or a variable of the logging configuration. */
  private static void knownNames(Set<String> names, String where) {
    Set<String> known = new HashSet<>();
    for (String path : ConfigLoader.settingPaths()) {
      known.add(ConfigLoader.envName(path));
    }
    known.add(ConfigLoader.CONFIG_ENV);
    known.addAll(LogSetup.VARIABLES);
    List<String> unknown = new ArrayList<>();
    for (String name : names) {
      if (name.startsWith(ConfigLoader.ENV_PREFIX) && !known.contains(name)) {
        unknown.add(name);
      }
    }
    check(unknown.isEmpty(), "every PORTCULLIS_* name in " + where + " is a setting the service reads"
      + (unknown.isEmpty() ? "" : "; unknown: " + unknown));
  }

  private static Config load(Map<String, String> env, String where) {
    try {
      Config config = ConfigLoader.load(env);
      System.out.println("ok   " + where + " is a valid configuration for ConfigLoader");
      return config;
    } catch (ConfigException e) {
      fail(where + " is refused by ConfigLoader: " + e.getMessage());
      return null;
    }
  }

  private static boolean isAnyAddress(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object node, String where) {
    if (!(node instanceof Map<?, ?>)) {
      fail(where + " is missing or not a mapping");
    }
    return (Map<String, Object>) node;
  }

  private static List<?> list(Object node, String where) {
    if (!(node instanceof List<?> l)) {
      fail(where + " is missing or not a list");
      return List.of();
    }
    return l;
  }

  private static String string(Object node, String where) {
    if (!(node instanceof String s)) {
      fail(where + " is missing or not a string");
      return "";
    }
    return s;
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      fail(what);
    }
    System.out.println("ok   " + what);
  }

  private static void fail(String what) {
    System.out.println("FAIL " + what);
    System.out.flush();
    System.exit(1);
  }
}
