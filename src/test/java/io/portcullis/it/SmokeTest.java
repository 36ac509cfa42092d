package io.portcullis.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SmokeTest {

  static TestApp app;

  @BeforeAll
  static void start() {
    app = TestApp.start();
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void signUpThenGetUser() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, "password123");
    TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(session.getString("access_token")));
    assertEquals(200, me.status());
    assertEquals(email, me.json().getString("email"));
  }
}
