package io.portcullis.app;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;

@ExtendWith(AppExtension.class)
class SmokeTest {

  @App
  static TestApp app;

  @Test
  void signUpThenGetUser() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, "password123");
    TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(session.getString("access_token")));
    assertEquals(200, me.status());
    assertEquals(email, me.json().getString("email"));
  }
}
