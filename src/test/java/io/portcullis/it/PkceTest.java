package io.portcullis.it;

import io.portcullis.flow.Pkce;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PKCE for the flows that mail a link: the link redirects with {@code ?code=}, and {@code grant_type=pkce} trades
 * the code and its verifier for a session once, within five minutes; GoTrue's validation and error codes.
 */
class PkceTest {

  static final String SITE = "https://site.portcullis.test";
  static final String PASSWORD = "password123";

  static Mailbox mailbox;
  static TestApp app;

  @BeforeAll
  static void start() {
    mailbox = Mailbox.start();
    Map<String, String> env = new HashMap<>(mailbox.env());
    env.put("PORTCULLIS_SIGNUP_AUTOCONFIRM", "false");
    env.put("PORTCULLIS_SITE_URL", SITE);
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

  static String verifier() {
    return UUID.randomUUID() + "-" + UUID.randomUUID();
  }

  static JsonObject challenge(String verifier) {
    return new JsonObject().put("code_challenge", Pkce.s256(verifier)).put("code_challenge_method", "s256");
  }

  /** Follows the mail's link and answers the auth code of the redirect. */
  static String codeFromLink(Mailbox.Mail mail, String expectedTarget) {
    TestApp.Response r = app.get(mail.linkPath());
    assertEquals(303, r.status(), r.raw());
    String location = r.header("Location");
    assertTrue(location.startsWith(expectedTarget + "?code="), location);
    assertNull(URI.create(location).getRawFragment(), "no session in the fragment of a PKCE flow: " + location);
    return Mailbox.query(URI.create(location).getRawQuery()).get("code");
  }

  static TestApp.Response exchange(String code, String verifier, String... headers) {
    return app.postJson(BASE + "/token?grant_type=pkce",
      new JsonObject().put("auth_code", code).put("code_verifier", verifier), headers);
  }

  @Test
  void signupConfirmationLinkRedirectsWithACodeThatTheVerifierExchangesOnce() {
    String email = TestApp.uniqueEmail();
    String verifier = verifier();
    TestApp.Response signup = app.postJson(BASE + "/signup?redirect_to=" + SITE + "/welcome",
      challenge(verifier).put("email", email).put("password", PASSWORD));
    assertEquals(200, signup.status(), signup.raw());
    String code = codeFromLink(mailbox.next(email), SITE + "/welcome");

    TestApp.Response session = exchange(code, verifier);
    assertEquals(200, session.status(), session.raw());
    assertEquals("no-store", session.header("Cache-Control"));
    assertEquals(email, session.json().getJsonObject("user").getString("email"));
    assertNotNull(session.json().getJsonObject("user").getString("email_confirmed_at"));
    assertNotNull(session.json().getString("refresh_token"));
    TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(session.json().getString("access_token")));
    assertEquals(200, me.status(), me.raw());

    ErrorShapes.assertError(404, "flow_state_not_found", h -> exchange(code, verifier, h));
  }

  @Test
  void magicLinkAndRecoveryLinksOfPkceFlowsEndInCodes() {
    String email = TestApp.uniqueEmail();
    app.postJson(BASE + "/signup", new JsonObject().put("email", email).put("password", PASSWORD));
    app.get(mailbox.next(email).linkPath()); // confirmed, implicitly

    String otpVerifier = verifier();
    assertEquals(200, app.postJson(BASE + "/otp", challenge(otpVerifier).put("email", email)).status());
    TestApp.Response otp = exchange(codeFromLink(mailbox.next(email), SITE), otpVerifier);
    assertEquals(200, otp.status(), otp.raw());

    String recoveryVerifier = verifier();
    // "plain", in upper case: the method is read case-insensitively.
    assertEquals(200, app.postJson(BASE + "/recover", new JsonObject().put("email", email)
      .put("code_challenge", recoveryVerifier).put("code_challenge_method", "PLAIN")).status());
    TestApp.Response recovery = exchange(codeFromLink(mailbox.next(email), SITE), recoveryVerifier);
    assertEquals(200, recovery.status(), recovery.raw());
    assertEquals(200, app.putJson(BASE + "/user", new JsonObject().put("password", "another-password-1"),
      TestApp.bearer(recovery.json().getString("access_token"))).status());
  }

