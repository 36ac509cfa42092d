package io.portcullis.security;

import io.portcullis.it.CommandLine;
import io.portcullis.it.DbRows;
import io.portcullis.it.Mailbox;
import io.portcullis.it.TestApp;
import io.portcullis.mfa.MfaTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static io.portcullis.it.ErrorShapes.assertError;
import static io.portcullis.it.ErrorShapes.with;
import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Anonymous sign-in ({@code POST /signup} without email and phone): off by default, the token's
 * {@code is_anonymous} and {@code amr}, no factors, its own rate-limit bucket, conversion by adding an email (at
 * once with autoconfirm, by mail without), and the admin's clean-up of stale anonymous users.
 */
class AnonymousUsersTest {

  private static final String SIGNUP = BASE + "/signup";

  static TestApp app;
  static TestApp disabled;
  static String serviceKey;

  @BeforeAll
  static void start() {
    app = TestApp.start(Map.of("PORTCULLIS_SIGNUP_ANONYMOUS_ENABLED", "true"));
    disabled = TestApp.start();
    serviceKey = CommandLine.serviceKey(app);
  }

  @AfterAll
  static void stop() {
    try {
      app.close();
    } finally {
      disabled.close();
    }
  }

  static JsonObject anonymous(TestApp target) {
    TestApp.Response r = target.postJson(SIGNUP, new JsonObject().put("data", new JsonObject().put("theme", "dark"))
      .put("gotrue_meta_security", new JsonObject()));
    assertEquals(200, r.status(), r.raw());
    return r.json();
  }

  @Test
  void disabledByDefault() {
    assertError(422, "anonymous_provider_disabled", h -> disabled.postJson(SIGNUP,
      new JsonObject().put("data", new JsonObject()), h));
    assertEquals(false, disabled.get(BASE + "/settings").json().getBoolean("anonymous_users_enabled"));
    // A sign-up with an email still works, and one with a password but no email is still a validation failure.
    assertEquals(200, disabled.postJson(SIGNUP, new JsonObject().put("email", TestApp.uniqueEmail())
      .put("password", "password123")).status());
    assertError(400, "validation_failed", h -> disabled.postJson(SIGNUP, new JsonObject().put("password", "pw123456"), h));
  }

  @Test
  void anonymousSignInAnswersASessionOfAnAnonymousUser() {
    assertEquals(true, app.get(BASE + "/settings").json().getBoolean("anonymous_users_enabled"));
    JsonObject session = anonymous(app);
    JsonObject user = session.getJsonObject("user");
    assertEquals(true, user.getBoolean("is_anonymous"));
    assertEquals("", user.getString("email"));
    assertEquals(new JsonArray(), user.getJsonArray("identities"));
    assertFalse(user.getJsonObject("app_metadata").containsKey("provider"), user.encode());
    assertEquals("dark", user.getJsonObject("user_metadata").getString("theme"));
    assertEquals("authenticated", user.getString("role"));
    JsonObject claims = MfaTest.claims(session);
    assertEquals(true, claims.getBoolean("is_anonymous"));
    assertEquals("anonymous", claims.getJsonArray("amr").getJsonObject(0).getString("method"));
    assertEquals("aal1", claims.getString("aal"));
    TestApp.Response me = app.get(BASE + "/user", bearer(session.getString("access_token")));
    assertEquals(200, me.status(), me.raw());
    TestApp.Response refreshed = app.refresh(session.getString("refresh_token"));
    assertEquals(200, refreshed.status(), refreshed.raw());
    assertEquals(true, MfaTest.claims(refreshed.json()).getBoolean("is_anonymous"));
  }

  @Test
  void theSignupBusAddressSignsInAnonymouslyToo() throws Exception {
    JsonObject session = app.vertx.eventBus().<JsonObject>request(io.portcullis.bus.Addresses.USERS_SIGNUP,
        new JsonObject().put("data", new JsonObject().put("via", "bus")),
        new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(10_000))
      .toCompletionStage().toCompletableFuture().get(15, java.util.concurrent.TimeUnit.SECONDS).body();
    assertEquals(true, session.getJsonObject("user").getBoolean("is_anonymous"));
    assertEquals(true, MfaTest.claims(session).getBoolean("is_anonymous"));
    try {
      disabled.vertx.eventBus().request(io.portcullis.bus.Addresses.USERS_SIGNUP, new JsonObject(),
          new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(10_000))
        .toCompletionStage().toCompletableFuture().get(15, java.util.concurrent.TimeUnit.SECONDS);
      throw new AssertionError("an anonymous sign-in over the bus succeeded while disabled");
    } catch (java.util.concurrent.ExecutionException e) {
      io.vertx.core.eventbus.ReplyException failure = (io.vertx.core.eventbus.ReplyException) e.getCause();
      assertEquals(422, failure.failureCode());
      assertEquals("anonymous_provider_disabled", new JsonObject(failure.getMessage()).getString("error_code"));
    }
  }

  @Test
  void anonymousUsersCannotUseFactorsOrSetAPasswordAlone() {
    JsonObject session = anonymous(app);
    String token = session.getString("access_token");
    assertError(403, "no_authorization", h -> app.postJson(BASE + "/factors", new JsonObject().put("factor_type", "totp"),
      with(bearer(token), h)));
    assertError(403, "no_authorization", h -> app.postJson(BASE + "/factors/recovery_codes", null, with(bearer(token), h)));
    assertError(422, "validation_failed", h -> app.putJson(BASE + "/user", new JsonObject().put("password", "pw-123456"),
      with(bearer(token), h)));
  }

