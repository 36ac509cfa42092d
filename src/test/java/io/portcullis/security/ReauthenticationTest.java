package io.portcullis.security;

import io.portcullis.it.Mailbox;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static io.portcullis.it.ErrorShapes.assertError;
import static io.portcullis.it.ErrorShapes.with;
import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /auth/v1/reauthenticate} and {@code PUT /auth/v1/user {password, nonce}} with
 * {@code security.update_password_require_reauthentication} on: sessions younger than the window are exempt (as
 * GoTrue), older ones need the mailed nonce, which works once.
 */
class ReauthenticationTest {

  private static final String PASSWORD = "password123";

  static Mailbox mailbox;
  static TestApp app;

  @BeforeAll
  static void start() {
    mailbox = Mailbox.start();
    Map<String, String> env = new HashMap<>(mailbox.env());
    env.put("PORTCULLIS_SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION", "true");
    env.put("PORTCULLIS_SIGNUP_ANONYMOUS_ENABLED", "true");
    env.put("PORTCULLIS_MAILER_SEND_INTERVAL_SECONDS", "0");
    app = TestApp.start(env);
  }

  @AfterAll
  static void stop() {
    try {
      app.close();
    } finally {
      mailbox.close();
    }
  }

  /** A session begun more than a day ago, with a fresh access token (refreshed after the clock moved). */
  static JsonObject oldSession(String email) {
    JsonObject session = app.signUp(email, PASSWORD);
    app.clock.advance(Duration.ofHours(25));
    TestApp.Response refreshed = app.refresh(session.getString("refresh_token"));
    assertEquals(200, refreshed.status(), refreshed.raw());
    return refreshed.json();
  }

  static TestApp.Response changePassword(JsonObject session, JsonObject body, String... headers) {
    return app.putJson(BASE + "/user", body, with(bearer(session.getString("access_token")), headers));
  }

  @Test
  void aRecentSessionChangesThePasswordWithoutANonce() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    TestApp.Response changed = changePassword(session, new JsonObject().put("password", "recent-change-1"));
    assertEquals(200, changed.status(), changed.raw());
  }

  @Test
  void anOldSessionNeedsTheMailedNonceWhichWorksOnce() {
    String email = TestApp.uniqueEmail();
    JsonObject session = oldSession(email);
    assertError(400, "reauthentication_needed", h -> changePassword(session,
      new JsonObject().put("password", "new-password-1"), h));
    // Metadata changes need nothing.
    assertEquals(200, changePassword(session, new JsonObject().put("data", new JsonObject().put("k", 1))).status());

    TestApp.Response asked = app.get(BASE + "/reauthenticate", bearer(session.getString("access_token")));
    assertEquals(200, asked.status(), asked.raw());
    assertEquals(new JsonObject(), asked.json());
    Mailbox.Mail mail = mailbox.next(email);
    assertEquals(Mailbox.subject("reauthentication"), mail.subject());
    String nonce = mail.code();
    assertTrue(nonce.matches("[0-9]{6}"), mail.text());

    String wrong = nonce.equals("000000") ? "111111" : "000000";
    assertError(422, "reauthentication_not_valid", h -> changePassword(session,
      new JsonObject().put("password", "new-password-1").put("nonce", wrong), h));
    TestApp.Response changed = changePassword(session,
      new JsonObject().put("password", "new-password-1").put("nonce", nonce));
    assertEquals(200, changed.status(), changed.raw());
    app.signIn(email, "new-password-1");
    // Spent.
    assertError(422, "reauthentication_not_valid", h -> changePassword(session,
      new JsonObject().put("password", "newer-password-2").put("nonce", nonce), h));
    // The nonce cannot sign anyone in through /verify.
    assertError(403, "otp_expired", h -> app.postJson(BASE + "/verify", new JsonObject().put("type", "email")
      .put("email", email).put("token", nonce), h));
  }

  @Test
  void aNewNonceReplacesTheLastOne() {
    String email = TestApp.uniqueEmail();
    JsonObject session = oldSession(email);
    assertEquals(200, app.get(BASE + "/reauthenticate", bearer(session.getString("access_token"))).status());
    String first = mailbox.next(email).code();
    assertEquals(200, app.get(BASE + "/reauthenticate", bearer(session.getString("access_token"))).status());
    String second = mailbox.next(email).code();
    if (!first.equals(second)) {
      assertError(422, "reauthentication_not_valid", h -> changePassword(session,
        new JsonObject().put("password", "new-password-1").put("nonce", first), h));
    }
    assertEquals(200, changePassword(session, new JsonObject().put("password", "new-password-1")
      .put("nonce", second)).status());
  }

  @Test
  void aUserWithoutEmailCannotReauthenticateAndNoTokenIsNoAuthorization() {
    TestApp.Response anonymous = app.postJson(BASE + "/signup", new JsonObject());
    assertEquals(200, anonymous.status(), anonymous.raw());
    assertError(422, "reauthentication_not_valid", h -> app.get(BASE + "/reauthenticate",
      with(bearer(anonymous.json().getString("access_token")), h)));
    assertError(401, "no_authorization", h -> app.get(BASE + "/reauthenticate", h));
  }
}
