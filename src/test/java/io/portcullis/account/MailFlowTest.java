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
import java.util.Map;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The account flows by mail through HTTP, against a real SMTP server: each test reads the mail the
 * service really sent, takes its link or 6-digit code, and completes the flow. Confirmation is required
 * (autoconfirm off), redirects have an allow-list and a site URL of their own.
 */
@ExtendWith(AppExtension.class)
public class MailFlowTest {

  static final String SITE = "https://site.portcullis.test";
  static final String PASSWORD = "password123";

  @Inbox
  static Mailbox mailbox;
  @App({
    "PORTCULLIS_SIGNUP_AUTOCONFIRM=false",
    "PORTCULLIS_SITE_URL=" + SITE,
    "PORTCULLIS_MAILER_REDIRECT_ALLOW_LIST=http://localhost:3000/**,https://*.example.com/cb"})
  static TestApp app;

  // ---- confirmation ----

  @Test
  void signupWithoutAutoconfirmAnswersUserAndMailsLinkAndCode() {
    String email = TestApp.uniqueEmail();
    TestApp.Response r = signUp(email);
    assertEquals(200, r.status(), r.raw());
    JsonObject user = r.json();
    assertNotNull(user.getString("id"));
    assertEquals(email, user.getString("email"));
    assertFalse(user.containsKey("access_token"), r.raw());
    assertFalse(user.containsKey("refresh_token"), r.raw());
    assertNull(user.getString("email_confirmed_at"), r.raw());
    assertNotNull(user.getString("confirmation_sent_at"), r.raw());

    Mailbox.Mail mail = mailbox.next(email);
    assertEquals(Mailbox.subject("confirmation"), mail.subject());
    assertTrue(mail.from().contains("no-reply@localhost"), mail.from());
    assertNotNull(mail.html(), "an HTML part");
    assertTrue(mail.html().contains(mail.code()), mail.html());
    assertTrue(mail.html().contains(mail.link().replace("&", "&amp;")), mail.html());
    assertTrue(mail.text().contains(email), mail.text());
    assertTrue(mail.link().startsWith(app.url(BASE + "/verify?token=")), mail.link());
    Map<String, String> params = mail.linkParams();
    assertEquals("signup", params.get("type"));
    assertEquals(SITE, params.get("redirect_to"), "no redirect_to asked: the site URL");
    assertTrue(params.get("token").length() >= 40, "a link token of 256 bits: " + params.get("token"));
  }

  @Test
  void signInBeforeConfirmationIsRefusedThenTheCodeConfirmsAndSignsIn() {
    String email = TestApp.uniqueEmail();
    String id = signUp(email).json().getString("id");
    Mailbox.Mail mail = mailbox.next(email);

    ErrorShapes.assertError(400, "email_not_confirmed", h -> app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", PASSWORD), h));

    TestApp.Response verified = verify(new JsonObject().put("type", "signup").put("email", email)
      .put("token", mail.code()));
    JsonObject session = assertSession(verified, id);
    assertNotNull(session.getJsonObject("user").getString("email_confirmed_at"), verified.raw());
    assertEquals("no-store", verified.header("Cache-Control"));

    JsonObject signedIn = app.signIn(email, PASSWORD);
    assertEquals(id, signedIn.getJsonObject("user").getString("id"));
  }

  @Test
  void signupIsConfirmedByTheTokenHashOfTheLink() {
    String email = TestApp.uniqueEmail();
    String id = signUp(email).json().getString("id");
    Mailbox.Mail mail = mailbox.next(email);

    TestApp.Response verified = verify(new JsonObject().put("type", "signup").put("token_hash", mail.tokenHash()));
    assertSession(verified, id);
    app.signIn(email, PASSWORD);
  }

  @Test
  void theCodeIsBoundToTheAddressWhateverItsCase() {
    String email = TestApp.uniqueEmail();
    TestApp.Response r = signUp(" " + email.toUpperCase(java.util.Locale.ROOT) + " ");
    assertEquals(200, r.status(), r.raw());
    assertEquals(email, r.json().getString("email"));
    Mailbox.Mail mail = mailbox.next(email);
    assertSession(verify(new JsonObject().put("type", "signup").put("email", email.toUpperCase(java.util.Locale.ROOT))
      .put("token", " " + mail.code() + " ")), r.json().getString("id"));
  }

  @Test
  void followingTheConfirmationLinkRedirectsWithTheSessionInTheFragment() {
    String email = TestApp.uniqueEmail();
    String id = signUp(email).json().getString("id");
    Mailbox.Mail mail = mailbox.next(email);

    TestApp.Response r = app.get(mail.linkPath());
    assertEquals(303, r.status(), r.raw());
    String location = r.header("Location");
    assertTrue(location.startsWith(SITE + "#"), location);
    Map<String, String> fragment = Mailbox.query(URI.create(location).getRawFragment());
    assertEquals("bearer", fragment.get("token_type"));
    assertEquals("signup", fragment.get("type"));
    assertNotNull(fragment.get("refresh_token"), location);
    assertTrue(Long.parseLong(fragment.get("expires_in")) > 0, location);
    assertTrue(Long.parseLong(fragment.get("expires_at")) > 0, location);

    TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(fragment.get("access_token")));
    assertEquals(200, me.status(), me.raw());
    assertEquals(id, me.json().getString("id"));
    assertNotNull(me.json().getString("email_confirmed_at"), me.raw());
    assertEquals(200, app.refresh(fragment.get("refresh_token")).status());
  }

