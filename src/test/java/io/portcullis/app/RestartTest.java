package io.portcullis.app;

import io.portcullis.it.TempDirs;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** Users, sessions and signing keys persist in the embedded PostgreSQL's data directory across a restart. */
class RestartTest {

  // Each start gets a new port and so, by default, a new issuer; a real deployment keeps its URL across restarts.
  private static final Map<String, String> SAME_ISSUER = Map.of("PORTCULLIS_JWT_ISSUER", "http://portcullis.test/auth/v1");

  @Test
  void usersTokensAndSessionsSurviveARestart() throws IOException {
    Path dataDir = TempDirs.create("portcullis-restart");
    String email = TestApp.uniqueEmail();
    String password = "password123";
    JsonObject session;
    String kidBefore;
    try (TestApp first = TestApp.start(dataDir, SAME_ISSUER)) {
      session = first.signUp(email, password);
      kidBefore = first.get(BASE + "/.well-known/jwks.json").json().getJsonArray("keys").getJsonObject(0).getString("kid");
    }

    try (TestApp second = TestApp.start(dataDir, SAME_ISSUER)) {
      JsonObject signedIn = second.signIn(email, password);
      assertEquals(session.getJsonObject("user").getString("id"), signedIn.getJsonObject("user").getString("id"));

      TestApp.Response me = second.get(BASE + "/user", TestApp.bearer(session.getString("access_token")));
      assertEquals(200, me.status(), me.raw());
      assertEquals(email, me.json().getString("email"));

      TestApp.Response refreshed = second.refresh(session.getString("refresh_token"));
      assertEquals(200, refreshed.status(), refreshed.raw());
      assertNotEquals(session.getString("refresh_token"), refreshed.json().getString("refresh_token"));

      String kidAfter = second.get(BASE + "/.well-known/jwks.json").json().getJsonArray("keys").getJsonObject(0)
        .getString("kid");
      assertEquals(kidBefore, kidAfter);
    }
  }
}
