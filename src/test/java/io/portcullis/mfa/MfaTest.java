package io.portcullis.mfa;

import io.portcullis.bus.Addresses;
import io.portcullis.it.CommandLine;
import io.portcullis.it.DbRows;
import io.portcullis.it.ErrorShapes;
import io.portcullis.it.TestApp;
import io.portcullis.mfa.Base32;
import io.portcullis.mfa.Totp;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.portcullis.it.ErrorShapes.assertError;
import static io.portcullis.it.ErrorShapes.with;
import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TOTP MFA over HTTP as GoTrue answers it (every error code of its MFA API), with Portcullis's stricter rules: a
 * code accepted once is refused for the rest of its window, five wrong codes end a challenge, challenges and
 * unfinished enrolments expire (moved clock), secrets are stored encrypted. Plus recovery codes.
 */
public class MfaTest {

  private static final String PASSWORD = "password123";
  private static final String FACTORS = BASE + "/factors";
  /** The test client is 127.0.0.1, a trusted proxy here, so X-Forwarded-For sets the client address. */
  private static final String[] FROM_A = {"X-Forwarded-For", "10.0.0.1"};
  private static final String[] FROM_B = {"X-Forwarded-For", "10.0.0.2"};

  static TestApp app;
  static String serviceKey;

  @BeforeAll
  static void start() {
    Map<String, String> env = Map.of(
      "PORTCULLIS_HTTP_TRUSTED_PROXIES", "127.0.0.1",
      "PORTCULLIS_JWT_KEYS_ENCRYPTION_KEY", "an-encryption-key-of-at-least-32-characters");
    app = TestApp.start(env);
    serviceKey = CommandLine.serviceKey(app, Map.of("PORTCULLIS_JWT_KEYS_ENCRYPTION_KEY",
      "an-encryption-key-of-at-least-32-characters"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  // ---- helpers ----

  public static JsonObject claims(JsonObject session) {
    String payload = session.getString("access_token").split("\\.")[1];
    return new JsonObject(new String(Base64.getUrlDecoder().decode(payload)));
  }

  static String token(JsonObject session) {
    return session.getString("access_token");
  }

  static TestApp.Response enroll(JsonObject session, JsonObject body, String... headers) {
    return app.postJson(FACTORS, body, with(bearer(token(session)), headers));
  }

  /** Enrols a TOTP factor and answers the enrolment ({@code id}, {@code totp.secret}, ...). */
  static JsonObject enrollTotp(JsonObject session, String name) {
    TestApp.Response r = enroll(session, new JsonObject().put("factor_type", "totp").put("friendly_name", name));
    assertEquals(200, r.status(), r.raw());
    return r.json();
  }

  static String challenge(JsonObject session, String factorId, String... headers) {
    TestApp.Response r = app.postJson(FACTORS + "/" + factorId + "/challenge",
      new JsonObject().put("factorId", factorId), with(bearer(token(session)), headers));
    assertEquals(200, r.status(), r.raw());
    return r.json().getString("id");
  }

  static TestApp.Response verify(JsonObject session, String factorId, String challengeId, String code, String... headers) {
    return app.postJson(FACTORS + "/" + factorId + "/verify",
      new JsonObject().put("challenge_id", challengeId).put("code", code), with(bearer(token(session)), headers));
  }

  static String code(String secret) {
    return Totp.code(Base32.decode(secret), Totp.step(app.clock.instant()));
  }

  /** A code of none of the steps the server would accept now. */
  static String wrongCode(String secret) {
    long now = Totp.step(app.clock.instant());
    for (String candidate : new String[] {"000000", "111111", "222222"}) {
      boolean valid = false;
      for (long step = now - 1; step <= now + 1; step++) {
        valid |= Totp.code(Base32.decode(secret), step).equals(candidate);
      }
      if (!valid) {
        return candidate;
      }
    }
    throw new AssertionError("unreachable");
  }

  /** A user signed in, with a verified TOTP factor; answers {session: aal2, factor, secret, aal1: the first}. */
  static JsonObject userWithFactor() {
    String email = TestApp.uniqueEmail();
    JsonObject aal1 = app.signUp(email, PASSWORD);
    JsonObject factor = enrollTotp(aal1, "phone app");
    String id = factor.getString("id");
    String secret = factor.getJsonObject("totp").getString("secret");
    TestApp.Response verified = verify(aal1, id, challenge(aal1, id), code(secret));
    assertEquals(200, verified.status(), verified.raw());
    // The next accepted code must be of a later step.
    app.clock.advance(Duration.ofSeconds(Totp.PERIOD_SECONDS));
    return new JsonObject().put("email", email).put("session", verified.json()).put("factor_id", id)
      .put("secret", secret).put("aal1", aal1);
  }

  // ---- enrolment and verification ----

  @Test
  void enrolChallengeAndVerifyRaiseTheSessionToAal2WithATotpAmr() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    JsonObject other = app.signIn(email, PASSWORD);

    JsonObject enrolled = enrollTotp(session, "Work phone");
    assertEquals("totp", enrolled.getString("type"));
    assertEquals("Work phone", enrolled.getString("friendly_name"));
    JsonObject totp = enrolled.getJsonObject("totp");
    assertTrue(totp.getString("qr_code").startsWith("<svg"), totp.getString("qr_code"));
    assertTrue(totp.getString("secret").matches("[A-Z2-7]{32}"), totp.getString("secret"));
    assertTrue(totp.getString("uri").startsWith("otpauth://totp/localhost:" + email.replace("@", "%40") + "?secret="
      + totp.getString("secret") + "&issuer=localhost"), totp.getString("uri"));
    String factorId = enrolled.getString("id");

    JsonObject before = app.get(BASE + "/user", bearer(token(session))).json();
    JsonArray factors = before.getJsonArray("factors");
    assertEquals(1, factors.size(), before.encode());
    assertEquals("unverified", factors.getJsonObject(0).getString("status"));
    assertEquals("totp", factors.getJsonObject(0).getString("factor_type"));
    assertFalse(factors.encode().contains(totp.getString("secret")), "the secret is in the user object");
    String stored = DbRows.string(app, "SELECT secret FROM mfa_factors WHERE id = ?::uuid", factorId);
    assertTrue(stored.startsWith("enc:v1:") && !stored.contains(totp.getString("secret")), "stored in clear: " + stored);

    TestApp.Response challenged = app.postJson(FACTORS + "/" + factorId + "/challenge", new JsonObject(),
      bearer(token(session)));
    assertEquals(200, challenged.status(), challenged.raw());
    assertEquals("totp", challenged.json().getString("type"));
    long expiresAt = challenged.json().getLong("expires_at");
    assertTrue(Math.abs(expiresAt - app.clock.instant().getEpochSecond() - 300) <= 2, challenged.raw());

    TestApp.Response verified = verify(session, factorId, challenged.json().getString("id"),
      code(totp.getString("secret")));
    assertEquals(200, verified.status(), verified.raw());
    assertEquals("no-store", verified.header("Cache-Control"));
    JsonObject upgraded = verified.json();
    JsonObject claims = claims(upgraded);
    assertEquals("aal2", claims.getString("aal"));
    assertEquals("totp", claims.getJsonArray("amr").getJsonObject(0).getString("method"));
    assertEquals("password", claims.getJsonArray("amr").getJsonObject(1).getString("method"));
    assertEquals(claims(session).getString("session_id"), claims.getString("session_id"));
    assertEquals("verified", upgraded.getJsonObject("user").getJsonArray("factors").getJsonObject(0).getString("status"));

    // The old aal1 refresh token cannot mint an aal2 session; the new one refreshes at aal2.
    assertError(400, "refresh_token_not_found", h -> app.postJson(BASE + "/token?grant_type=refresh_token",
      new JsonObject().put("refresh_token", session.getString("refresh_token")), h));
    TestApp.Response refreshed = app.refresh(upgraded.getString("refresh_token"));
    assertEquals(200, refreshed.status(), refreshed.raw());
    assertEquals("aal2", claims(refreshed.json()).getString("aal"));
    assertEquals("totp", claims(refreshed.json()).getJsonArray("amr").getJsonObject(0).getString("method"));
    // The user's other, lower-aal session has ended.
    assertError(403, "session_not_found", h -> app.get(BASE + "/user", with(bearer(token(other)), h)));
    JsonArray listed = app.get(BASE + "/user/sessions", bearer(token(refreshed.json()))).json().getJsonArray("sessions");
    assertEquals(1, listed.size(), listed.encode());
    assertEquals("aal2", listed.getJsonObject(0).getString("aal"));
    assertEquals("mfa.challenge_verified", DbRows.string(app,
      "SELECT type FROM audit_log WHERE user_id = ?::uuid AND type LIKE 'mfa.%' ORDER BY id DESC LIMIT 1",
      claims.getString("sub")));
  }

  @Test
  void aCodeAcceptedOnceIsRefusedForTheRestOfItsWindow() {
    JsonObject user = userWithFactor();
    JsonObject session = user.getJsonObject("session");
    String factorId = user.getString("factor_id");
    String secret = user.getString("secret");
    String code = code(secret);
    assertEquals(200, verify(session, factorId, challenge(session, factorId), code).status());
    // The same code on a fresh challenge, within its window: refused.
    String again = challenge(session, factorId);
    assertError(422, "mfa_verification_failed", h -> verify(session, factorId, again, code, h));
    // The next step's code is fine.
    app.clock.advance(Duration.ofSeconds(Totp.PERIOD_SECONDS));
    assertEquals(200, verify(session, factorId, challenge(session, factorId), code(secret)).status());
  }

  @Test
  void fiveWrongCodesEndTheChallenge() {
    JsonObject user = userWithFactor();
    JsonObject session = user.getJsonObject("session");
    String factorId = user.getString("factor_id");
    String secret = user.getString("secret");
    String challengeId = challenge(session, factorId);
    for (int i = 0; i < 5; i++) {
      ErrorShapes.assertLegacy(verify(session, factorId, challengeId, wrongCode(secret)), 422, "mfa_verification_failed");
    }
    assertError(422, "mfa_challenge_expired", h -> verify(session, factorId, challengeId, code(secret), h));
    assertEquals(200, verify(session, factorId, challenge(session, factorId), code(secret)).status());
  }

  @Test
  void challengesExpireAfterFiveMinutes() {
    JsonObject user = userWithFactor();
    JsonObject session = user.getJsonObject("session");
    String factorId = user.getString("factor_id");
    String challengeId = challenge(session, factorId);
    app.clock.advance(Duration.ofSeconds(301));
    assertError(422, "mfa_challenge_expired", h -> verify(session, factorId, challengeId, code(user.getString("secret")), h));
  }

  @Test
  void anUnverifiedFactorExpiresAfterFiveMinutes() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String factorId = enrollTotp(session, "slow").getString("id");
    app.clock.advance(Duration.ofSeconds(301));
    assertError(404, "mfa_factor_not_found", h -> app.postJson(FACTORS + "/" + factorId + "/challenge",
      new JsonObject(), with(bearer(token(session)), h)));
    // The purged factor no longer counts: the same name can be enrolled again.
    enrollTotp(session, "slow");
  }

  @Test
  void verifyFromAnotherAddressThanTheChallengeIsRefused() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    JsonObject factor = enrollTotp(session, "ip");
    String factorId = factor.getString("id");
    String challengeId = challenge(session, factorId, FROM_A);
    String code = code(factor.getJsonObject("totp").getString("secret"));
    assertError(422, "mfa_ip_address_mismatch", h -> verify(session, factorId, challengeId, code, with(FROM_B, h)));
    assertEquals(200, verify(session, factorId, challengeId, code, FROM_A).status());
  }

