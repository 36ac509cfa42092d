package io.portcullis.admin;

import com.nimbusds.jwt.SignedJWT;
import io.portcullis.bus.Addresses;
import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.CommandLine;
import io.portcullis.it.TestApp;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The admin routes through HTTP: listing with GoTrue's pagination headers, create, read, update
 * (ban included), hard and soft delete, the audit log; and who is an admin (a service key, a user whose role is an
 * admin role, a user holding {@code admin} in user_roles, checked on every request whatever the token says).
 */
@ExtendWith(AppExtension.class)
class AdminTest {

  private static final String USERS = BASE + "/admin/users";
  private static final String AUDIT = BASE + "/admin/audit";
  private static final String PASSWORD = "password123";
  private static final Duration EVENT_WAIT = Duration.ofSeconds(10);

  @App
  static TestApp app;
  static String serviceKey;
  static final BlockingQueue<JsonObject> EVENTS = new LinkedBlockingQueue<>();
  static MessageConsumer<JsonObject> consumer;

  @BeforeAll
  static void start() throws Exception {
    serviceKey = CommandLine.serviceKey(app);
    consumer = app.vertx.eventBus().consumer(Addresses.EVENTS, message -> EVENTS.add(message.body()));
    consumer.completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  // ---- listing ----

  @Test
  void listUsersPaginatesWithTotalCountAndGoTrueLinkHeader() throws Exception {
    // A fresh app, so that exactly five users exist.
    try (TestApp fresh = TestApp.start()) {
      String key = CommandLine.serviceKey(fresh);
      List<String> emails = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        emails.add(TestApp.uniqueEmail());
        fresh.signUp(emails.get(i), PASSWORD);
        fresh.clock.advance(Duration.ofSeconds(1));
      }

      TestApp.Response first = fresh.get(USERS + "?page=1&per_page=2", bearer(key));

      assertEquals(200, first.status(), first.raw());
      assertEquals("5", first.header("X-Total-Count"));
      assertEquals("</auth/v1/admin/users?page=2&per_page=2>; rel=\"next\", "
        + "</auth/v1/admin/users?page=3&per_page=2>; rel=\"last\"", first.header("Link"));
      assertEquals("authenticated", first.json().getString("aud"));
      JsonArray users = first.json().getJsonArray("users");
      assertEquals(2, users.size(), first.raw());
      // Newest first, as GoTrue lists them.
      assertEquals(emails.get(4), users.getJsonObject(0).getString("email"));
      assertEquals(emails.get(3), users.getJsonObject(1).getString("email"));
      assertUserObject(users.getJsonObject(0));

      TestApp.Response last = fresh.get(USERS + "?page=3&per_page=2", bearer(key));
      assertEquals(200, last.status(), last.raw());
      assertEquals("5", last.header("X-Total-Count"));
      assertEquals("</auth/v1/admin/users?page=3&per_page=2>; rel=\"last\"", last.header("Link"));
      assertEquals(1, last.json().getJsonArray("users").size());
      assertEquals(emails.get(0), last.json().getJsonArray("users").getJsonObject(0).getString("email"));
    }
  }

