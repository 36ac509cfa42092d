package io.portcullis.token;

import io.portcullis.it.TempDirs;
import io.portcullis.config.ConfigException;
import io.portcullis.config.ConfigLoader;
import io.portcullis.it.CommandLine;
import io.portcullis.it.DbRows;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Private signing keys encrypted at rest: stored as {@code enc:v1:...} when
 * {@code jwt.keys_encryption_key} is set, keys stored in clear encrypted at the next start with a key, and a start
 * with the key missing or wrong refused with a message that names the setting.
 */
class KeyEncryptionTest {

  private static final String ENV = "PORTCULLIS_JWT_KEYS_ENCRYPTION_KEY";
  private static final String SETTING = "jwt.keys_encryption_key";
  private static final String PASSWORD = "password123";
  private static final String JWKS = BASE + "/.well-known/jwks.json";
  // Each start gets a new port and so, by default, a new issuer; a real deployment keeps its URL across restarts.
  private static final String ISSUER = "http://portcullis.test/auth/v1";

  private static Map<String, String> env(String... pairs) {
    Map<String, String> env = new HashMap<>();
    env.put("PORTCULLIS_JWT_ISSUER", ISSUER);
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  @Test
  void keysAreStoredEncryptedAndAStartWithoutTheKeyOrWithAWrongOneIsRefused() throws Exception {
    Path dataDir = TempDirs.create("portcullis-enc");
    String key = TestApp.randomSecret(40);
    JsonObject session;
    String kid;
    try (TestApp app = TestApp.start(dataDir, env(ENV, key))) {
      List<String> stored = privateJwks(app);
      assertEquals(1, stored.size());
      assertTrue(stored.get(0).startsWith("enc:v1:"), "stored in clear: " + stored.get(0).substring(0, 10));
      assertFalse(stored.get(0).contains("\"d\""));
      String publicJwk = DbRows.string(app, "SELECT public_jwk FROM signing_keys");
      assertFalse(new JsonObject(publicJwk).containsKey("d"), "the public part stays readable JSON without d");

      session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
      TestApp.Response me = app.get(BASE + "/user", bearer(session.getString("access_token")));
      assertEquals(200, me.status(), me.raw());
      kid = onlyKid(app);
    }

    IllegalStateException missing = assertThrows(IllegalStateException.class, () -> TestApp.start(dataDir, env()));
    assertTrue(causes(missing).contains(SETTING), causes(missing));

    IllegalStateException wrong = assertThrows(IllegalStateException.class,
      () -> TestApp.start(dataDir, env(ENV, TestApp.randomSecret(40))));
    assertTrue(causes(wrong).contains(SETTING) && causes(wrong).contains("is wrong"), causes(wrong));
    assertFalse(causes(wrong).contains(key), "the message never shows the key");

    try (TestApp app = TestApp.start(dataDir, env(ENV, key))) {
      assertEquals(kid, onlyKid(app));
      TestApp.Response me = app.get(BASE + "/user", bearer(session.getString("access_token")));
      assertEquals(200, me.status(), me.raw());
      TestApp.Response refreshed = app.refresh(session.getString("refresh_token"));
      assertEquals(200, refreshed.status(), refreshed.raw());
    }
  }

  @Test
  void keysStoredInClearAreEncryptedOnceAKeyIsConfiguredAndOldTokensStillVerify() throws Exception {
    Path dataDir = TempDirs.create("portcullis-enc");
    JsonObject session;
    String kid;
    try (TestApp app = TestApp.start(dataDir, env())) {
      List<String> stored = privateJwks(app);
      assertEquals(1, stored.size());
      assertTrue(new JsonObject(stored.get(0)).containsKey("d"), "without a key, the private JWK is stored in clear");
      session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
      kid = onlyKid(app);
    }

    String key = TestApp.randomSecret(40);
    try (TestApp app = TestApp.start(dataDir, env(ENV, key))) {
      List<String> stored = privateJwks(app);
      assertEquals(1, stored.size());
      assertTrue(stored.get(0).startsWith("enc:v1:"), "not encrypted at start: " + stored.get(0).substring(0, 10));
      assertEquals(kid, onlyKid(app));
      TestApp.Response me = app.get(BASE + "/user", bearer(session.getString("access_token")));
      assertEquals(200, me.status(), me.raw());
      JsonObject signedIn = app.signIn(session.getJsonObject("user").getString("email"), PASSWORD);
      assertEquals(200, app.get(BASE + "/user", bearer(signedIn.getString("access_token"))).status());
    }

    // From now on the key is needed.
    IllegalStateException missing = assertThrows(IllegalStateException.class, () -> TestApp.start(dataDir, env()));
    assertTrue(causes(missing).contains(SETTING), causes(missing));
  }

  @Test
  void commandsNeedTheEncryptionKeyAndRotateKeysStoresTheNewKeyEncrypted() throws Exception {
    String key = TestApp.randomSecret(40);
    try (TestApp app = TestApp.start(env(ENV, key))) {
      Map<String, String> pinned = Map.of("PORTCULLIS_JWT_ISSUER", ISSUER);

      CommandLine.Run noKey = CommandLine.run(app, pinned, "service-key");
      assertNotEquals(0, noKey.exit(), noKey.out());
      assertTrue(noKey.err().contains(SETTING), noKey.err());

      CommandLine.Run rotated = CommandLine.run(app, Map.of("PORTCULLIS_JWT_ISSUER", ISSUER, ENV, key), "rotate-keys");
      assertEquals(0, rotated.exit(), rotated.err());
      List<String> stored = privateJwks(app);
      assertEquals(2, stored.size());
      stored.forEach(jwk -> assertTrue(jwk.startsWith("enc:v1:"), "stored in clear: " + jwk.substring(0, 10)));

      String serviceKey = CommandLine.serviceKey(app, Map.of("PORTCULLIS_JWT_ISSUER", ISSUER, ENV, key));
      TestApp.Response users = app.get(BASE + "/admin/users", bearer(serviceKey));
      assertEquals(200, users.status(), users.raw());
    }
  }

  @Test
  void rotateKeysWithoutTheEncryptionKeyOrWithAWrongOneWritesNoKey() throws Exception {
    String key = TestApp.randomSecret(40);
    try (TestApp app = TestApp.start(env(ENV, key))) {
      Map<String, String> pinned = Map.of("PORTCULLIS_JWT_ISSUER", ISSUER);

      CommandLine.Run noKey = CommandLine.run(app, pinned, "rotate-keys");
      assertNotEquals(0, noKey.exit(), noKey.out());
      assertTrue(noKey.err().contains(SETTING), noKey.err());

      CommandLine.Run wrongKey = CommandLine.run(app, Map.of("PORTCULLIS_JWT_ISSUER", ISSUER, ENV, TestApp.randomSecret(40)),
        "rotate-keys");
      assertNotEquals(0, wrongKey.exit(), wrongKey.out());
      assertTrue(wrongKey.err().contains("is wrong"), wrongKey.err());

      assertEquals(1, privateJwks(app).size(), "no private key written in clear or under another key");
    }
  }

  @Test
  void anEncryptionKeyUnder32CharactersIsRefusedByTheConfiguration() throws IOException {
    Map<String, String> env = new HashMap<>();
    env.put("PORTCULLIS_CONFIG", "target/classes/portcullis/config.json");
    env.put("PORTCULLIS_DATA_DIR", TempDirs.create("portcullis-enc").toString());
    env.put(ENV, TestApp.randomSecret(31));

    ConfigException refused = assertThrows(ConfigException.class, () -> ConfigLoader.load(env));
    assertTrue(refused.getMessage().contains(SETTING), refused.getMessage());
    assertTrue(refused.getMessage().contains(ENV), refused.getMessage());

    env.put(ENV, TestApp.randomSecret(32));
    assertEquals(env.get(ENV), ConfigLoader.load(env).jwt().keysEncryptionKey());
  }

  // ---- helpers ----

  private static List<String> privateJwks(TestApp app) {
    return DbRows.strings(app, "SELECT private_jwk FROM signing_keys ORDER BY created_at");
  }

  private static String onlyKid(TestApp app) {
    TestApp.Response r = app.get(JWKS);
    assertEquals(200, r.status(), r.raw());
    assertEquals(1, r.json().getJsonArray("keys").size(), r.raw());
    return r.json().getJsonArray("keys").getJsonObject(0).getString("kid");
  }

  /** Every message in the cause chain, one per line. */
  private static String causes(Throwable failure) {
    StringBuilder messages = new StringBuilder();
    for (Throwable t = failure; t != null; t = t.getCause()) {
      messages.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append('\n');
    }
    return messages.toString();
  }
}
