package io.portcullis.token;

import io.portcullis.it.Await;
import io.portcullis.it.CommandLine;
import io.portcullis.it.DbRows;
import io.portcullis.it.TestApp;
import com.nimbusds.jwt.SignedJWT;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.portcullis.it.ErrorShapes.assertError;
import static io.portcullis.it.ErrorShapes.with;
import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Signing-key rotation: the next key is published in JWKS before it signs, signing switches
 * after {@code jwt.rotation_delay_seconds}, tokens signed before keep verifying until they expire, and the old
 * public key leaves JWKS once the longest-lived token it signed has expired (a service key's expiry counts). Both
 * the admin route and the {@code rotate-keys} command; two instances on one database agree.
 *
 * <p>Keys are reloaded every second of real time ({@code PORTCULLIS_JWT_KEY_REFRESH_SECONDS=1}) against the moved
 * app clock, so after moving the clock the tests poll, up to {@link #RELOAD_WAIT}, for the reload to show.
 */
class KeyRotationTest {

  private static final String ROTATE = BASE + "/admin/keys/rotate";
  private static final String JWKS = BASE + "/.well-known/jwks.json";
  private static final String USER = BASE + "/user";
  private static final String PASSWORD = "password123";
  private static final Duration RELOAD_WAIT = Duration.ofSeconds(10);
  private static final long DELAY = 900;
  private static final long EXP = 3600;
  private static final long LEEWAY = 30;
  private static final Map<String, String> ROTATION = Map.of(
    "PORTCULLIS_JWT_KEY_REFRESH_SECONDS", "1",
    "PORTCULLIS_JWT_ROTATION_DELAY_SECONDS", Long.toString(DELAY));
  private static final Pattern KID = Pattern.compile("\"kid\"\\s*:\\s*\"([^\"]+)\"");

  @Test
  void adminRotationPublishesFirstSignsAfterTheDelayAndOldTokensVerifyUntilTheyExpire() throws Exception {
    try (TestApp app = TestApp.start(ROTATION)) {
      String serviceKey = CommandLine.serviceKey(app);
      String oldKid = onlyKid(app);
      assertEquals(oldKid, kid(serviceKey));
      String email = TestApp.uniqueEmail();
      JsonObject before = app.signUp(email, PASSWORD);
      assertEquals(oldKid, kid(before.getString("access_token")));

      TestApp.Response rotated = app.request("POST", ROTATE, null, null, bearer(serviceKey));

      assertEquals(200, rotated.status(), rotated.raw());
      String newKid = rotated.json().getString("kid");
      assertNotNull(newKid, rotated.raw());
      assertNotEquals(oldKid, newKid);
      OffsetDateTime activateAt = OffsetDateTime.parse(rotated.json().getString("activate_at"));
      long delay = activateAt.toEpochSecond() - app.clock.instant().getEpochSecond();
      assertTrue(delay > DELAY - 10 && delay <= DELAY, "activate_at " + activateAt + " is now + " + delay + " s");
      // Asked again while that key is pending: the same key, not a third one.
      TestApp.Response again = app.request("POST", ROTATE, null, null, bearer(serviceKey));
      assertEquals(200, again.status(), again.raw());
      assertEquals(rotated.json(), again.json());
      assertEquals("2", DbRows.string(app, "SELECT count(*) FROM signing_keys"));

      // Published at once, both keys side by side; tokens are still signed with the old one.
      eventually("JWKS lists the old and the next key", () -> kids(app).equals(Set.of(oldKid, newKid)));
      assertEquals(oldKid, kid(app.signIn(email, PASSWORD).getString("access_token")));
      assertEquals(200, app.get(USER, bearer(before.getString("access_token"))).status());

      app.clock.advance(Duration.ofSeconds(DELAY + 1));

      eventually("new tokens carry the new kid", () -> newKid.equals(kid(app.signIn(email, PASSWORD)
        .getString("access_token"))));
      TestApp.Response refreshed = app.refresh(before.getString("refresh_token"));
      assertEquals(200, refreshed.status(), refreshed.raw());
      assertEquals(newKid, kid(refreshed.json().getString("access_token")));
      assertEquals(Set.of(oldKid, newKid), kids(app));
      // A token signed before the rotation keeps verifying until it expires...
      TestApp.Response stillValid = app.get(USER, bearer(before.getString("access_token")));
      assertEquals(200, stillValid.status(), stillValid.raw());
      long exp = SignedJWT.parse(before.getString("access_token")).getJWTClaimsSet().getExpirationTime().toInstant()
        .getEpochSecond();
      advanceTo(app, Instant.ofEpochSecond(exp - 60));
      TestApp.Response nearlyExpired = app.get(USER, bearer(before.getString("access_token")));
      assertEquals(200, nearlyExpired.status(), nearlyExpired.raw());
      // ... and not after.
      app.clock.advance(Duration.ofSeconds(60 + LEEWAY + 1));
      assertError(403, "bad_jwt", h -> app.get(USER, with(bearer(before.getString("access_token")), h)));

      // Past supersession + jwt.exp + leeway the old key would retire, but the service key it signed is recorded
      // (max_exp, ten years away) and still valid: the old key stays published and verifying.
      String maxExp = DbRows.string(app, "SELECT max_exp FROM signing_keys WHERE kid = ?", oldKid);
      assertNotNull(maxExp, "the service-key command records the expiry of the key it printed");
      advanceTo(app, activateAt.toInstant().plusSeconds(EXP + LEEWAY + 60));
      // A further rotation reloads the keys at once; once its key shows, that reload decided on the old key too.
      TestApp.Response third = app.request("POST", ROTATE, null, null, bearer(serviceKey));
      assertEquals(200, third.status(), third.raw());
      String thirdKid = third.json().getString("kid");
      assertNotEquals(newKid, thirdKid);
      eventually("JWKS lists the third key", () -> kids(app).contains(thirdKid));
      assertEquals(Set.of(oldKid, newKid, thirdKid), kids(app));
      TestApp.Response admin = app.get(BASE + "/admin/users", bearer(serviceKey));
      assertEquals(200, admin.status(), admin.raw());
      assertEquals(newKid, kid(app.signIn(email, PASSWORD).getString("access_token")));
    }
  }

  @Test
  void rotateKeysCommandBesideARunningServerIsPickedUpAndTheOldKeyRetiresOnceItsTokensExpired() throws Exception {
    try (TestApp app = TestApp.start(ROTATION)) {
      String oldKid = onlyKid(app);
      String email = TestApp.uniqueEmail();
      JsonObject before = app.signUp(email, PASSWORD);

      CommandLine.Run run = CommandLine.run(app, "rotate-keys");

      assertEquals(0, run.exit(), run.err());
      Matcher printed = KID.matcher(run.out());
      assertTrue(printed.find(), "no kid printed in: " + run.out());
      String newKid = printed.group(1);
      assertNotEquals(oldKid, newKid);
      eventually("the running server publishes the new key", () -> kids(app).equals(Set.of(oldKid, newKid)));
      assertEquals(oldKid, kid(app.signIn(email, PASSWORD).getString("access_token")));

      app.clock.advance(Duration.ofSeconds(DELAY + 1));

      eventually("new tokens carry the new kid", () -> newKid.equals(kid(app.signIn(email, PASSWORD)
        .getString("access_token"))));
      assertEquals(200, app.get(USER, bearer(before.getString("access_token"))).status());

      // No token signed with the old key outlives supersession + jwt.exp + leeway: the old key leaves JWKS.
      app.clock.advance(Duration.ofSeconds(EXP + LEEWAY + 60));

      eventually("the old key leaves JWKS", () -> kids(app).equals(Set.of(newKid)));
      assertError(403, "bad_jwt", h -> app.get(USER, with(bearer(before.getString("access_token")), h)));
      // The session itself lives on: its refresh token (not a JWT) gets a token with the new key.
      TestApp.Response refreshed = app.refresh(before.getString("refresh_token"));
      assertEquals(200, refreshed.status(), refreshed.raw());
      assertEquals(newKid, kid(refreshed.json().getString("access_token")));
      assertEquals(200, app.get(USER, bearer(refreshed.json().getString("access_token"))).status());
    }
  }

  @Test
  void twoInstancesOnOneDatabaseAgreeOnTheSigningKeyAfterARotation() throws Exception {
    Map<String, String> pinned = Map.of(
      "PORTCULLIS_EXTERNAL_URL", "http://portcullis.test",
      "PORTCULLIS_JWT_ISSUER", "http://portcullis.test/auth/v1");
    Map<String, String> shared = new HashMap<>(ROTATION);
    shared.putAll(pinned);
    try (TestApp a = TestApp.start(shared)) {
      Map<String, String> second = new HashMap<>(shared);
      second.put("PORTCULLIS_DB_URL", "postgres://postgres@127.0.0.1:" + a.database.connectOptions().getPort()
        + "/postgres");
      try (TestApp b = TestApp.start(second)) {
        String serviceKey = CommandLine.serviceKey(a, pinned);
        String oldKid = onlyKid(a);
        assertEquals(oldKid, onlyKid(b));
        String email = TestApp.uniqueEmail();
        a.signUp(email, PASSWORD);

        TestApp.Response rotated = a.request("POST", ROTATE, null, null, bearer(serviceKey));

        assertEquals(200, rotated.status(), rotated.raw());
        String newKid = rotated.json().getString("kid");
        // B reads the pending key from the database; rotating there answers the same pending key.
        eventually("B publishes the key A added", () -> kids(b).equals(Set.of(oldKid, newKid)));
        TestApp.Response onB = b.request("POST", ROTATE, null, null, bearer(serviceKey));
        assertEquals(200, onB.status(), onB.raw());
        assertEquals(rotated.json(), onB.json());

        a.clock.advance(Duration.ofSeconds(DELAY + 1));
        b.clock.advance(Duration.ofSeconds(DELAY + 1));

        eventually("A signs with the new key", () -> newKid.equals(kid(a.signIn(email, PASSWORD)
          .getString("access_token"))));
        eventually("B signs with the new key", () -> newKid.equals(kid(b.signIn(email, PASSWORD)
          .getString("access_token"))));
        String fromA = a.signIn(email, PASSWORD).getString("access_token");
        String fromB = b.signIn(email, PASSWORD).getString("access_token");
        assertEquals(200, b.get(USER, bearer(fromA)).status());
        assertEquals(200, a.get(USER, bearer(fromB)).status());
        assertEquals(kids(a), kids(b));
      }
    }
  }

  // ---- helpers ----

  private static String kid(String jwt) {
    try {
      return SignedJWT.parse(jwt).getHeader().getKeyID();
    } catch (ParseException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Set<String> kids(TestApp app) {
    TestApp.Response r = app.get(JWKS);
    assertEquals(200, r.status(), r.raw());
    JsonArray keys = r.json().getJsonArray("keys");
    List<String> kids = keys.stream().map(key -> ((JsonObject) key).getString("kid")).toList();
    assertEquals(kids.size(), Set.copyOf(kids).size(), "no kid twice: " + r.raw());
    return Set.copyOf(kids);
  }

  private static String onlyKid(TestApp app) {
    Set<String> kids = kids(app);
    assertEquals(1, kids.size(), kids.toString());
    return kids.iterator().next();
  }

  private static void advanceTo(TestApp app, Instant target) {
    Duration by = Duration.between(app.clock.instant(), target);
    assertTrue(!by.isNegative(), "the clock is already past " + target);
    app.clock.advance(by);
  }

  /** Waits for the periodic key reload (every second of real time); fails after {@link #RELOAD_WAIT}. */
  private static void eventually(String what, BooleanSupplier condition) {
    Await.until(RELOAD_WAIT, what, condition);
  }
}
