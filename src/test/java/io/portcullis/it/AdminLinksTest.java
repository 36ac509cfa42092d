package io.portcullis.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code admin.generateLink} for every type, and {@code inviteUserByEmail}: the links work like mailed ones. */
class AdminLinksTest {

  static final String SITE = "https://site.portcullis.test";
  static Mailbox mailbox;
  static TestApp app;
  static String serviceKey;

  @BeforeAll
  static void start() {
    mailbox = Mailbox.start();
    Map<String, String> env = new HashMap<>(mailbox.env());
    env.put("PORTCULLIS_SIGNUP_AUTOCONFIRM", "false");
    env.put("PORTCULLIS_SITE_URL", SITE);
    app = TestApp.start(env);
    serviceKey = CommandLine.serviceKey(app);
  }

  @AfterAll
  static void stop() {
    try {
      app.close();
    } finally {
      mailbox.close();
    }
  }

  static TestApp.Response generate(JsonObject body, String... headers) {
    String[] all = new String[headers.length + 2];
    all[0] = "Authorization";
    all[1] = "Bearer " + serviceKey;
    System.arraycopy(headers, 0, all, 2, headers.length);
    return app.postJson(BASE + "/admin/generate_link", body, all);
  }

  /** Follows an action link and answers the session in its redirect's fragment. */
  static Map<String, String> follow(String actionLink) {
    URI link = URI.create(actionLink);
    TestApp.Response r = app.get(link.getRawPath() + "?" + link.getRawQuery());
    assertEquals(303, r.status(), r.raw());
    Map<String, String> fragment = Mailbox.query(URI.create(r.header("Location")).getRawFragment());
    assertNotNull(fragment.get("access_token"), r.header("Location"));
    return fragment;
  }

  @Test
  void aSignupLinkCreatesTheUserAndConfirmsIt() {
    String email = TestApp.uniqueEmail();
    TestApp.Response r = generate(new JsonObject().put("type", "signup").put("email", email)
      .put("password", "password123").put("data", new JsonObject().put("plan", "pro")));
    assertEquals(200, r.status(), r.raw());
    JsonObject body = r.json();
    assertEquals(email, body.getString("email"));
    assertEquals("pro", body.getJsonObject("user_metadata").getString("plan"));
    assertEquals("signup", body.getString("verification_type"));
    assertTrue(body.getString("email_otp").matches("[0-9]{6}"), body.encode());
    assertTrue(body.getString("action_link").startsWith(app.url(BASE + "/verify?token=")), body.encode());
    assertEquals(SITE, body.getString("redirect_to"));
    follow(body.getString("action_link"));
    assertEquals(email, app.signIn(email, "password123").getJsonObject("user").getString("email"));
    ErrorShapes.assertError(422, "email_exists", h -> generate(new JsonObject().put("type", "signup")
      .put("email", email).put("password", "password123"), h));
  }

  @Test
  void recoveryAndMagicLinkTokensVerifyLikeMailedOnes() {
    String email = TestApp.uniqueEmail();
    generate(new JsonObject().put("type", "magiclink").put("email", email));
    JsonObject recovery = generate(new JsonObject().put("type", "recovery").put("email", email)).json();
    TestApp.Response session = app.postJson(BASE + "/verify", new JsonObject().put("type", "recovery")
      .put("token_hash", recovery.getString("hashed_token")));
    assertEquals(200, session.status(), session.raw());
    JsonObject magic = generate(new JsonObject().put("type", "magiclink").put("email", email)).json();
    TestApp.Response byCode = app.postJson(BASE + "/verify", new JsonObject().put("type", "magiclink")
      .put("email", email).put("token", magic.getString("email_otp")));
    assertEquals(200, byCode.status(), byCode.raw());
  }

  @Test
  void emailChangeLinksChangeTheAddress() {
    String email = TestApp.uniqueEmail();
    String newEmail = TestApp.uniqueEmail();
    generate(new JsonObject().put("type", "magiclink").put("email", email));
    JsonObject link = generate(new JsonObject().put("type", "email_change_new").put("email", email)
      .put("new_email", newEmail)).json();
    assertEquals("email_change", link.getString("verification_type"));
    assertEquals(newEmail, link.getString("new_email"));
    Map<String, String> session = follow(link.getString("action_link"));
    assertEquals(newEmail, app.get(BASE + "/user", TestApp.bearer(session.get("access_token"))).json()
      .getString("email"));
    String current = TestApp.uniqueEmail();
    generate(new JsonObject().put("type", "magiclink").put("email", current));
    JsonObject other = generate(new JsonObject().put("type", "email_change_current").put("email", current)
      .put("new_email", TestApp.uniqueEmail())).json();
    assertEquals(200, app.postJson(BASE + "/verify", new JsonObject().put("type", "email_change")
      .put("token_hash", other.getString("hashed_token"))).status());
  }

  @Test
  void inviteCreatesTheUserAndMailsALinkThatSignsIn() {
    String email = TestApp.uniqueEmail();
    TestApp.Response r = app.postJson(BASE + "/invite", new JsonObject().put("email", email)
      .put("data", new JsonObject().put("team", "blue")), "Authorization", "Bearer " + serviceKey);
    assertEquals(200, r.status(), r.raw());
    assertEquals(email, r.json().getString("email"));
    Mailbox.Mail mail = mailbox.next(email);
    assertEquals(Mailbox.subject("invite"), mail.subject());
    TestApp.Response link = app.get(mail.linkPath());
    assertEquals(303, link.status(), link.raw());
    assertTrue(link.header("Location").contains("access_token="), link.header("Location"));
    assertTrue(link.header("Location").contains("type=invite"), link.header("Location"));
    ErrorShapes.assertError(422, "email_exists", h -> app.postJson(BASE + "/invite",
      new JsonObject().put("email", email), concat(h, "Authorization", "Bearer " + serviceKey)));
  }

  @Test
  void invalidRequestsAndNonAdminsAreRefused() {
    ErrorShapes.assertError(400, "validation_failed", h -> generate(new JsonObject().put("type", "phone")
      .put("email", TestApp.uniqueEmail()), h));
    ErrorShapes.assertError(400, "validation_failed", h -> generate(new JsonObject().put("type", "email_change_new")
      .put("email", TestApp.uniqueEmail()), h));
    ErrorShapes.assertError(404, "user_not_found", h -> generate(new JsonObject().put("type", "recovery")
      .put("email", TestApp.uniqueEmail()), h));
    String email = TestApp.uniqueEmail();
    generate(new JsonObject().put("type", "magiclink").put("email", email));
    JsonObject magic = generate(new JsonObject().put("type", "magiclink").put("email", email)).json();
    String token = app.postJson(BASE + "/verify", new JsonObject().put("type", "magiclink")
      .put("token_hash", magic.getString("hashed_token"))).json().getString("access_token");
    ErrorShapes.assertError(403, "not_admin", h -> app.postJson(BASE + "/admin/generate_link",
      new JsonObject().put("type", "recovery").put("email", email), concat(h, "Authorization", "Bearer " + token)));
  }

  static String[] concat(String[] a, String... b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