  @Test
  void anEmailChangeOfAPkceClientEndsInACodeOnceBothAddressesConfirmed() {
    String email = TestApp.uniqueEmail();
    app.postJson(BASE + "/signup", new JsonObject().put("email", email).put("password", PASSWORD));
    String token = Mailbox.query(URI.create(app.get(mailbox.next(email).linkPath()).header("Location"))
      .getRawFragment()).get("access_token");
    String newEmail = TestApp.uniqueEmail();
    String verifier = verifier();
    TestApp.Response change = app.putJson(BASE + "/user", challenge(verifier).put("email", newEmail),
      TestApp.bearer(token));
    assertEquals(200, change.status(), change.raw());
    // The first half answers a message (nothing to exchange yet), the second the code.
    TestApp.Response first = app.get(mailbox.next(email).linkPath());
    assertEquals(303, first.status(), first.raw());
    assertTrue(first.header("Location").contains("#message="), first.header("Location"));
    String code = codeFromLink(mailbox.next(newEmail), SITE);
    TestApp.Response session = exchange(code, verifier);
    assertEquals(200, session.status(), session.raw());
    assertEquals(newEmail, session.json().getJsonObject("user").getString("email"));
  }

  @Test
  void theSixDigitCodeOfAPkceMailStillSignsInDirectly() {
    String email = TestApp.uniqueEmail();
    app.postJson(BASE + "/signup", challenge(verifier()).put("email", email).put("password", PASSWORD));
    Mailbox.Mail mail = mailbox.next(email);
    TestApp.Response r = app.postJson(BASE + "/verify", new JsonObject().put("type", "signup").put("email", email)
      .put("token", mail.code()).put("link", true));
    assertEquals(200, r.status(), r.raw());
    assertNotNull(r.json().getString("access_token"), r.raw());
  }

  @Test
  void aWrongVerifierIsRefusedAndTheRightOneStillWorks() {
    String email = TestApp.uniqueEmail();
    String verifier = verifier();
    app.postJson(BASE + "/signup", challenge(verifier).put("email", email).put("password", PASSWORD));
    String code = codeFromLink(mailbox.next(email), SITE);
    ErrorShapes.assertError(400, "bad_code_verifier", h -> exchange(code, verifier() , h));
    assertEquals(200, exchange(code, verifier).status());
  }

  @Test
  void aCodeOlderThanFiveMinutesHasExpired() {
    String email = TestApp.uniqueEmail();
    String verifier = verifier();
    app.postJson(BASE + "/signup", challenge(verifier).put("email", email).put("password", PASSWORD));
    String code = codeFromLink(mailbox.next(email), SITE);
    app.clock.advance(Duration.ofSeconds(301));
    ErrorShapes.assertError(422, "flow_state_expired", h -> exchange(code, verifier, h));
  }

  @Test
  void exchangeNeedsBothFields() {
    ErrorShapes.assertError(400, "validation_failed", h -> exchange("", verifier(), h));
    ErrorShapes.assertError(400, "validation_failed", h -> app.postJson(BASE + "/token?grant_type=pkce",
      new JsonObject().put("auth_code", "x"), h));
    ErrorShapes.assertError(404, "flow_state_not_found", h -> exchange("unknown-code", verifier(), h));
  }

  @Test
  void challengeValidationFollowsGoTrue() {
    String email = TestApp.uniqueEmail();
    ErrorShapes.assertError(400, "validation_failed", h -> app.postJson(BASE + "/otp",
      new JsonObject().put("email", email).put("code_challenge", Pkce.s256("x")), h));
    ErrorShapes.assertError(400, "validation_failed", h -> app.postJson(BASE + "/recover",
      new JsonObject().put("email", email).put("code_challenge_method", "s256"), h));
    ErrorShapes.assertError(400, "validation_failed", h -> app.postJson(BASE + "/otp",
      new JsonObject().put("email", email).put("code_challenge", "short").put("code_challenge_method", "s256"), h));
    ErrorShapes.assertError(400, "validation_failed", h -> app.postJson(BASE + "/otp",
      new JsonObject().put("email", email).put("code_challenge", Pkce.s256("x")).put("code_challenge_method", "md5"),
      h));
    // Implicit-mode supabase-js sends both as JSON null.
    TestApp.Response implicit = app.postJson(BASE + "/otp", new JsonObject().put("email", email)
      .putNull("code_challenge").putNull("code_challenge_method"));
    assertEquals(200, implicit.status(), implicit.raw());
  }
}
