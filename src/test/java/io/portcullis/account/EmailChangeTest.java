package io.portcullis.account;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.AppExtension.Inbox;
import io.portcullis.it.DbRows;
import io.portcullis.it.ErrorShapes;
import io.portcullis.it.Mailbox;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Changing the email address with confirmation on and "secure email change" (the default): {@code PUT /user
 * {email}} mails both addresses, and the change applies once both halves are verified, in either order.
 */
@ExtendWith(AppExtension.class)
class EmailChangeTest {

  static final String PASSWORD = "password123";

  @Inbox
  static Mailbox mailbox;
  @App("PORTCULLIS_SIGNUP_AUTOCONFIRM=false")
  static TestApp app;

  @Test
  void emailChangeMailsBothAddressesAndAppliesOnceBothCodesAreVerified() {
    String old = TestApp.uniqueEmail();
    JsonObject session = confirmedUser(old);
    String id = session.getJsonObject("user").getString("id");
    String token = session.getString("access_token");
    String fresh = TestApp.uniqueEmail();

    TestApp.Response r = app.putJson(BASE + "/user", new JsonObject().put("email", fresh), TestApp.bearer(token));
    assertEquals(200, r.status(), r.raw());
    assertEquals(old, r.json().getString("email"));
    assertEquals(fresh, r.json().getString("new_email"));
    assertNotNull(r.json().getString("email_change_sent_at"), r.raw());

    Mailbox.Mail toNew = mailbox.next(fresh);
    Mailbox.Mail toOld = mailbox.next(old);
    for (Mailbox.Mail mail : new Mailbox.Mail[] {toNew, toOld}) {
      assertEquals(Mailbox.subject("email_change"), mail.subject());
      assertEquals("email_change", mail.linkParams().get("type"));
      assertTrue(mail.text().contains(fresh), mail.text());
      assertNotNull(mail.html());
    }

    TestApp.Response half = app.postJson(BASE + "/verify", new JsonObject().put("type", "email_change")
      .put("email", old).put("token", toOld.code()));
    assertEquals(200, half.status(), half.raw());
    assertEquals(200, half.json().getInteger("code"));
    assertFalse(half.json().getString("msg").isEmpty());
    assertFalse(half.json().containsKey("access_token"), half.raw());
    JsonObject stillOld = me(token);
    assertEquals(old, stillOld.getString("email"));
    assertEquals(fresh, stillOld.getString("new_email"));

    TestApp.Response done = app.postJson(BASE + "/verify", new JsonObject().put("type", "email_change")
      .put("email", fresh).put("token", toNew.code()));
    JsonObject changed = MailFlowTest.assertSessionOf(app, done, id);
    assertEquals(fresh, changed.getJsonObject("user").getString("email"));
    JsonObject now = me(changed.getString("access_token"));
    assertEquals(fresh, now.getString("email"));
    assertFalse(now.containsKey("new_email"), now.encode());

    assertEquals(id, app.signIn(fresh, PASSWORD).getJsonObject("user").getString("id"));
    ErrorShapes.assertLegacy(app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", old).put("password", PASSWORD)), 400, "invalid_credentials");
  }

  @Test
  void theNewAddressMayBeConfirmedFirstAndTheLinksWorkToo() {
    String old = TestApp.uniqueEmail();
    JsonObject session = confirmedUser(old);
    String id = session.getJsonObject("user").getString("id");
    String fresh = TestApp.uniqueEmail();
    String target = "http://localhost:3000/settings";

    TestApp.Response r = app.putJson(BASE + "/user?redirect_to=" + enc(target), new JsonObject().put("email", fresh),
      TestApp.bearer(session.getString("access_token")));
    assertEquals(200, r.status(), r.raw());
    Mailbox.Mail toNew = mailbox.next(fresh);
    Mailbox.Mail toOld = mailbox.next(old);
    // The default allow-list is empty; under the site URL (http://localhost:3000) is allowed.
    assertEquals(target, toNew.linkParams().get("redirect_to"));

    TestApp.Response half = app.postJson(BASE + "/verify", new JsonObject().put("type", "email_change")
      .put("token_hash", toNew.tokenHash()));
    assertEquals(200, half.status(), half.raw());
    assertEquals(200, half.json().getInteger("code"));
    assertEquals(old, DbRows.string(app, "SELECT email FROM users WHERE id = ?::uuid", id));

    TestApp.Response followed = app.get(toOld.linkPath());
    assertEquals(303, followed.status(), followed.raw());
    String location = followed.header("Location");
    assertTrue(location.startsWith(target + "#access_token="), location);
    Map<String, String> fragment = Mailbox.query(URI.create(location).getRawFragment());
    assertEquals("email_change", fragment.get("type"));
    assertEquals(fresh, me(fragment.get("access_token")).getString("email"));
  }

  @Test
  void followingTheFirstLinkRedirectsWithAMessageAndNoSession() {
    String old = TestApp.uniqueEmail();
    JsonObject session = confirmedUser(old);
    String fresh = TestApp.uniqueEmail();
    assertEquals(200, app.putJson(BASE + "/user", new JsonObject().put("email", fresh),
      TestApp.bearer(session.getString("access_token"))).status());
    Mailbox.Mail toNew = mailbox.next(fresh);
    mailbox.next(old);

    TestApp.Response followed = app.get(toNew.linkPath());
    assertEquals(303, followed.status());
    Map<String, String> fragment = Mailbox.query(URI.create(followed.header("Location")).getRawFragment());
    assertFalse(fragment.get("message").isEmpty(), followed.header("Location"));
    assertFalse(fragment.containsKey("access_token"));
    assertEquals(old, me(session.getString("access_token")).getString("email"));
  }

  @Test
  void aCodeOfOneAddressDoesNotVerifyTheOther() {
    String old = TestApp.uniqueEmail();
    JsonObject session = confirmedUser(old);
    String fresh = TestApp.uniqueEmail();
    assertEquals(200, app.putJson(BASE + "/user", new JsonObject().put("email", fresh),
      TestApp.bearer(session.getString("access_token"))).status());
    Mailbox.Mail toNew = mailbox.next(fresh);
    Mailbox.Mail toOld = mailbox.next(old);

    if (!toNew.code().equals(toOld.code())) {
      ErrorShapes.assertLegacy(app.postJson(BASE + "/verify", new JsonObject().put("type", "email_change")
        .put("email", fresh).put("token", toOld.code())), 403, "otp_expired");
    }
    ErrorShapes.assertLegacy(app.postJson(BASE + "/verify", new JsonObject().put("type", "signup")
      .put("email", fresh).put("token", toNew.code())), 403, "otp_expired");
    assertEquals(old, me(session.getString("access_token")).getString("email"));
  }

  @Test
  void changingToATakenAddressIsRefusedAndMailsNobody() {
    String taken = TestApp.uniqueEmail();
    confirmedUser(taken);
    String old = TestApp.uniqueEmail();
    JsonObject session = confirmedUser(old);

    ErrorShapes.assertError(422, "email_exists", h -> app.putJson(BASE + "/user", new JsonObject().put("email", taken),
      ErrorShapes.with(TestApp.bearer(session.getString("access_token")), h)));
    JsonObject user = me(session.getString("access_token"));
    assertEquals(old, user.getString("email"));
    assertFalse(user.containsKey("new_email"), user.encode());
    assertEquals("0", DbRows.string(app,
      "SELECT count(*) FROM mail_outbox WHERE recipient = ? AND kind = 'email_change'", taken));
  }

  @Test
  void anAddressTakenMeanwhileFailsTheSecondHalf() {
    String old = TestApp.uniqueEmail();
    JsonObject session = confirmedUser(old);
    String wanted = TestApp.uniqueEmail();
    assertEquals(200, app.putJson(BASE + "/user", new JsonObject().put("email", wanted),
      TestApp.bearer(session.getString("access_token"))).status());
    Mailbox.Mail toNew = mailbox.next(wanted);
    Mailbox.Mail toOld = mailbox.next(old);
    assertEquals(200, app.postJson(BASE + "/verify", new JsonObject().put("type", "email_change")
      .put("token_hash", toOld.tokenHash())).status());

    // Someone else signs up with the wanted address and confirms it before the change completes.
    confirmedUser(wanted);
    ErrorShapes.assertLegacy(app.postJson(BASE + "/verify", new JsonObject().put("type", "email_change")
      .put("token_hash", toNew.tokenHash())), 422, "email_exists");
    assertEquals(old, me(session.getString("access_token")).getString("email"));
  }

  @Test
  void resendEmailChangeMailsBothAddressesAgainAndOnlyTheLatestCodesWork() {
    String old = TestApp.uniqueEmail();
    JsonObject session = confirmedUser(old);
    String id = session.getJsonObject("user").getString("id");
    String fresh = TestApp.uniqueEmail();
    assertEquals(200, app.putJson(BASE + "/user", new JsonObject().put("email", fresh),
      TestApp.bearer(session.getString("access_token"))).status());
    Mailbox.Mail firstNew = mailbox.next(fresh);
    mailbox.next(old);
    app.clock.advance(Duration.ofSeconds(61));

    TestApp.Response resend = app.postJson(BASE + "/resend", new JsonObject().put("type", "email_change")
      .put("email", old));
    assertEquals(200, resend.status(), resend.raw());
    assertEquals(new JsonObject(), resend.json());
    Mailbox.Mail secondNew = mailbox.next(fresh);
    Mailbox.Mail secondOld = mailbox.next(old);

    ErrorShapes.assertLegacy(app.postJson(BASE + "/verify", new JsonObject().put("type", "email_change")
      .put("token_hash", firstNew.tokenHash())), 403, "otp_expired");
    assertEquals(200, app.postJson(BASE + "/verify", new JsonObject().put("type", "email_change")
      .put("email", old).put("token", secondOld.code())).status());
    JsonObject changed = MailFlowTest.assertSessionOf(app, app.postJson(BASE + "/verify",
      new JsonObject().put("type", "email_change").put("email", fresh).put("token", secondNew.code())), id);
    assertEquals(fresh, changed.getJsonObject("user").getString("email"));
  }

  @Test
  void repeatingTheSameChangeWithinSixtySecondsIsRateLimited() {
    String old = TestApp.uniqueEmail();
    JsonObject session = confirmedUser(old);
    String fresh = TestApp.uniqueEmail();
    String[] auth = TestApp.bearer(session.getString("access_token"));
    assertEquals(200, app.putJson(BASE + "/user", new JsonObject().put("email", fresh), auth).status());
    mailbox.next(fresh);

    ErrorShapes.assertError(429, "over_email_send_rate_limit", h -> app.putJson(BASE + "/user",
      new JsonObject().put("email", fresh), ErrorShapes.with(auth, h)));
    app.clock.advance(Duration.ofSeconds(61));
    assertEquals(200, app.putJson(BASE + "/user", new JsonObject().put("email", fresh), auth).status());
    mailbox.next(fresh);
  }

  @Test
  void withoutSecureChangeOnlyTheNewAddressIsMailedAndItsCodeApplies() {
    Map<String, String> env = new HashMap<>(mailbox.env());
    env.put("PORTCULLIS_SIGNUP_AUTOCONFIRM", "false");
    env.put("PORTCULLIS_MAILER_SECURE_EMAIL_CHANGE", "false");
    try (TestApp plain = TestApp.start(env)) {
      String old = TestApp.uniqueEmail();
      TestApp.Response signup = plain.postJson(BASE + "/signup",
        new JsonObject().put("email", old).put("password", PASSWORD));
      String id = signup.json().getString("id");
      JsonObject session = MailFlowTest.assertSessionOf(plain, plain.postJson(BASE + "/verify",
        new JsonObject().put("type", "signup").put("email", old).put("token", mailbox.next(old).code())), id);
      String fresh = TestApp.uniqueEmail();

      TestApp.Response r = plain.putJson(BASE + "/user", new JsonObject().put("email", fresh),
        TestApp.bearer(session.getString("access_token")));
      assertEquals(200, r.status(), r.raw());
      assertEquals(fresh, r.json().getString("new_email"));
      Mailbox.Mail toNew = mailbox.next(fresh);
      JsonObject changed = MailFlowTest.assertSessionOf(plain, plain.postJson(BASE + "/verify",
        new JsonObject().put("type", "email_change").put("email", fresh).put("token", toNew.code())), id);
      assertEquals(fresh, changed.getJsonObject("user").getString("email"));
      assertEquals("0", DbRows.string(plain,
        "SELECT count(*) FROM mail_outbox WHERE recipient = ? AND kind = 'email_change'", old));
    }
  }

  // ---- helpers ----

  private static JsonObject me(String accessToken) {
    TestApp.Response r = app.get(BASE + "/user", TestApp.bearer(accessToken));
    assertEquals(200, r.status(), r.raw());
    return r.json();
  }

  private static JsonObject confirmedUser(String email) {
    TestApp.Response r = app.postJson(BASE + "/signup", new JsonObject().put("email", email).put("password", PASSWORD));
    assertEquals(200, r.status(), r.raw());
    Mailbox.Mail mail = mailbox.next(email);
    return MailFlowTest.assertSessionOf(app, app.postJson(BASE + "/verify", new JsonObject().put("type", "signup")
      .put("email", email).put("token", mail.code())), r.json().getString("id"));
  }

  private static String enc(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
  }
}
