package io.portcullis.config;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading and validating the configuration: built-in defaults, the file, environment overrides. No app runs. */
class ConfigLoaderTest {

  @TempDir
  static Path dir;
  /** An empty configuration file, so that tests see the built-in defaults whatever the working directory holds. */
  static Path emptyFile;

  @BeforeAll
  static void emptyConfigFile() throws IOException {
    emptyFile = Files.writeString(dir.resolve("empty.json"), "{}");
  }

  @Test
  void defaultsLoad() {
    Config config = load(Map.of());

    assertEquals(Path.of("./data"), config.dataDir());
    assertEquals(9999, config.http().port());
    assertEquals("0.0.0.0", config.http().host());
    assertTrue(config.db().embedded());
    assertEquals("ES256", config.jwt().algorithm());
    assertEquals(3600, config.jwt().exp());
    assertEquals("authenticated", config.jwt().aud());
    assertEquals(30, config.jwt().leewaySeconds());
    assertEquals(List.of("service_role", "admin"), config.adminRoles());
    assertEquals(10, config.sessions().refreshTokenReuseInterval());
    assertTrue(config.signup().autoconfirm());
    assertEquals(8, config.password().minLength());
  }

  @Test
  void shippedConfigFileHoldsTheBuiltInDefaults() {
    assertEquals(load(Map.of()), ConfigLoader.load(Map.of("PORTCULLIS_CONFIG", "conf/config.json")));
  }

  @Test
  void environmentOverridesSettings() {
    Config config = load(Map.of(
      "PORTCULLIS_JWT_EXP", "60",
      "PORTCULLIS_ADMIN_ROLES", "a, b,",
      "PORTCULLIS_HTTP_PORT", "8080",
      "PORTCULLIS_SIGNUP_AUTOCONFIRM", "false",
      "PORTCULLIS_JWT_ALGORITHM", "rs256",
      "PORTCULLIS_DB_URL", "postgres://u:p@db.example.com:5432/auth",
      "PORTCULLIS_SESSIONS_REFRESH_TOKEN_REUSE_INTERVAL", "3"));

    assertEquals(60, config.jwt().exp());
    assertEquals(List.of("a", "b"), config.adminRoles());
    assertEquals(8080, config.http().port());
    assertEquals(false, config.signup().autoconfirm());
    assertEquals("RS256", config.jwt().algorithm());
    assertEquals(false, config.db().embedded());
    assertEquals("postgres://u:p@db.example.com:5432/auth", config.db().url());
    assertEquals(3, config.sessions().refreshTokenReuseInterval());
  }

  @Test
  void portOutOfRangeNamesTheSettingAndItsVariable() {
    assertInvalid(Map.of("PORTCULLIS_HTTP_PORT", "70000"), "http.port", "PORTCULLIS_HTTP_PORT");
    assertInvalid(Map.of("PORTCULLIS_HTTP_PORT", "-1"), "http.port", "PORTCULLIS_HTTP_PORT");
  }