  // ---- recovery ----

  @Test
  void recoveryCodeGivesASessionThatSetsANewPassword() {
    String email = TestApp.uniqueEmail();
    String id = confirmedUser(email).getJsonObject("user").getString("id");

    TestApp.Response recover = app.postJson(BASE + "/recover", new JsonObject().put("email", email));
    assertEquals(200, recover.status(), recover.raw());
    assertEquals(new JsonObject(), recover.json());
    Mailbox.Mail mail = mailbox.next(email);
    assertEquals(Mailbox.subject("recovery"), mail.subject());
    assertEquals("recovery", mail.linkParams().get("type"));

    JsonObject session = assertSession(verify(new JsonObject().put("type", "recovery").put("email", email)
      .put("token", mail.code())), id);
    TestApp.Response changed = app.putJson(BASE + "/user", new JsonObject().put("password", "a-new-password"),
      TestApp.bearer(session.getString("access_token")));
    assertEquals(200, changed.status(), changed.raw());

    assertEquals(id, app.signIn(email, "a-new-password").getJsonObject("user").getString("id"));
    TestApp.Response old = app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", PASSWORD));
    ErrorShapes.assertLegacy(old, 400, "invalid_credentials");
  }

  // ---- magic link / OTP ----

  @Test
  void otpForAnExistingUserMailsACodeVerifiedAsMagiclink() {
    String email = TestApp.uniqueEmail();
    String id = confirmedUser(email).getJsonObject("user").getString("id");

    TestApp.Response otp = app.postJson(BASE + "/otp", new JsonObject().put("email", email));
    assertEquals(200, otp.status(), otp.raw());
    assertEquals(new JsonObject(), otp.json());
    Mailbox.Mail mail = mailbox.next(email);
    assertEquals(Mailbox.subject("magic_link"), mail.subject());
    assertEquals("magiclink", mail.linkParams().get("type"));

    assertSession(verify(new JsonObject().put("type", "magiclink").put("email", email).put("token", mail.code())), id);
  }

  @Test
  void otpCodeIsAlsoAcceptedAsTypeEmail() {
    String email = TestApp.uniqueEmail();
    String id = confirmedUser(email).getJsonObject("user").getString("id");

    assertEquals(200, app.postJson(BASE + "/magiclink", new JsonObject().put("email", email)).status());
    Mailbox.Mail mail = mailbox.next(email);
    assertSession(verify(new JsonObject().put("type", "email").put("email", email).put("token", mail.code())), id);
  }

