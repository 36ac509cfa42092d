package io.portcullis.hooks;

import io.portcullis.bus.Addresses;
import io.portcullis.it.CommandLine;
import io.portcullis.it.DbRows;
import io.portcullis.it.Mailbox;
import io.portcullis.it.TestApp;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.portcullis.it.ErrorShapes.assertLegacy;
import static io.portcullis.it.TestApp.BASE;
import static io.portcullis.it.TestApp.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The before-user-created hook asked by every way a user comes to be, not only the password sign-up: admin create,
 * invite and generate_link, one-time-code sign-up, anonymous sign-in (over HTTP and the bus) and sign-in through an
 * external provider. The hook (a consumer on the bus, as an application would serve it) refuses addresses starting
 * with {@code blocked-} and metadata saying {@code blocked}; a refusal answers 403 {@code hook_rejected} and leaves
 * no user row, an allowed creation goes on.
 */
class BeforeUserCreatedTest {

  static final String SITE = "https://app.portcullis.test";
  static final String CLIENT = "portcullis-client";
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static MockOAuth2Server provider;
  static Mailbox mailbox;
  static TestApp app;
  static String serviceKey;
  static MessageConsumer<JsonObject> hook;

  @BeforeAll
  static void start() throws Exception {
    provider = new MockOAuth2Server();
    provider.start(InetAddress.getByName("127.0.0.1"), 0);
    mailbox = Mailbox.start();
    Map<String, String> env = new HashMap<>(mailbox.env());
    env.put("PORTCULLIS_SITE_URL", SITE);
    env.put("PORTCULLIS_SIGNUP_ANONYMOUS_ENABLED", "true");
    env.put("PORTCULLIS_HOOKS_BEFORE_USER_CREATED_ENABLED", "true");
    env.put("PORTCULLIS_EXTERNAL_KEYCLOAK_ENABLED", "true");
    env.put("PORTCULLIS_EXTERNAL_KEYCLOAK_CLIENT_ID", CLIENT);
    env.put("PORTCULLIS_EXTERNAL_KEYCLOAK_SECRET", "client-secret");
    env.put("PORTCULLIS_EXTERNAL_KEYCLOAK_URL", provider.issuerUrl("default").toString());
    app = TestApp.start(env);
    hook = app.vertx.eventBus().consumer(Addresses.HOOK_BEFORE_USER_CREATED, message -> {
      JsonObject user = message.body().getJsonObject("user");
      boolean blocked = user.getString("email", "").startsWith("blocked-")
        || user.getJsonObject("user_metadata", new JsonObject()).getBoolean("blocked", false);
      message.reply(blocked ? new JsonObject().put("decision", "reject").put("message", "Invitation only")
        : new JsonObject());
    });
    hook.completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    serviceKey = CommandLine.serviceKey(app);
  }

  @AfterAll
  static void stop() {
    try {
      app.close();
    } finally {
      mailbox.close();
      provider.shutdown();
    }
  }

  static long users(String email) {
    return DbRows.number(app, "SELECT count(*) FROM users WHERE email = ?", email);
  }

  static void assertRefused(TestApp.Response r) {
    assertEquals("Invitation only", assertLegacy(r, 403, "hook_rejected").getString("msg"));
  }

  // ---- admin ----

  @Test
  void anAdminCreatedUserIsPutToTheHook() {
    String blocked = "blocked-" + TestApp.uniqueEmail();
    assertRefused(app.postJson(BASE + "/admin/users", new JsonObject().put("email", blocked)
      .put("password", "password123").put("email_confirm", true), bearer(serviceKey)));
    assertEquals(0, users(blocked));

    String allowed = TestApp.uniqueEmail();
    TestApp.Response created = app.postJson(BASE + "/admin/users", new JsonObject().put("email", allowed)
      .put("password", "password123").put("email_confirm", true), bearer(serviceKey));
    assertEquals(200, created.status(), created.raw());
    assertEquals(1, users(allowed));
  }

  @Test
  void anInvitationIsPutToTheHook() {
    String blocked = "blocked-" + TestApp.uniqueEmail();
    assertRefused(app.postJson(BASE + "/invite", new JsonObject().put("email", blocked), bearer(serviceKey)));
    assertEquals(0, users(blocked));
    assertEquals(0, mailbox.count(blocked));

    String allowed = TestApp.uniqueEmail();
    TestApp.Response invited = app.postJson(BASE + "/invite", new JsonObject().put("email", allowed),
      bearer(serviceKey));
    assertEquals(200, invited.status(), invited.raw());
    assertEquals(1, users(allowed));
  }

  @Test
  void everyGenerateLinkTypeThatCreatesAUserIsPutToTheHook() {
    for (String type : List.of("signup", "magiclink", "invite")) {
      String blocked = "blocked-" + TestApp.uniqueEmail();
      assertRefused(app.postJson(BASE + "/admin/generate_link", new JsonObject().put("type", type)
        .put("email", blocked).put("password", "password123"), bearer(serviceKey)));
      assertEquals(0, users(blocked), type);

      String allowed = TestApp.uniqueEmail();
      TestApp.Response link = app.postJson(BASE + "/admin/generate_link", new JsonObject().put("type", type)
        .put("email", allowed).put("password", "password123"), bearer(serviceKey));
      assertEquals(200, link.status(), type + ": " + link.raw());
      assertEquals(1, users(allowed), type);
    }
  }