  @Test
  void listUsersWithEmptyPageAndPerPageUsesTheDefaults() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);

    // supabase-js sends both parameters empty when listUsers() is called without them.
    TestApp.Response r = app.get(USERS + "?page=&per_page=", bearer(serviceKey));

    assertEquals(200, r.status(), r.raw());
    long total = Long.parseLong(r.header("X-Total-Count"));
    assertTrue(total >= 1, r.header("X-Total-Count"));
    assertEquals(Math.min(total, 50), r.json().getJsonArray("users").size());
    assertTrue(r.header("Link").contains("per_page=50>; rel=\"last\""), r.header("Link"));
    assertEquals("authenticated", r.json().getString("aud"));
    assertTrue(r.json().getJsonArray("users").stream().map(u -> ((JsonObject) u).getString("email"))
      .anyMatch(email::equals), "the newest user is on the first page");
  }

  @Test
  void listUsersWithANonNumericPageAnswers400ValidationFailed() {
    assertError(400, "validation_failed", app.get(USERS + "?page=abc", bearer(serviceKey)));
    assertError(400, "validation_failed", app.get(USERS + "?per_page=0", bearer(serviceKey)));
  }

  // ---- create ----

  @Test
  void createUserWithEmailConfirmAnswersAConfirmedUserWhoCanSignIn() {
    String email = TestApp.uniqueEmail();

    TestApp.Response created = create(new JsonObject().put("email", email).put("password", PASSWORD)
      .put("email_confirm", true));

    assertEquals(200, created.status(), created.raw());
    JsonObject user = created.json();
    assertUserObject(user);
    assertEquals(email, user.getString("email"));
    assertEquals("authenticated", user.getString("role"));
    assertNotNull(user.getString("email_confirmed_at"), created.raw());
    JsonObject session = app.signIn(email, PASSWORD);
    assertEquals(user.getString("id"), session.getJsonObject("user").getString("id"));
  }

  @Test
  void createUserWithoutEmailConfirmCannotSignInUntilConfirmedByUpdate() {
    String email = TestApp.uniqueEmail();

    TestApp.Response created = create(new JsonObject().put("email", email).put("password", PASSWORD));

    assertEquals(200, created.status(), created.raw());
    assertNull(created.json().getString("email_confirmed_at"), created.raw());
    assertError(400, "email_not_confirmed", passwordGrant(email, PASSWORD));

    TestApp.Response confirmed = update(created.json().getString("id"), new JsonObject().put("email_confirm", true));
    assertEquals(200, confirmed.status(), confirmed.raw());
    assertNotNull(confirmed.json().getString("email_confirmed_at"), confirmed.raw());
    assertEquals(200, passwordGrant(email, PASSWORD).status());
  }

  @Test
  void createUserKeepsUserAndAppMetadataAndTokensCarryThem() throws Exception {
    String email = TestApp.uniqueEmail();

    TestApp.Response created = create(new JsonObject().put("email", email).put("password", PASSWORD)
      .put("email_confirm", true)
      .put("user_metadata", new JsonObject().put("name", "Ada").put("theme", "dark"))
      .put("app_metadata", new JsonObject().put("plan", "pro")));

    assertEquals(200, created.status(), created.raw());
    JsonObject user = created.json();
    assertEquals("Ada", user.getJsonObject("user_metadata").getString("name"));
    assertEquals("dark", user.getJsonObject("user_metadata").getString("theme"));
    assertEquals("pro", user.getJsonObject("app_metadata").getString("plan"));
    assertEquals("email", user.getJsonObject("app_metadata").getString("provider"));
    JsonObject claims = claims(app.signIn(email, PASSWORD).getString("access_token"));
    assertEquals("pro", claims.getJsonObject("app_metadata").getString("plan"));
    assertEquals("Ada", claims.getJsonObject("user_metadata").getString("name"));
    TestApp.Response read = get(user.getString("id"));
    assertEquals(user.getJsonObject("user_metadata"), read.json().getJsonObject("user_metadata"));
    assertEquals(user.getJsonObject("app_metadata"), read.json().getJsonObject("app_metadata"));
  }

  @Test
  void createUserWithATakenEmailAnswers422EmailExists() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);

    assertError(422, "email_exists", create(new JsonObject().put("email", email).put("password", PASSWORD)));
    assertError(422, "email_exists",
      create(new JsonObject().put("email", email.toUpperCase()).put("password", PASSWORD)));
  }

  @Test
  void createUserWithAWeakPasswordAnswers422WeakPassword() {
    TestApp.Response r = create(new JsonObject().put("email", TestApp.uniqueEmail()).put("password", "short"));

    assertError(422, "weak_password", r);
    assertTrue(r.json().getJsonObject("weak_password").getJsonArray("reasons").contains("length"), r.raw());
  }

  @Test
  void createUserWithABadEmailAnswers400ValidationFailed() {
    assertError(400, "validation_failed",
      create(new JsonObject().put("email", "not-an-email").put("password", PASSWORD)));
    assertError(400, "validation_failed", create(new JsonObject().put("password", PASSWORD)));
  }

  // ---- read ----

  @Test
  void getUserByIdAnswersTheUserAndUnknownOrMalformedIds404UserNotFound() {
    String email = TestApp.uniqueEmail();
    String id = app.signUp(email, PASSWORD).getJsonObject("user").getString("id");

    TestApp.Response found = get(id);

    assertEquals(200, found.status(), found.raw());
    assertUserObject(found.json());
    assertEquals(id, found.json().getString("id"));
    assertEquals(email, found.json().getString("email"));
    assertError(404, "user_not_found", get(UUID.randomUUID().toString()));
    assertError(404, "user_not_found", get("not-a-uuid"));
  }

  // ---- update ----

  @Test
  void updateUserChangesEmailAndPasswordSoTheNewOnesSignIn() {
    String email = TestApp.uniqueEmail();
    String id = app.signUp(email, PASSWORD).getJsonObject("user").getString("id");
    String newEmail = TestApp.uniqueEmail();

    TestApp.Response updated = update(id, new JsonObject().put("email", newEmail).put("password", "new-password-456"));

    assertEquals(200, updated.status(), updated.raw());
    assertEquals(newEmail, updated.json().getString("email"));
    assertEquals(id, app.signIn(newEmail, "new-password-456").getJsonObject("user").getString("id"));
    assertError(400, "invalid_credentials", passwordGrant(newEmail, PASSWORD));
    assertError(400, "invalid_credentials", passwordGrant(email, "new-password-456"));
  }

  @Test
  void updateUserToATakenEmailAnswers422EmailExistsAndAWeakPassword422WeakPassword() {
    String taken = TestApp.uniqueEmail();
    app.signUp(taken, PASSWORD);
    String id = app.signUp(TestApp.uniqueEmail(), PASSWORD).getJsonObject("user").getString("id");

    assertError(422, "email_exists", update(id, new JsonObject().put("email", taken)));
    assertError(422, "weak_password", update(id, new JsonObject().put("password", "short")));
    assertError(404, "user_not_found", update(UUID.randomUUID().toString(), new JsonObject().put("role", "editor")));
  }

  @Test
  void updateUserMergesUserMetadataAndANullValueRemovesTheKey() {
    String id = app.signUp(TestApp.uniqueEmail(), PASSWORD).getJsonObject("user").getString("id");
    assertEquals(200, update(id, new JsonObject().put("user_metadata",
      new JsonObject().put("name", "Ada").put("plan", "free"))).status());

    TestApp.Response updated = update(id, new JsonObject().put("user_metadata",
      new JsonObject().put("plan", "pro").put("name", null).put("theme", "dark")));

    assertEquals(200, updated.status(), updated.raw());
    assertEquals(new JsonObject().put("plan", "pro").put("theme", "dark"),
      updated.json().getJsonObject("user_metadata"));
    assertEquals(updated.json().getJsonObject("user_metadata"), get(id).json().getJsonObject("user_metadata"));
  }

  @Test
  void updateUserRoleIsAnsweredAndCarriedByTheNextTokens() throws Exception {
    String email = TestApp.uniqueEmail();
    String id = app.signUp(email, PASSWORD).getJsonObject("user").getString("id");

    TestApp.Response updated = update(id, new JsonObject().put("role", "editor"));

    assertEquals(200, updated.status(), updated.raw());
    assertEquals("editor", updated.json().getString("role"));
    assertEquals("editor", claims(app.signIn(email, PASSWORD).getString("access_token")).getString("role"));
    assertError(400, "validation_failed", update(id, new JsonObject().put("role", "Not A Role")));
  }

  // ---- ban ----

  @Test
  void banEndsTheSessionsRefusesSignInAndRefreshAndNoneLiftsIt() throws Exception {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    String id = session.getJsonObject("user").getString("id");
    JsonObject second = app.signIn(email, PASSWORD);
    EVENTS.clear();

    TestApp.Response banned = update(id, new JsonObject().put("ban_duration", "24h"));

    assertEquals(200, banned.status(), banned.raw());
    OffsetDateTime until = OffsetDateTime.parse(banned.json().getString("banned_until"));
    assertEquals(app.clock.instant().plus(Duration.ofHours(24)).getEpochSecond(), until.toInstant().getEpochSecond());
    for (JsonObject s : List.of(session, second)) {
      assertError(403, "session_not_found", app.get(BASE + "/user", bearer(s.getString("access_token"))));
      TestApp.Response refresh = app.refresh(s.getString("refresh_token"));
      assertEquals(400, refresh.status(), refresh.raw());
      assertTrue(Set.of("refresh_token_not_found", "user_banned").contains(refresh.errorCode()), refresh.raw());
    }
    assertError(400, "user_banned", passwordGrant(email, PASSWORD));
    JsonObject event = awaitEvent("user.banned", id);
    assertNotNull(event.getString("at"), event.encode());

    TestApp.Response lifted = update(id, new JsonObject().put("ban_duration", "none"));

    assertEquals(200, lifted.status(), lifted.raw());
    assertNull(lifted.json().getString("banned_until"), lifted.raw());
    JsonObject after = app.signIn(email, PASSWORD);
    assertEquals(200, app.get(BASE + "/user", bearer(after.getString("access_token"))).status());
  }

  @Test
  void banEndsWhenItsDurationHasPassed() {
    String email = TestApp.uniqueEmail();
    String id = app.signUp(email, PASSWORD).getJsonObject("user").getString("id");
    assertEquals(200, update(id, new JsonObject().put("ban_duration", "1h30m")).status());
    assertError(400, "user_banned", passwordGrant(email, PASSWORD));

    app.clock.advance(Duration.ofMinutes(91));

    assertEquals(200, passwordGrant(email, PASSWORD).status());
  }

  @Test
  void banWithAnUnparsableDurationAnswers400ValidationFailed() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    String id = session.getJsonObject("user").getString("id");

    assertError(400, "validation_failed", update(id, new JsonObject().put("ban_duration", "forever")));
    assertError(400, "validation_failed", update(id, new JsonObject().put("ban_duration", "")));
    assertError(400, "validation_failed", update(id, new JsonObject().put("ban_duration", 24)));

    assertNull(get(id).json().getString("banned_until"));
    assertEquals(200, app.get(BASE + "/user", bearer(session.getString("access_token"))).status());
  }

  // ---- delete ----

  @Test
  void hardDeleteRemovesTheUserAndTheirTokensStopWorking() throws Exception {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    String id = session.getJsonObject("user").getString("id");
    EVENTS.clear();

    TestApp.Response deleted = delete(id, new JsonObject().put("should_soft_delete", false));

    assertEquals(200, deleted.status(), deleted.raw());
    assertEquals(id, deleted.json().getString("id"));
    assertError(404, "user_not_found", get(id));
    TestApp.Response me = app.get(BASE + "/user", bearer(session.getString("access_token")));
    assertEquals(403, me.status(), me.raw());
    assertTrue(Set.of("user_not_found", "session_not_found").contains(me.errorCode()), me.raw());
    assertError(400, "refresh_token_not_found", app.refresh(session.getString("refresh_token")));
    assertError(400, "invalid_credentials", passwordGrant(email, PASSWORD));
    awaitEvent("user.deleted", id);
    assertError(404, "user_not_found", delete(id, null));
  }

  @Test
  void softDeleteEndsTheSessionsHidesTheUserAndFreesTheEmail() throws Exception {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    String id = session.getJsonObject("user").getString("id");
    EVENTS.clear();

    TestApp.Response deleted = delete(id, new JsonObject().put("should_soft_delete", true));

    assertEquals(200, deleted.status(), deleted.raw());
    TestApp.Response me = app.get(BASE + "/user", bearer(session.getString("access_token")));
    assertEquals(403, me.status(), me.raw());
    assertTrue(Set.of("user_not_found", "session_not_found").contains(me.errorCode()), me.raw());
    assertError(400, "refresh_token_not_found", app.refresh(session.getString("refresh_token")));
    assertError(404, "user_not_found", get(id));
    awaitEvent("user.deleted", id);
    assertFalse(app.get(USERS + "?per_page=1000", bearer(serviceKey)).json().getJsonArray("users").stream()
      .anyMatch(u -> id.equals(((JsonObject) u).getString("id"))), "a soft-deleted user is listed");

    JsonObject again = app.signUp(email, PASSWORD);
    assertFalse(id.equals(again.getJsonObject("user").getString("id")));
  }

  @Test
  void deleteWithANonBooleanSoftFlagAnswers400ValidationFailed() {
    String id = app.signUp(TestApp.uniqueEmail(), PASSWORD).getJsonObject("user").getString("id");

    assertError(400, "validation_failed", delete(id, new JsonObject().put("should_soft_delete", "yes")));
    assertEquals(200, get(id).status());
  }

  // ---- audit ----

  @Test
  void auditLogListsEntriesNewestFirstWithBanAndDelete() {
    String bannedId = app.signUp(TestApp.uniqueEmail(), PASSWORD).getJsonObject("user").getString("id");
    String deletedId = app.signUp(TestApp.uniqueEmail(), PASSWORD).getJsonObject("user").getString("id");
    assertEquals(200, update(bannedId, new JsonObject().put("ban_duration", "24h")).status());
    assertEquals(200, delete(deletedId, null).status());

    TestApp.Response r = app.get(AUDIT + "?page=1&per_page=1000", bearer(serviceKey));

    assertEquals(200, r.status(), r.raw());
    JsonArray entries = new JsonArray(r.raw());
    assertEquals(Long.parseLong(r.header("X-Total-Count")), entries.size(), "all entries on one page");
    assertTrue(r.header("Link").contains("rel=\"last\""), r.header("Link"));
    for (int i = 1; i < entries.size(); i++) {
      JsonObject newer = entries.getJsonObject(i - 1);
      JsonObject older = entries.getJsonObject(i);
      assertTrue(newer.getLong("id") > older.getLong("id"), "not newest first: " + newer + " before " + older);
      assertFalse(OffsetDateTime.parse(newer.getString("created_at"))
        .isBefore(OffsetDateTime.parse(older.getString("created_at"))), newer + " before " + older);
    }
    assertTrue(contains(entries, "user.banned", bannedId), r.raw());
    assertTrue(contains(entries, "user.deleted", deletedId), r.raw());
    // The newest entries are the two just made.
    assertEquals("user.deleted", entries.getJsonObject(0).getString("type"));
    assertEquals(deletedId, entries.getJsonObject(0).getString("user_id"));

    TestApp.Response paged = app.get(AUDIT + "?page=1&per_page=1", bearer(serviceKey));
    assertEquals(200, paged.status(), paged.raw());
    assertEquals(1, new JsonArray(paged.raw()).size());
    assertTrue(paged.header("Link").startsWith("</auth/v1/admin/audit?page=2&per_page=1>; rel=\"next\""),
      paged.header("Link"));
  }

  // ---- who is an admin ----

  @Test
  void ordinaryUserGets403NotAdminOnEveryAdminRoute() {
    JsonObject session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String token = session.getString("access_token");
    String target = session.getJsonObject("user").getString("id");

    for (TestApp.Response r : everyAdminRoute(target, bearer(token))) {
      assertError(403, "not_admin", r);
    }
    assertEquals("authenticated", get(target).json().getString("role"), "an ordinary user changed something");
  }

  @Test
  void noTokenGets401NoAuthorizationAndAGarbageToken403BadJwtOnEveryAdminRoute() {
    String target = app.signUp(TestApp.uniqueEmail(), PASSWORD).getJsonObject("user").getString("id");

    for (TestApp.Response r : everyAdminRoute(target)) {
      assertError(401, "no_authorization", r);
    }
    for (TestApp.Response r : everyAdminRoute(target, bearer("not.a.jwt"))) {
      assertError(403, "bad_jwt", r);
    }
    String forged = serviceKey.substring(0, serviceKey.lastIndexOf('.') + 1) + "AAAA";
    for (TestApp.Response r : everyAdminRoute(target, bearer(forged))) {
      assertError(403, "bad_jwt", r);
    }
  }

  @Test
  void userGivenTheAdminRoleUsesTheirOwnTokenAndLosesItAtOnceWhenTheRoleIsTaken() throws Exception {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    String id = session.getJsonObject("user").getString("id");
    String oldToken = session.getString("access_token");
    assertError(403, "not_admin", app.get(USERS, bearer(oldToken)));

    TestApp.Response promoted = update(id, new JsonObject().put("app_metadata",
      new JsonObject().put("roles", new JsonArray().add("admin"))));

    assertEquals(200, promoted.status(), promoted.raw());
    assertEquals(new JsonArray().add("admin"), promoted.json().getJsonObject("app_metadata").getJsonArray("roles"));
    // The token was issued before the promotion: the database decides, not the token.
    TestApp.Response listed = app.get(USERS + "?page=1&per_page=5", bearer(oldToken));
    assertEquals(200, listed.status(), listed.raw());
    assertNotNull(listed.header("X-Total-Count"));
    TestApp.Response refreshed = app.refresh(session.getString("refresh_token"));
    assertEquals(200, refreshed.status(), refreshed.raw());
    String newToken = refreshed.json().getString("access_token");
    assertEquals(new JsonArray().add("admin"), claims(newToken).getJsonObject("app_metadata").getJsonArray("roles"));
    assertEquals(200, app.get(AUDIT + "?per_page=1", bearer(newToken)).status());

    TestApp.Response demoted = update(id, new JsonObject().put("app_metadata",
      new JsonObject().put("roles", new JsonArray())));

    assertEquals(200, demoted.status(), demoted.raw());
    assertError(403, "not_admin", app.get(USERS, bearer(oldToken)));
    // Even the token that says "admin" in app_metadata.roles.
    assertError(403, "not_admin", app.get(USERS, bearer(newToken)));
    assertError(403, "not_admin", app.get(AUDIT, bearer(newToken)));
  }

  @Test
  void userCreatedWithTheAdminRoleOnTheCommandLineIsAnAdmin() throws Exception {
    String email = TestApp.uniqueEmail();
    CommandLine.Run created = CommandLine.run(app, "create-user", "--email", email, "--password", PASSWORD,
      "--role", "admin");
    assertEquals(0, created.exit(), created.err());
    String token = app.signIn(email, PASSWORD).getString("access_token");
    assertEquals("admin", claims(token).getString("role"));

    TestApp.Response listed = app.get(USERS + "?page=1&per_page=1", bearer(token));
    assertEquals(200, listed.status(), listed.raw());

    String target = app.signUp(TestApp.uniqueEmail(), PASSWORD).getJsonObject("user").getString("id");
    TestApp.Response updated = app.putJson(USERS + "/" + target,
      new JsonObject().put("user_metadata", new JsonObject().put("by", "admin")), bearer(token));
    assertEquals(200, updated.status(), updated.raw());
    assertEquals("admin", updated.json().getJsonObject("user_metadata").getString("by"));
  }

  /** A resource server checks one shape; every kind of admin must show it, however the role was granted. */
  @Test
  void everyWayOfGrantingAdminGivesTheSameRoleAndAppMetadataRoles() throws Exception {
    String byCommand = TestApp.uniqueEmail();
    CommandLine.Run created = CommandLine.run(app, "create-user", "--email", byCommand, "--password", PASSWORD,
      "--role", "admin");
    assertEquals(0, created.exit(), created.err());
    String byRoleField = TestApp.uniqueEmail();
    assertEquals(200, create(new JsonObject().put("email", byRoleField).put("password", PASSWORD)
      .put("email_confirm", true).put("role", "admin")).status());
    String byAppMetadata = TestApp.uniqueEmail();
    String id = app.signUp(byAppMetadata, PASSWORD).getJsonObject("user").getString("id");
    TestApp.Response promoted = update(id, new JsonObject().put("app_metadata",
      new JsonObject().put("roles", new JsonArray().add("admin").add("editor"))));
    assertEquals(200, promoted.status(), promoted.raw());
    assertEquals("admin", promoted.json().getString("role"));

    for (String email : new String[] {byCommand, byRoleField, byAppMetadata}) {
      JsonObject claims = claims(app.signIn(email, PASSWORD).getString("access_token"));
      assertEquals("admin", claims.getString("role"), email + " " + claims);
      assertTrue(claims.getJsonObject("app_metadata").getJsonArray("roles").contains("admin"), email + " " + claims);
    }
    assertEquals(new JsonArray().add("admin").add("editor"),
      claims(app.signIn(byAppMetadata, PASSWORD).getString("access_token")).getJsonObject("app_metadata")
        .getJsonArray("roles"));

    // A role that is not an admin role is listed, and leaves the role claim alone.
    String editor = TestApp.uniqueEmail();
    String editorId = app.signUp(editor, PASSWORD).getJsonObject("user").getString("id");
    assertEquals(200, update(editorId, new JsonObject().put("app_metadata",
      new JsonObject().put("roles", new JsonArray().add("editor")))).status());
    JsonObject editorClaims = claims(app.signIn(editor, PASSWORD).getString("access_token"));
    assertEquals("authenticated", editorClaims.getString("role"));
    assertEquals(new JsonArray().add("editor"), editorClaims.getJsonObject("app_metadata").getJsonArray("roles"));
  }

  @Test
  void loggedOutAdminsTokenGets403SessionNotFound() throws Exception {
    String email = TestApp.uniqueEmail();
    CommandLine.Run created = CommandLine.run(app, "create-user", "--email", email, "--password", PASSWORD,
      "--role", "admin");
    assertEquals(0, created.exit(), created.err());
    String token = app.signIn(email, PASSWORD).getString("access_token");
    assertEquals(200, app.get(USERS, bearer(token)).status());

    TestApp.Response logout = app.request("POST", BASE + "/logout", "application/json", null, bearer(token));
    assertEquals(204, logout.status(), logout.raw());

    for (TestApp.Response r : everyAdminRoute(UUID.randomUUID().toString(), bearer(token))) {
      assertError(403, "session_not_found", r);
    }
  }

  @Test
  void bannedAdminGets403UserBanned() throws Exception {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, PASSWORD);
    String id = session.getJsonObject("user").getString("id");
    assertEquals(200, update(id, new JsonObject().put("role", "admin")).status());
    String token = app.signIn(email, PASSWORD).getString("access_token");
    assertEquals(200, app.get(USERS, bearer(token)).status());

    assertEquals(200, update(id, new JsonObject().put("ban_duration", "1h")).status());

    TestApp.Response r = app.get(USERS, bearer(token));
    assertEquals(403, r.status(), r.raw());
    assertTrue(Set.of("session_not_found", "user_banned").contains(r.errorCode()), r.raw());
  }

  // ---- helpers ----

  private static TestApp.Response create(JsonObject body) {
    return app.postJson(USERS, body, bearer(serviceKey));
  }

  private static TestApp.Response get(String id) {
    return app.get(USERS + "/" + id, bearer(serviceKey));
  }

  private static TestApp.Response update(String id, JsonObject body) {
    return app.putJson(USERS + "/" + id, body, bearer(serviceKey));
  }

  private static TestApp.Response delete(String id, JsonObject body) {
    return app.request("DELETE", USERS + "/" + id, body == null ? null : "application/json",
      body == null ? null : body.encode(), bearer(serviceKey));
  }

  private static TestApp.Response passwordGrant(String email, String password) {
    return app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", password));
  }

  /** One call to each admin route, with the given headers. */
  private static List<TestApp.Response> everyAdminRoute(String target, String... headers) {
    List<Supplier<TestApp.Response>> calls = List.of(
      () -> app.get(USERS + "?page=&per_page=", headers),
      () -> app.request("POST", USERS, "application/json",
        new JsonObject().put("email", TestApp.uniqueEmail()).put("password", PASSWORD).encode(), headers),
      () -> app.get(USERS + "/" + target, headers),
      () -> app.request("PUT", USERS + "/" + target, "application/json",
        new JsonObject().put("role", "admin").encode(), headers),
      () -> app.request("DELETE", USERS + "/" + target, "application/json",
        new JsonObject().put("should_soft_delete", false).encode(), headers),
      () -> app.get(AUDIT, headers));
    return calls.stream().map(Supplier::get).toList();
  }

  private static void assertError(int status, String code, TestApp.Response r) {
    assertEquals(status, r.status(), r.raw());
    assertEquals(code, r.errorCode(), r.raw());
  }

  private static void assertUserObject(JsonObject user) {
    for (String field : List.of("id", "aud", "role", "email", "app_metadata", "user_metadata", "identities",
      "created_at", "updated_at", "is_anonymous")) {
      assertTrue(user.containsKey(field), "user lacks " + field + ": " + user.encode());
    }
    UUID.fromString(user.getString("id"));
    for (String secret : List.of("encrypted_password", "password", "password_hash")) {
      assertFalse(user.containsKey(secret), "user carries " + secret);
    }
  }

  private static boolean contains(JsonArray entries, String type, String userId) {
    return entries.stream().map(JsonObject.class::cast)
      .anyMatch(e -> type.equals(e.getString("type")) && userId.equals(e.getString("user_id")));
  }

  /** The next event of that type for that user published on auth.events (earlier others are dropped). */
  private static JsonObject awaitEvent(String type, String userId) throws InterruptedException {
    long deadline = System.nanoTime() + EVENT_WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      JsonObject event = EVENTS.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (event != null && type.equals(event.getString("type")) && userId.equals(event.getString("user_id"))) {
        return event;
      }
    }
    return fail("no " + type + " event for " + userId + " on " + Addresses.EVENTS);
  }

  private static JsonObject claims(String token) throws Exception {
    return new JsonObject(SignedJWT.parse(token).getJWTClaimsSet().toJSONObject());
  }
}