  @Test
  void otpForAnUnknownAddressCreatesTheUserWhoseCodeSignsIn() {
    String email = TestApp.uniqueEmail();
    TestApp.Response otp = app.postJson(BASE + "/otp", new JsonObject().put("email", email)
      .put("data", new JsonObject().put("name", "Ada")));
    assertEquals(200, otp.status(), otp.raw());
    assertEquals(new JsonObject(), otp.json());
    String id = DbRows.string(app, "SELECT id FROM users WHERE email = ?", email);
    assertNotNull(id, "the user was created");

    Mailbox.Mail mail = mailbox.next(email);
    JsonObject session = assertSession(verify(new JsonObject().put("type", "email").put("email", email)
      .put("token", mail.code())), id);
    JsonObject user = session.getJsonObject("user");
    assertNotNull(user.getString("email_confirmed_at"), session.encode());
    assertEquals("Ada", user.getJsonObject("user_metadata").getString("name"));
  }

  @Test
  void otpWithCreateUserFalseForAnUnknownAddressSendsNothingAndCreatesNoUser() {
    String email = TestApp.uniqueEmail();
    TestApp.Response otp = app.postJson(BASE + "/otp", new JsonObject().put("email", email).put("create_user", false));
    assertEquals(200, otp.status(), otp.raw());
    assertEquals(new JsonObject(), otp.json());
    assertEquals("0", DbRows.string(app, "SELECT count(*) FROM users WHERE email = ?", email));
    // The mail would be in the outbox before the answer (same transaction): there is none, nor will there be.
    assertEquals("0", DbRows.string(app, "SELECT count(*) FROM mail_outbox WHERE recipient = ?", email));

    // A mail written after it arrives, so the sender has passed the point where the first one would have been.
    String other = TestApp.uniqueEmail();
    confirmedUser(other);
    assertEquals(0, mailbox.count(email));
  }

  // ---- resend ----

  @Test
  void resendMailsANewCodeAndOnlyTheLatestIsValid() {
    String email = TestApp.uniqueEmail();
    String id = signUp(email).json().getString("id");
    Mailbox.Mail first = mailbox.next(email);
    app.clock.advance(Duration.ofSeconds(61));

    TestApp.Response resend = app.postJson(BASE + "/resend", new JsonObject().put("type", "signup").put("email", email));
    assertEquals(200, resend.status(), resend.raw());
    assertEquals(new JsonObject(), resend.json());
    Mailbox.Mail second = mailbox.next(email);
    assertEquals(Mailbox.subject("confirmation"), second.subject());
    assertNotEquals(first.tokenHash(), second.tokenHash());

    ErrorShapes.assertLegacy(verify(new JsonObject().put("type", "signup").put("token_hash", first.tokenHash())),
      403, "otp_expired");
    if (!first.code().equals(second.code())) {
      ErrorShapes.assertLegacy(verify(new JsonObject().put("type", "signup").put("email", email)
        .put("token", first.code())), 403, "otp_expired");
    }
    assertSession(verify(new JsonObject().put("type", "signup").put("email", email).put("token", second.code())), id);
  }

  @Test
  void resendWithinTheSendIntervalOfTheSignupMailIsRateLimited() {
    String email = TestApp.uniqueEmail();
    signUp(email);
    mailbox.next(email);

    TestApp.Response resend = app.postJson(BASE + "/resend", new JsonObject().put("type", "signup").put("email", email));
    ErrorShapes.assertLegacy(resend, 429, "over_email_send_rate_limit");
    assertEquals(1, mailbox.count(email));
  }

  // ---- single use, wrong code, wrong type, expiry ----

  @Test
  void aCodeWorksOnlyOnce() {
    String email = TestApp.uniqueEmail();
    confirmedUser(email);
    Mailbox.Mail mail = recover(email);
    JsonObject body = new JsonObject().put("type", "recovery").put("email", email).put("token", mail.code());
    assertEquals(200, verify(body).status());

    ErrorShapes.assertError(403, "otp_expired", h -> app.postJson(BASE + "/verify", body, h));
    ErrorShapes.assertLegacy(verify(new JsonObject().put("type", "recovery").put("token_hash", mail.tokenHash())),
      403, "otp_expired");
  }