  // ---- one-time codes ----

  @Test
  void aOneTimeCodeSignUpIsPutToTheHookButASignInOfAnExistingUserIsNot() {
    String blocked = "blocked-" + TestApp.uniqueEmail();
    assertRefused(app.postJson(BASE + "/otp", new JsonObject().put("email", blocked)));
    assertEquals(0, users(blocked));
    assertEquals(0, mailbox.count(blocked));

    String allowed = TestApp.uniqueEmail();
    TestApp.Response sent = app.postJson(BASE + "/otp", new JsonObject().put("email", allowed));
    assertEquals(200, sent.status(), sent.raw());
    assertEquals(1, users(allowed));
    assertNotNull(mailbox.next(allowed));

    // The hook is about creating users: an account that exists (made before the rule) still gets its code.
    String existing = "blocked-" + TestApp.uniqueEmail();
    DbRows.update(app, "INSERT INTO users (id, email, email_confirmed_at, created_at, updated_at) "
      + "VALUES (?, ?, now(), now(), now())", UUID.randomUUID(), existing);
    TestApp.Response again = app.postJson(BASE + "/otp", new JsonObject().put("email", existing));
    assertEquals(200, again.status(), again.raw());
    assertNotNull(mailbox.next(existing));
  }

  // ---- anonymous ----

  @Test
  void anAnonymousSignInIsPutToTheHookOverHttpAndTheBus() throws Exception {
    String marker = UUID.randomUUID().toString();
    JsonObject blocked = new JsonObject().put("blocked", true).put("marker", marker);
    assertRefused(app.postJson(BASE + "/signup", new JsonObject().put("data", blocked)));
    ExecutionException overBus = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
      () -> app.vertx.eventBus().request(Addresses.USERS_SIGNUP, new JsonObject().put("data", blocked),
        new DeliveryOptions().setSendTimeout(10_000)).toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS));
    ReplyException failure = assertInstanceOf(ReplyException.class, overBus.getCause());
    assertEquals(403, failure.failureCode());
    assertEquals("hook_rejected", new JsonObject(failure.getMessage()).getString("error_code"));
    assertEquals(0, DbRows.number(app, "SELECT count(*) FROM users WHERE user_metadata->>'marker' = ?", marker));

    TestApp.Response signedIn = app.postJson(BASE + "/signup",
      new JsonObject().put("data", new JsonObject().put("marker", marker)));
    assertEquals(200, signedIn.status(), signedIn.raw());
    assertEquals(true, signedIn.json().getJsonObject("user").getBoolean("is_anonymous"));
    JsonObject overBusAllowed = app.vertx.eventBus().<JsonObject>request(Addresses.USERS_SIGNUP,
        new JsonObject().put("data", new JsonObject().put("marker", marker)), new DeliveryOptions().setSendTimeout(10_000))
      .toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS).body();
    assertNotNull(overBusAllowed.getString("access_token"));
    assertEquals(2, DbRows.number(app, "SELECT count(*) FROM users WHERE user_metadata->>'marker' = ?", marker));
  }

  @Test
  void aPasswordSignUpOverTheBusIsPutToTheHook() throws Exception {
    String blocked = "blocked-" + TestApp.uniqueEmail();
    ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
      () -> app.vertx.eventBus().request(Addresses.USERS_SIGNUP,
        new JsonObject().put("email", blocked).put("password", "password123"),
        new DeliveryOptions().setSendTimeout(10_000)).toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS));
    ReplyException failure = assertInstanceOf(ReplyException.class, refused.getCause());
    assertEquals(403, failure.failureCode());
    assertEquals("hook_rejected", new JsonObject(failure.getMessage()).getString("error_code"));
    assertEquals(0, users(blocked));
  }

  // ---- external providers ----

  @Test
  void aUserMadeByAnExternalProviderIsPutToTheHook() {
    String blocked = "blocked-" + TestApp.uniqueEmail();
    URI refused = providerSignIn(blocked);
    assertTrue(refused.toString().startsWith(SITE + "/cb?"), refused.toString());
    Map<String, String> query = io.portcullis.it.Mailbox.query(refused.getRawQuery());
    assertEquals("hook_rejected", query.get("error_code"), refused.toString());
    assertEquals("Invitation only", query.get("error_description"), refused.toString());
    assertEquals(0, users(blocked));

    String allowed = TestApp.uniqueEmail();
    URI signedIn = providerSignIn(allowed);
    assertTrue(signedIn.toString().startsWith(SITE + "/cb#"), signedIn.toString());
    assertEquals(1, users(allowed));
  }

  /** The whole implicit flow at the provider for a new subject with this verified email; where it ends. */
  static URI providerSignIn(String email) {
    provider.enqueueCallback(new DefaultOAuth2TokenCallback("default", UUID.randomUUID().toString(), "JWT",
      List.of(CLIENT), Map.of("email", email, "email_verified", true), 3600));
    String authorize = location(get(app.url(BASE + "/authorize?provider=keycloak&redirect_to=" + SITE + "/cb")));
    String callback = location(get(authorize));
    return URI.create(location(get(callback)));
  }

  static HttpResponse<String> get(String url) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static String location(HttpResponse<String> response) {
    assertEquals(302, response.statusCode(), response.uri() + ": " + response.body());
    return response.headers().firstValue("Location").orElseThrow();
  }
}