  @Test
  void unknownFactorsChallengesAndEmptyCodesAnswerGoTruesCodes() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    JsonObject stranger = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    JsonObject factor = enrollTotp(session, "mine");
    String factorId = factor.getString("id");
    String challengeId = challenge(session, factorId);
    String code = code(factor.getJsonObject("totp").getString("secret"));

    assertError(404, "mfa_factor_not_found", h -> app.postJson(FACTORS + "/" + UUID.randomUUID() + "/challenge",
      new JsonObject(), with(bearer(token(session)), h)));
    assertError(404, "mfa_factor_not_found", h -> app.postJson(FACTORS + "/not-a-uuid/challenge",
      new JsonObject(), with(bearer(token(session)), h)));
    // Another user's factor does not exist for the caller.
    assertError(404, "mfa_factor_not_found", h -> app.postJson(FACTORS + "/" + factorId + "/challenge",
      new JsonObject(), with(bearer(token(stranger)), h)));
    assertError(404, "mfa_factor_not_found", h -> verify(stranger, factorId, challengeId, code, h));
    assertError(422, "mfa_factor_not_found", h -> verify(session, factorId, UUID.randomUUID().toString(), code, h));
    assertError(400, "validation_failed", h -> verify(session, factorId, challengeId, "", h));
    assertError(400, "validation_failed", h -> app.postJson(FACTORS + "/" + factorId + "/verify",
      new JsonObject().put("code", code), with(bearer(token(session)), h)));
    assertError(401, "no_authorization", h -> app.postJson(FACTORS, new JsonObject().put("factor_type", "totp"), h));
    // After all that, the challenge still works.
    assertEquals(200, verify(session, factorId, challengeId, code).status());
  }

  @Test
  void enrolmentRulesAnswerGoTruesCodes() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    enrollTotp(session, "twin");
    assertError(422, "mfa_factor_name_conflict", h -> enroll(session,
      new JsonObject().put("factor_type", "totp").put("friendly_name", "twin"), h));
    assertError(400, "validation_failed", h -> enroll(session, new JsonObject().put("factor_type", "sms"), h));
    assertError(400, "validation_failed", h -> enroll(session, new JsonObject(), h));
    assertError(422, "mfa_phone_enroll_not_enabled", h -> enroll(session, new JsonObject().put("factor_type", "phone"), h));
    assertError(422, "mfa_webauthn_enroll_not_enabled",
      h -> enroll(session, new JsonObject().put("factor_type", "webauthn"), h));
    for (int i = 1; i < 10; i++) {
      enrollTotp(session, "factor " + i);
    }
    assertError(422, "too_many_enrolled_mfa_factors", h -> enroll(session,
      new JsonObject().put("factor_type", "totp").put("friendly_name", "eleventh"), h));

    // With a verified factor, enrolling another needs aal2.
    JsonObject user = userWithFactor();
    JsonObject aal1 = app.signIn(user.getString("email"), PASSWORD);
    assertEquals("aal1", claims(aal1).getString("aal"));
    assertError(403, "insufficient_aal", h -> enroll(aal1, new JsonObject().put("factor_type", "totp"), h));
    enrollTotp(user.getJsonObject("session"), "second");
  }

  @Test
  void unenrolNeedsAal2ForAVerifiedFactorAndDowngradesItsSessions() {
    JsonObject user = userWithFactor();
    JsonObject session = user.getJsonObject("session");
    String factorId = user.getString("factor_id");
    JsonObject aal1 = app.signIn(user.getString("email"), PASSWORD);
    assertError(422, "insufficient_aal", h -> app.request("DELETE", FACTORS + "/" + factorId, null, null,
      with(bearer(token(aal1)), h)));
    assertError(404, "mfa_factor_not_found", h -> app.request("DELETE", FACTORS + "/" + UUID.randomUUID(), null, null,
      with(bearer(token(session)), h)));

    TestApp.Response removed = app.request("DELETE", FACTORS + "/" + factorId, null, null, bearer(token(session)));
    assertEquals(200, removed.status(), removed.raw());
    assertEquals(factorId, removed.json().getString("id"));
    JsonObject me = app.get(BASE + "/user", bearer(token(session))).json();
    assertNull(me.getValue("factors"), me.encode());
    TestApp.Response refreshed = app.refresh(session.getString("refresh_token"));
    assertEquals(200, refreshed.status(), refreshed.raw());
    assertEquals("aal1", claims(refreshed.json()).getString("aal"));
    assertEquals(1, claims(refreshed.json()).getJsonArray("amr").size());
    // An unverified factor goes from an aal1 session.
    String pending = enrollTotp(aal1, "pending").getString("id");
    assertEquals(200, app.request("DELETE", FACTORS + "/" + pending, null, null, bearer(token(aal1))).status());
  }

  @Test
  void changingEmailOrPasswordNeedsAal2WhenTheUserHasAVerifiedFactor() {
    JsonObject user = userWithFactor();
    JsonObject aal1 = app.signIn(user.getString("email"), PASSWORD);
    assertError(401, "insufficient_aal", h -> app.putJson(BASE + "/user",
      new JsonObject().put("password", "another-password-1"), with(bearer(token(aal1)), h)));
    assertError(401, "insufficient_aal", h -> app.putJson(BASE + "/user",
      new JsonObject().put("email", TestApp.uniqueEmail()), with(bearer(token(aal1)), h)));
    // Metadata alone is fine at aal1.
    TestApp.Response data = app.putJson(BASE + "/user", new JsonObject().put("data", new JsonObject().put("a", 1)),
      bearer(token(aal1)));
    assertEquals(200, data.status(), data.raw());
    TestApp.Response changed = app.putJson(BASE + "/user", new JsonObject().put("password", "another-password-1"),
      bearer(token(user.getJsonObject("session"))));
    assertEquals(200, changed.status(), changed.raw());
  }

  @Test
  void adminListsAndDeletesAUsersFactors() {
    JsonObject user = userWithFactor();
    JsonObject session = user.getJsonObject("session");
    String userId = claims(session).getString("sub");
    String path = BASE + "/admin/users/" + userId + "/factors";

    TestApp.Response listed = app.get(path, bearer(serviceKey));
    assertEquals(200, listed.status(), listed.raw());
    JsonArray factors = new JsonArray(listed.raw());
    assertEquals(1, factors.size(), listed.raw());
    assertEquals(user.getString("factor_id"), factors.getJsonObject(0).getString("id"));
    assertEquals("verified", factors.getJsonObject(0).getString("status"));
    assertFalse(listed.raw().contains(user.getString("secret")));

    assertError(403, "not_admin", h -> app.get(path, with(bearer(token(session)), h)));
    assertError(404, "user_not_found", h -> app.get(BASE + "/admin/users/" + UUID.randomUUID() + "/factors",
      with(bearer(serviceKey), h)));
    assertError(404, "mfa_factor_not_found", h -> app.request("DELETE", path + "/" + UUID.randomUUID(), null, null,
      with(bearer(serviceKey), h)));

    TestApp.Response deleted = app.request("DELETE", path + "/" + user.getString("factor_id"), null, null,
      bearer(serviceKey));
    assertEquals(200, deleted.status(), deleted.raw());
    assertEquals(user.getString("factor_id"), deleted.json().getString("id"));
    assertEquals("[]", app.get(path, bearer(serviceKey)).raw());
  }

  @Test
  void anAal2TokenVerifiesOnTheBusWithItsClaims() throws Exception {
    JsonObject session = userWithFactor().getJsonObject("session");
    JsonObject verified = app.vertx.eventBus().<JsonObject>request(Addresses.TOKENS_VERIFY,
        new JsonObject().put("token", token(session)), new DeliveryOptions().setSendTimeout(10_000))
      .toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS).body();
    assertEquals("aal2", verified.getJsonObject("claims").getString("aal"));
    JsonObject listed = app.vertx.eventBus().<JsonObject>request(Addresses.SESSIONS_LIST,
        new JsonObject().put("user_id", verified.getString("user_id")), new DeliveryOptions().setSendTimeout(10_000))
      .toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS).body();
    assertEquals("aal2", listed.getJsonArray("sessions").getJsonObject(0).getString("aal"));
  }

  @Test
  void factorEventsArePublishedOnTheBus() throws Exception {
    java.util.concurrent.CompletableFuture<JsonObject> enrolled = new java.util.concurrent.CompletableFuture<>();
    io.vertx.core.eventbus.MessageConsumer<JsonObject> consumer = app.vertx.eventBus().consumer(Addresses.EVENTS,
      message -> {
        if ("mfa.factor_enrolled".equals(message.body().getString("type"))) {
          enrolled.complete(message.body());
        }
      });
    consumer.completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    try {
      JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
      enrollTotp(session, "evented");
      JsonObject event = enrolled.get(10, TimeUnit.SECONDS);
      assertEquals(claims(session).getString("sub"), event.getString("user_id"));
      assertEquals(claims(session).getString("session_id"), event.getString("session_id"));
    } finally {
      consumer.unregister();
    }
  }

  @Test
  void challengesAndVerificationsShareTheMfaRateLimit() {
    try (TestApp limited = TestApp.start(Map.of("PORTCULLIS_RATE_LIMITS", "on", "PORTCULLIS_RATE_LIMIT_BURST", "2",
      "PORTCULLIS_RATE_LIMIT_MFA", "1"))) {
      JsonObject session = limited.signUp(TestApp.uniqueEmail(), PASSWORD);
      TestApp.Response enrolled = limited.postJson(FACTORS, new JsonObject().put("factor_type", "totp"),
        bearer(token(session)));
      assertEquals(200, enrolled.status(), enrolled.raw());
      String path = FACTORS + "/" + enrolled.json().getString("id");
      assertEquals(200, limited.postJson(path + "/challenge", new JsonObject(), bearer(token(session))).status());
      assertEquals(200, limited.postJson(path + "/challenge", new JsonObject(), bearer(token(session))).status());
      TestApp.Response limitedAnswer = limited.postJson(path + "/verify",
        new JsonObject().put("challenge_id", UUID.randomUUID().toString()).put("code", "123456"), bearer(token(session)));
      ErrorShapes.assertLegacy(limitedAnswer, 429, "over_request_rate_limit");
      assertNotNull(limitedAnswer.header("Retry-After"));
    }
  }

  // ---- recovery codes ----

  @Test
  void recoveryCodesAreShownOnceAndEachRaisesAnAal1SessionOnce() {
    JsonObject user = userWithFactor();
    JsonObject session = user.getJsonObject("session");
    JsonObject aal1 = app.signIn(user.getString("email"), PASSWORD);
    assertError(403, "insufficient_aal", h -> app.postJson(BASE + "/factors/recovery_codes", null,
      with(bearer(token(aal1)), h)));

    TestApp.Response generated = app.postJson(BASE + "/factors/recovery_codes", null, bearer(token(session)));
    assertEquals(200, generated.status(), generated.raw());
    assertEquals("no-store", generated.header("Cache-Control"));
    JsonArray codes = generated.json().getJsonArray("codes");
    assertEquals(10, codes.size(), generated.raw());
    assertEquals(10, codes.stream().distinct().count());
    String stored = DbRows.string(app, "SELECT count(*) FROM mfa_recovery_codes WHERE user_id = ?::uuid",
      claims(session).getString("sub"));
    assertEquals("10", stored);

    // A fresh aal1 sign-in (the earlier one ended when the factor was verified... and this one is new).
    JsonObject signedIn = app.signIn(user.getString("email"), PASSWORD);
    String code = codes.getString(3);
    TestApp.Response raised = app.postJson(BASE + "/factors/recovery_codes/verify",
      new JsonObject().put("code", code.toUpperCase().replace("-", " ")), bearer(token(signedIn)));
    assertEquals(200, raised.status(), raised.raw());
    JsonObject claims = claims(raised.json());
    assertEquals("aal2", claims.getString("aal"));
    assertEquals("recovery_code", claims.getJsonArray("amr").getJsonObject(0).getString("method"));

    JsonObject later = app.signIn(user.getString("email"), PASSWORD);
    assertError(422, "mfa_verification_failed", h -> app.postJson(BASE + "/factors/recovery_codes/verify",
      new JsonObject().put("code", code), with(bearer(token(later)), h)));
    assertError(400, "validation_failed", h -> app.postJson(BASE + "/factors/recovery_codes/verify",
      new JsonObject().put("code", ""), with(bearer(token(later)), h)));

    // A new set replaces the old one.
    TestApp.Response again = app.postJson(BASE + "/factors/recovery_codes", null, bearer(token(raised.json())));
    assertEquals(200, again.status(), again.raw());
    assertNotEquals(codes, again.json().getJsonArray("codes"));
    assertError(422, "mfa_verification_failed", h -> app.postJson(BASE + "/factors/recovery_codes/verify",
      new JsonObject().put("code", codes.getString(5)), with(bearer(token(later)), h)));
    TestApp.Response fresh = app.postJson(BASE + "/factors/recovery_codes/verify",
      new JsonObject().put("code", again.json().getJsonArray("codes").getString(0)), bearer(token(later)));
    assertEquals(200, fresh.status(), fresh.raw());
    assertNotNull(fresh.json().getString("refresh_token"));
  }
}