  @Test
  void aLinkTokenWorksOnlyOnce() {
    String email = TestApp.uniqueEmail();
    signUp(email);
    Mailbox.Mail mail = mailbox.next(email);
    assertEquals(303, app.get(mail.linkPath()).status());

    TestApp.Response again = app.get(mail.linkPath());
    assertEquals(303, again.status());
    Map<String, String> fragment = Mailbox.query(URI.create(again.header("Location")).getRawFragment());
    assertEquals("otp_expired", fragment.get("error_code"), again.header("Location"));
    assertNull(fragment.get("access_token"));
    ErrorShapes.assertLegacy(verify(new JsonObject().put("type", "signup").put("email", email)
      .put("token", mail.code())), 403, "otp_expired");
  }

  @Test
  void aWrongCodeIsRefusedAndTheRightOneStillWorks() {
    String email = TestApp.uniqueEmail();
    String id = confirmedUser(email).getJsonObject("user").getString("id");
    Mailbox.Mail mail = recover(email);
    String wrong = String.format("%06d", (Integer.parseInt(mail.code()) + 1) % 1_000_000);

    ErrorShapes.assertError(403, "otp_expired", h -> app.postJson(BASE + "/verify",
      new JsonObject().put("type", "recovery").put("email", email).put("token", wrong), h));
    ErrorShapes.assertLegacy(verify(new JsonObject().put("type", "recovery").put("token_hash", "not-a-token")),
      403, "otp_expired");
    // The right code for another address is wrong too: codes are bound to their address.
    ErrorShapes.assertLegacy(verify(new JsonObject().put("type", "recovery").put("email", TestApp.uniqueEmail())
      .put("token", mail.code())), 403, "otp_expired");

    assertSession(verify(new JsonObject().put("type", "recovery").put("email", email).put("token", mail.code())), id);
  }

  @Test
  void aRecoveryCodeVerifiedAsAnotherTypeIsRefusedAndNotConsumed() {
    String email = TestApp.uniqueEmail();
    String id = confirmedUser(email).getJsonObject("user").getString("id");
    Mailbox.Mail mail = recover(email);

    for (String type : new String[] {"signup", "magiclink", "email", "email_change", "invite"}) {
      ErrorShapes.assertLegacy(verify(new JsonObject().put("type", type).put("email", email).put("token", mail.code())),
        403, "otp_expired");
    }
    ErrorShapes.assertLegacy(verify(new JsonObject().put("type", "signup").put("token_hash", mail.tokenHash())),
      403, "otp_expired");
    assertSession(verify(new JsonObject().put("type", "recovery").put("token_hash", mail.tokenHash())), id);
  }

  @Test
  void verifyWithAnUnknownTypeOrNoTokenIsAValidationError() {
    ErrorShapes.assertError(400, "validation_failed", h -> app.postJson(BASE + "/verify",
      new JsonObject().put("type", "sms").put("email", TestApp.uniqueEmail()).put("token", "123456"), h));
    ErrorShapes.assertLegacy(verify(new JsonObject().put("type", "signup").put("email", TestApp.uniqueEmail())),
      400, "validation_failed");
  }

  @Test
  void aRecoveryCodeExpiresAfterOneHourAndAConfirmationCodeAfterADay() {
    String email = TestApp.uniqueEmail();
    confirmedUser(email);
    Mailbox.Mail recovery = recover(email);
    String pending = TestApp.uniqueEmail();
    String pendingId = signUp(pending).json().getString("id");
    Mailbox.Mail confirmation = mailbox.next(pending);

    app.clock.advance(Duration.ofSeconds(3601));
    ErrorShapes.assertError(403, "otp_expired", h -> app.postJson(BASE + "/verify",
      new JsonObject().put("type", "recovery").put("email", email).put("token", recovery.code()), h));
    ErrorShapes.assertLegacy(verify(new JsonObject().put("type", "recovery").put("token_hash", recovery.tokenHash())),
      403, "otp_expired");
    // Confirmation lives 24 h: still good after one.
    assertSession(verify(new JsonObject().put("type", "signup").put("token_hash", confirmation.tokenHash())),
      pendingId);

    String late = TestApp.uniqueEmail();
    signUp(late);
    Mailbox.Mail lateMail = mailbox.next(late);
    app.clock.advance(Duration.ofHours(24).plusSeconds(1));
    ErrorShapes.assertLegacy(verify(new JsonObject().put("type", "signup").put("email", late)
      .put("token", lateMail.code())), 403, "otp_expired");
  }