  @Test
  void addingAnEmailMakesTheUserPermanent() {
    JsonObject session = anonymous(app);
    String email = TestApp.uniqueEmail();
    TestApp.Response converted = app.putJson(BASE + "/user",
      new JsonObject().put("email", email).put("password", "converted-1"), bearer(session.getString("access_token")));
    assertEquals(200, converted.status(), converted.raw());
    JsonObject user = converted.json();
    assertEquals(false, user.getBoolean("is_anonymous"));
    assertEquals(email, user.getString("email"));
    assertEquals("email", user.getJsonObject("app_metadata").getString("provider"));
    assertEquals(1, user.getJsonArray("identities").size());
    JsonObject signedIn = app.signIn(email, "converted-1");
    assertEquals(user.getString("id"), signedIn.getJsonObject("user").getString("id"));
    assertEquals(false, MfaTest.claims(signedIn).getBoolean("is_anonymous"));
  }

  @Test
  void withConfirmationOnTheNewEmailIsConfirmedByMailBeforeTheUserIsPermanent() {
    try (Mailbox mailbox = Mailbox.start()) {
      Map<String, String> env = new java.util.HashMap<>(mailbox.env());
      env.put("PORTCULLIS_SIGNUP_AUTOCONFIRM", "false");
      env.put("PORTCULLIS_SIGNUP_ANONYMOUS_ENABLED", "true");
      try (TestApp confirming = TestApp.start(env)) {
        JsonObject session = anonymous(confirming);
        String token = session.getString("access_token");
        String email = TestApp.uniqueEmail();
        TestApp.Response asked = confirming.putJson(BASE + "/user", new JsonObject().put("email", email), bearer(token));
        assertEquals(200, asked.status(), asked.raw());
        assertEquals(true, asked.json().getBoolean("is_anonymous"));
        assertEquals(email, asked.json().getString("new_email"));

        Mailbox.Mail mail = mailbox.next(email);
        TestApp.Response verified = confirming.postJson(BASE + "/verify", new JsonObject().put("type", "email_change")
          .put("email", email).put("token", mail.code()));
        assertEquals(200, verified.status(), verified.raw());
        JsonObject user = verified.json().getJsonObject("user");
        assertEquals(false, user.getBoolean("is_anonymous"), verified.raw());
        assertEquals(email, user.getString("email"));
        assertEquals(false, MfaTest.claims(verified.json()).getBoolean("is_anonymous"));
      }
    }
  }

  @Test
  void anonymousSignInsHaveTheirOwnRateLimitBucket() {
    try (TestApp limited = TestApp.start(Map.of("PORTCULLIS_SIGNUP_ANONYMOUS_ENABLED", "true",
      "PORTCULLIS_RATE_LIMITS", "on", "PORTCULLIS_RATE_LIMIT_BURST", "3", "PORTCULLIS_RATE_LIMIT_ANONYMOUS", "1"))) {
      for (int i = 0; i < 3; i++) {
        anonymous(limited);
      }
      assertError(429, "over_request_rate_limit", h -> limited.postJson(SIGNUP, new JsonObject(), h));
      // The sign-up bucket is another one.
      assertEquals(200, limited.postJson(SIGNUP, new JsonObject().put("email", TestApp.uniqueEmail())
        .put("password", "password123")).status());
    }
  }

  @Test
  void adminListsAndDeletesStaleAnonymousUsers() {
    JsonObject stale = anonymous(app);
    String staleId = stale.getJsonObject("user").getString("id");
    app.clock.advance(Duration.ofDays(31));
    JsonObject fresh = anonymous(app);
    String freshId = fresh.getJsonObject("user").getString("id");

    TestApp.Response listed = app.get(BASE + "/admin/anonymous_users?inactive_days=30", bearer(serviceKey));
    assertEquals(200, listed.status(), listed.raw());
    String ids = listed.json().getJsonArray("users").encode();
    assertTrue(ids.contains(staleId), ids);
    assertFalse(ids.contains(freshId), ids);
    assertError(403, "not_admin", h -> app.get(BASE + "/admin/anonymous_users",
      with(bearer(fresh.getString("access_token")), h)));
    assertError(400, "validation_failed", h -> app.get(BASE + "/admin/anonymous_users?inactive_days=x",
      with(bearer(serviceKey), h)));

    TestApp.Response deleted = app.request("DELETE", BASE + "/admin/anonymous_users?inactive_days=30", null, null,
      bearer(serviceKey));
    assertEquals(200, deleted.status(), deleted.raw());
    assertTrue(deleted.json().getInteger("deleted") >= 1, deleted.raw());
    assertError(400, "refresh_token_not_found", h -> app.postJson(BASE + "/token?grant_type=refresh_token",
      new JsonObject().put("refresh_token", stale.getString("refresh_token")), h));
    assertEquals(200, app.get(BASE + "/user", bearer(fresh.getString("access_token"))).status());
    assertEquals("user.deleted", DbRows.string(app, "SELECT type FROM audit_log WHERE user_id = ?::uuid "
      + "ORDER BY id DESC LIMIT 1", staleId));
    assertNull(DbRows.string(app, "SELECT id FROM users WHERE id = ?::uuid", staleId));
  }
}