  @Test
  void nonNumericValueNamesTheSettingAndItsVariable() {
    assertInvalid(Map.of("PORTCULLIS_HTTP_PORT", "abc"), "http.port", "PORTCULLIS_HTTP_PORT");
    assertInvalid(Map.of("PORTCULLIS_JWT_EXP", "1h"), "jwt.exp", "PORTCULLIS_JWT_EXP");
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', value = {
    "PORTCULLIS_HTTP_PORT | 70000 | http.port",
    "PORTCULLIS_HTTP_PORT | -1 | http.port",
    "PORTCULLIS_HTTP_PORT | abc | http.port",
    "PORTCULLIS_JWT_EXP | 1h | jwt.exp",
    "PORTCULLIS_SIGNUP_AUTOCONFIRM | yes | signup.autoconfirm",
    "PORTCULLIS_JWT_ALGORITHM | none | jwt.algorithm",
    "PORTCULLIS_JWT_ALGORITHM | PS256 | jwt.algorithm",
    "PORTCULLIS_DB_URL | mysql://u:p@localhost:3306/auth | db.url",
    "PORTCULLIS_DB_URL | jdbc:postgresql://localhost/auth | db.url",
    "PORTCULLIS_HTTP_REQUEST_TIMEOUT_MS | 99 | http.request_timeout_ms",
  })
  void anInvalidValueNamesItsSettingAndVariable(String variable, String value, String setting) {
    assertInvalid(Map.of(variable, value), setting, variable);
  }

  @Test
  void badBooleanNamesTheSettingAndItsVariable() {
    assertInvalid(Map.of("PORTCULLIS_SIGNUP_AUTOCONFIRM", "yes"), "signup.autoconfirm", "PORTCULLIS_SIGNUP_AUTOCONFIRM");
  }

  @Test
  void unknownAlgorithmNamesTheSettingAndItsVariable() {
    assertInvalid(Map.of("PORTCULLIS_JWT_ALGORITHM", "none"), "jwt.algorithm", "PORTCULLIS_JWT_ALGORITHM");
    assertInvalid(Map.of("PORTCULLIS_JWT_ALGORITHM", "PS256"), "jwt.algorithm", "PORTCULLIS_JWT_ALGORITHM");
  }

  @Test
  void databaseUrlMustBePostgres() {
    assertInvalid(Map.of("PORTCULLIS_DB_URL", "mysql://u:p@localhost:3306/auth"), "db.url", "PORTCULLIS_DB_URL");
    assertInvalid(Map.of("PORTCULLIS_DB_URL", "jdbc:postgresql://localhost/auth"), "db.url", "PORTCULLIS_DB_URL");
  }

  @Test
  void hs256NeedsASecretOfAtLeast32Characters() {
    assertInvalid(Map.of("PORTCULLIS_JWT_ALGORITHM", "HS256"), "jwt.secret", "PORTCULLIS_JWT_SECRET");
    assertInvalid(Map.of("PORTCULLIS_JWT_ALGORITHM", "HS256", "PORTCULLIS_JWT_SECRET", "x".repeat(31)),
      "jwt.secret", "PORTCULLIS_JWT_SECRET");

    Config config = load(Map.of("PORTCULLIS_JWT_ALGORITHM", "HS256", "PORTCULLIS_JWT_SECRET", "x".repeat(32)));
    assertEquals("HS256", config.jwt().algorithm());
    assertTrue(config.jwt().symmetric());
  }

  @Test
  void missingConfigFileIsAnError() {
    Path missing = dir.resolve("does-not-exist.json");

    ConfigException e = assertThrows(ConfigException.class,
      () -> ConfigLoader.load(Map.of("PORTCULLIS_CONFIG", missing.toString())));

    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("PORTCULLIS_CONFIG"), e.getMessage());
  }

  @Test
  void unknownKeyInConfigFileIsNamed() throws IOException {
    Path file = Files.writeString(dir.resolve("unknown-key.json"), "{\"http\": {\"prot\": 8080}}");

    ConfigException e = assertThrows(ConfigException.class,
      () -> ConfigLoader.load(Map.of("PORTCULLIS_CONFIG", file.toString())));

    assertTrue(e.getMessage().contains("http.prot"), e.getMessage());
  }

  @Test
  void configFileThatIsNotJsonIsAnError() throws IOException {
    Path file = Files.writeString(dir.resolve("broken.json"), "{\"jwt\": ");

    assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of("PORTCULLIS_CONFIG", file.toString())));
  }

  @Test
  void configFileOverridingOneValueKeepsTheOtherDefaults() throws IOException {
    Path file = Files.writeString(dir.resolve("one-value.json"), "{\"jwt\": {\"exp\": 120}}");

    Config config = ConfigLoader.load(Map.of("PORTCULLIS_CONFIG", file.toString()));

    assertEquals(120, config.jwt().exp());
    assertEquals("ES256", config.jwt().algorithm());
    assertEquals("authenticated", config.jwt().aud());
    assertEquals(30, config.jwt().leewaySeconds());
    assertEquals(9999, config.http().port());
    assertEquals(List.of("service_role", "admin"), config.adminRoles());
  }

  @Test
  void environmentWinsOverConfigFile() throws IOException {
    Path file = Files.writeString(dir.resolve("exp-120.json"), "{\"jwt\": {\"exp\": 120}}");

    Config config = ConfigLoader.load(Map.of("PORTCULLIS_CONFIG", file.toString(), "PORTCULLIS_JWT_EXP", "60"));

    assertEquals(60, config.jwt().exp());
  }

  @Test
  void issuerDefaultsToExternalUrlPlusBasePath() {
    assertEquals("http://localhost:9999/auth/v1", load(Map.of()).jwt().issuer());
    assertEquals("https://auth.example.com/auth/v1",
      load(Map.of("PORTCULLIS_EXTERNAL_URL", "https://auth.example.com/")).jwt().issuer());
    assertEquals("https://issuer.example.com",
      load(Map.of("PORTCULLIS_EXTERNAL_URL", "https://auth.example.com",
        "PORTCULLIS_JWT_ISSUER", "https://issuer.example.com")).jwt().issuer());
  }

  @Test
  void externalUrlDefaultsToTheListeningPort() {
    Config config = load(Map.of("PORTCULLIS_HTTP_PORT", "8080"));
    assertEquals("http://localhost:8080", config.externalUrl());
    assertEquals("http://localhost:8080/auth/v1", config.jwt().issuer());
    assertEquals("http://localhost:9999", load(Map.of()).externalUrl());
    assertEquals("https://auth.example.com",
      load(Map.of("PORTCULLIS_HTTP_PORT", "8080", "PORTCULLIS_EXTERNAL_URL", "https://auth.example.com"))
        .externalUrl());
    assertInvalid(Map.of("PORTCULLIS_HTTP_PORT", "0"), "external_url", "PORTCULLIS_EXTERNAL_URL");
  }

  @Test
  void unknownPortcullisVariablesAreWarnedAboutOnceEachWithTheNearestKnownName() {
    Logger logger = (Logger) LoggerFactory.getLogger(ConfigLoader.class);
    ListAppender<ILoggingEvent> captured = new ListAppender<>();
    captured.start();
    logger.addAppender(captured);
    try {
      Map<String, String> env = new HashMap<>();
      env.put("PORTCULLIS_JWT_EXPIRY", "secret-looking-value-1");
      env.put("PORTCULLIS_HTTP_PROT", "secret-looking-value-2");
      env.put("PORTCULLIS_JWT_EXP", "120");
      env.put("PORTCULLIS_LOG_LEVEL", "DEBUG");
      env.put("PORTCULLIS_LOG_FORMAT", "TEXT");
      env.put("PORTCULLIS_ACCESS_LOG_LEVEL", "WARN");
      env.put("HOME", "/root");
      env.put("PORTCULLISX", "not ours");
      assertEquals(120, load(env).jwt().exp());

      List<String> warnings = captured.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
      assertEquals(2, warnings.size(), warnings.toString());
      assertTrue(warnings.get(0).contains("PORTCULLIS_HTTP_PROT") && warnings.get(0).contains("PORTCULLIS_HTTP_PORT"),
        warnings.get(0));
      assertTrue(warnings.get(1).contains("PORTCULLIS_JWT_EXPIRY") && warnings.get(1).contains("PORTCULLIS_JWT_EXP?"),
        warnings.get(1));
      assertTrue(warnings.stream().noneMatch(w -> w.contains("secret-looking-value")), warnings.toString());
    } finally {
      logger.detachAppender(captured);
    }
  }

  /** Every PORTCULLIS_ variable the code, scripts and image mention is one the loader knows. */
  @Test
  void everyVariableTheProjectReadsIsKnown() throws IOException {
    Pattern variable = Pattern.compile("PORTCULLIS_[A-Z0-9_]*[A-Z0-9]");
    Map<String, String> mentioned = new HashMap<>();
    List<Path> roots = List.of(Path.of("src/main"), Path.of("scripts"), Path.of("Dockerfile"),
      Path.of("docker-compose.yml"), Path.of("conf"));
    for (Path root : roots) {
      try (Stream<Path> files = Files.walk(root)) {
        for (Path file : files.filter(Files::isRegularFile).toList()) {
          Matcher m = variable.matcher(Files.readString(file));
          while (m.find()) {
            mentioned.put(m.group(), "x");
          }
        }
      }
    }
    assertTrue(mentioned.containsKey("PORTCULLIS_LOG_FORMAT"), mentioned.keySet().toString());
    assertTrue(mentioned.containsKey("PORTCULLIS_HTTP_PORT"), mentioned.keySet().toString());
    assertEquals(List.of(), ConfigLoader.unknownVariables(mentioned), new TreeSet<>(mentioned.keySet()).toString());
  }

  private static Config load(Map<String, String> env) {
    Map<String, String> withFile = new HashMap<>(env);
    withFile.putIfAbsent("PORTCULLIS_CONFIG", emptyFile.toString());
    return ConfigLoader.load(withFile);
  }

  private static void assertInvalid(Map<String, String> env, String setting, String variable) {
    ConfigException e = assertThrows(ConfigException.class, () -> load(env), env.toString());
    assertTrue(e.getMessage().contains(setting), e.getMessage());
    assertTrue(e.getMessage().contains(variable), e.getMessage());
  }

  @Test
  void clusterWithoutAnExternalDatabaseIsRefusedByName() {
    ConfigException e = assertThrows(ConfigException.class,
      () -> ConfigLoader.load(Map.of("PORTCULLIS_CLUSTER_ENABLED", "true")));

    assertTrue(e.getMessage().contains("PORTCULLIS_CLUSTER_ENABLED"), e.getMessage());
    assertTrue(e.getMessage().contains("PORTCULLIS_DB_URL"), e.getMessage());
    assertEquals(true, ConfigLoader.load(Map.of("PORTCULLIS_CLUSTER_ENABLED", "true",
      "PORTCULLIS_DB_URL", "postgres://u:p@127.0.0.1:5432/db", "PORTCULLIS_CLUSTER_MEMBERS", "10.0.0.1:5701, 10.0.0.2"))
      .cluster().members().equals(java.util.List.of("10.0.0.1:5701", "10.0.0.2")));
  }
}