  @Test
  void followingALinkWithAnInvalidTokenRedirectsWithTheErrorInTheFragment() {
    TestApp.Response r = app.get(BASE + "/verify?token=not-a-token&type=signup&redirect_to="
      + enc("http://localhost:3000/welcome"));
    assertEquals(303, r.status(), r.raw());
    String location = r.header("Location");
    assertTrue(location.startsWith("http://localhost:3000/welcome#"), location);
    Map<String, String> fragment = Mailbox.query(URI.create(location).getRawFragment());
    assertEquals("access_denied", fragment.get("error"));
    assertEquals("otp_expired", fragment.get("error_code"));
    assertFalse(fragment.get("error_description").isEmpty());
    assertNull(fragment.get("access_token"));

    TestApp.Response unknownType = app.get(BASE + "/verify?token=x&type=bogus");
    assertEquals(303, unknownType.status(), unknownType.raw());
    assertTrue(unknownType.header("Location").startsWith(SITE + "#error="), unknownType.header("Location"));
  }

  // ---- redirect_to ----

  @Test
  void anAllowedRedirectIsCarriedByTheMailLinkAndHonouredByIt() {
    String email = TestApp.uniqueEmail();
    String id = confirmedUser(email).getJsonObject("user").getString("id");
    String target = "http://localhost:3000/auth/callback";

    TestApp.Response r = app.postJson(BASE + "/recover?redirect_to=" + enc(target), new JsonObject().put("email", email));
    assertEquals(200, r.status(), r.raw());
    Mailbox.Mail mail = mailbox.next(email);
    assertEquals(target, mail.linkParams().get("redirect_to"));

    TestApp.Response followed = app.get(mail.linkPath());
    assertEquals(303, followed.status());
    String location = followed.header("Location");
    assertTrue(location.startsWith(target + "#access_token="), location);
    Map<String, String> fragment = Mailbox.query(URI.create(location).getRawFragment());
    assertEquals("recovery", fragment.get("type"));
    TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(fragment.get("access_token")));
    assertEquals(200, me.status(), me.raw());
    assertEquals(id, me.json().getString("id"));
  }

  @Test
  void aWildcardRedirectInTheBodyIsHonouredWithinOneHostLabel() {
    String email = TestApp.uniqueEmail();
    confirmedUser(email);
    String target = "https://app.example.com/cb";
    assertEquals(200, app.postJson(BASE + "/otp", new JsonObject().put("email", email).put("redirect_to", target))
      .status());
    assertEquals(target, mailbox.next(email).linkParams().get("redirect_to"));

    String deeper = TestApp.uniqueEmail();
    signUp(deeper, "https://a.b.example.com/cb");
    assertEquals(SITE, mailbox.next(deeper).linkParams().get("redirect_to"), "* does not span host labels");
  }

  @Test
  void aRedirectNotOnTheAllowListIsReplacedByTheSiteUrl() {
    String email = TestApp.uniqueEmail();
    String id = signUp(email, "https://evil.test/x").json().getString("id");
    Mailbox.Mail mail = mailbox.next(email);
    assertEquals(SITE, mail.linkParams().get("redirect_to"));
    assertFalse(mail.text().contains("evil.test"), mail.text());

    // A link edited to point elsewhere still lands on the site URL.
    String tampered = BASE + "/verify?token=" + mail.tokenHash() + "&type=signup&redirect_to="
      + enc("http://localhost:3000.evil.test/x");
    TestApp.Response r = app.get(tampered);
    assertEquals(303, r.status());
    assertTrue(r.header("Location").startsWith(SITE + "#access_token="), r.header("Location"));
    Map<String, String> fragment = Mailbox.query(URI.create(r.header("Location")).getRawFragment());
    assertEquals(id, app.get(BASE + "/user", TestApp.bearer(fragment.get("access_token"))).json().getString("id"));
  }

  // ---- the per-address send interval ----

  @Test
  void aSecondRecoveryWithinSixtySecondsIsRateLimitedThenAllowed() {
    String email = TestApp.uniqueEmail();
    confirmedUser(email);
    recover(email);

    ErrorShapes.Both limited = ErrorShapes.assertError(429, "over_email_send_rate_limit",
      h -> app.postJson(BASE + "/recover", new JsonObject().put("email", email), h));
    assertNotNull(limited.legacy().header("Retry-After"), "429 carries Retry-After");
    long retryAfter = Long.parseLong(limited.legacy().header("Retry-After"));
    assertTrue(retryAfter > 0 && retryAfter <= 60, "Retry-After " + retryAfter);

    app.clock.advance(Duration.ofSeconds(61));
    Mailbox.Mail second = recover(email);
    assertEquals(Mailbox.subject("recovery"), second.subject());
    assertEquals(3, mailbox.count(email), "the confirmation and two recovery mails, not the refused one");
  }

  @Test
  void theSendIntervalAppliesToUnknownAddressesAlike() {
    String email = TestApp.uniqueEmail();
    assertEquals(200, app.postJson(BASE + "/recover", new JsonObject().put("email", email)).status());
    ErrorShapes.assertLegacy(app.postJson(BASE + "/recover", new JsonObject().put("email", email)),
      429, "over_email_send_rate_limit");
    ErrorShapes.assertLegacy(app.postJson(BASE + "/otp", new JsonObject().put("email", email)
      .put("create_user", false)), 429, "over_email_send_rate_limit");
    app.clock.advance(Duration.ofSeconds(61));
    assertEquals(200, app.postJson(BASE + "/recover", new JsonObject().put("email", email)).status());
  }

  // ---- no enumeration ----

  @Test
  void recoverAnswersKnownAndUnknownAddressesIdentically() {
    String known = TestApp.uniqueEmail();
    confirmedUser(known);
    String unknown = TestApp.uniqueEmail();

    TestApp.Response a = app.postJson(BASE + "/recover", new JsonObject().put("email", known));
    TestApp.Response b = app.postJson(BASE + "/recover", new JsonObject().put("email", unknown));
    assertEquals(200, a.status(), a.raw());
    assertSame(a, b);
    assertEquals("{}", a.raw());
    mailbox.next(known);

    TestApp.Response a2 = app.postJson(BASE + "/recover", new JsonObject().put("email", known));
    TestApp.Response b2 = app.postJson(BASE + "/recover", new JsonObject().put("email", unknown));
    assertEquals(429, a2.status(), a2.raw());
    assertSame(a2, b2);
    assertEquals(0, mailbox.count(unknown));
  }

  @Test
  void otpWithoutCreateUserAnswersKnownAndUnknownAddressesIdentically() {
    String known = TestApp.uniqueEmail();
    confirmedUser(known);
    String unknown = TestApp.uniqueEmail();
    JsonObject body = new JsonObject().put("create_user", false);

    TestApp.Response a = app.postJson(BASE + "/otp", body.copy().put("email", known));
    TestApp.Response b = app.postJson(BASE + "/otp", body.copy().put("email", unknown));
    assertEquals(200, a.status(), a.raw());
    assertSame(a, b);
    assertEquals(Mailbox.subject("magic_link"), mailbox.next(known).subject());

    TestApp.Response a2 = app.postJson(BASE + "/otp", body.copy().put("email", known));
    TestApp.Response b2 = app.postJson(BASE + "/otp", body.copy().put("email", unknown));
    assertEquals(429, a2.status(), a2.raw());
    assertSame(a2, b2);
  }

  @Test
  void aRepeatedSignupAnswersLikeAFreshOneWithoutRevealingTheUser() {
    String fresh = TestApp.uniqueEmail();
    JsonObject freshUser = signUp(fresh).json();
    mailbox.next(fresh);

    String confirmed = TestApp.uniqueEmail();
    String confirmedId = confirmedUser(confirmed).getJsonObject("user").getString("id");
    TestApp.Response again = signUp(confirmed);
    assertEquals(200, again.status(), again.raw());
    assertLookalike(freshUser, again.json(), confirmed, confirmedId);

    // An account still awaiting confirmation: the same answer, not its id either.
    TestApp.Response pendingAgain = signUp(fresh);
    assertEquals(200, pendingAgain.status(), pendingAgain.raw());
    assertLookalike(freshUser, pendingAgain.json(), fresh, freshUser.getString("id"));
  }

  // ---- helpers ----

  private static void assertLookalike(JsonObject fresh, JsonObject answer, String email, String realId) {
    assertEquals(fresh.fieldNames(), answer.fieldNames(), answer.encode());
    assertEquals(email, answer.getString("email"));
    assertNotNull(answer.getString("id"));
    assertNotEquals(realId, answer.getString("id"), "the existing user's id is not revealed");
    assertFalse(answer.encode().contains(realId), answer.encode());
    assertFalse(answer.containsKey("access_token"));
    assertNull(answer.getString("email_confirmed_at"));
    assertEquals(fresh.getJsonArray("identities").size(), answer.getJsonArray("identities").size());
  }

  private static void assertSame(TestApp.Response a, TestApp.Response b) {
    assertEquals(a.status(), b.status(), b.raw());
    assertEquals(a.raw(), b.raw());
    assertEquals(a.header("Content-Type"), b.header("Content-Type"));
    assertEquals(a.header("Retry-After"), b.header("Retry-After"));
  }

  private static TestApp.Response signUp(String email) {
    return app.postJson(BASE + "/signup", new JsonObject().put("email", email).put("password", PASSWORD));
  }

  private static TestApp.Response signUp(String email, String redirectTo) {
    return app.postJson(BASE + "/signup?redirect_to=" + enc(redirectTo),
      new JsonObject().put("email", email).put("password", PASSWORD));
  }

  private static TestApp.Response verify(JsonObject body) {
    return app.postJson(BASE + "/verify", body);
  }

  /** Signs up, reads the confirmation mail and confirms with its code; answers the session. */
  private static JsonObject confirmedUser(String email) {
    TestApp.Response r = signUp(email);
    assertEquals(200, r.status(), r.raw());
    Mailbox.Mail mail = mailbox.next(email);
    return assertSession(verify(new JsonObject().put("type", "signup").put("email", email).put("token", mail.code())),
      r.json().getString("id"));
  }

  /** Asks for a recovery mail and answers it. */
  private static Mailbox.Mail recover(String email) {
    TestApp.Response r = app.postJson(BASE + "/recover", new JsonObject().put("email", email));
    assertEquals(200, r.status(), r.raw());
    return mailbox.next(email);
  }

  private static JsonObject assertSession(TestApp.Response r, String userId) {
    return assertSessionOf(app, r, userId);
  }

  /** A 200 session of {@code userId} whose access token works on {@code GET /user}. */
  public static JsonObject assertSessionOf(TestApp app, TestApp.Response r, String userId) {
    assertEquals(200, r.status(), r.raw());
    JsonObject session = r.json();
    assertNotNull(session.getString("access_token"), r.raw());
    assertNotNull(session.getString("refresh_token"), r.raw());
    assertEquals("bearer", session.getString("token_type"));
    assertEquals(userId, session.getJsonObject("user").getString("id"));
    TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(session.getString("access_token")));
    assertEquals(200, me.status(), me.raw());
    assertEquals(userId, me.json().getString("id"));
    return session;
  }

  private static String enc(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
  }
}
