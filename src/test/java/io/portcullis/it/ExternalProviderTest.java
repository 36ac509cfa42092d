package io.portcullis.it;

import com.nimbusds.jwt.JWTClaimsSet;
import io.portcullis.flow.Pkce;
import io.vertx.core.json.JsonArray;
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
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BiFunction;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sign-in through an external OpenID Connect provider, against a real one (mock-oauth2-server: discovery, JWKS,
 * authorization code with PKCE, ID tokens with the nonce): the browser's redirects followed one by one, the
 * session or the error at the end, and the database checked for what a failed sign-in must not leave behind.
 */
class ExternalProviderTest {

  static final String SITE = "https://app.portcullis.test";
  static final String CLIENT = "portcullis-client";
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static MockOAuth2Server provider;
  /** A provider (configured as "oidc") whose token endpoint answers forged ID tokens. */
  static ForgingProvider forging;
  static String issuer;
  static TestApp app;

  @BeforeAll
  static void start() throws Exception {
    provider = new MockOAuth2Server();
    provider.start(InetAddress.getByName("127.0.0.1"), 0);
    forging = new ForgingProvider();
    issuer = provider.issuerUrl("default").toString();
    Map<String, String> env = new HashMap<>();
    env.put("PORTCULLIS_SITE_URL", SITE);
    env.put("PORTCULLIS_EXTERNAL_KEYCLOAK_ENABLED", "true");
    env.put("PORTCULLIS_EXTERNAL_KEYCLOAK_CLIENT_ID", CLIENT);
    env.put("PORTCULLIS_EXTERNAL_KEYCLOAK_SECRET", "client-secret");
    env.put("PORTCULLIS_EXTERNAL_KEYCLOAK_URL", issuer);
    env.put("PORTCULLIS_SECURITY_MANUAL_LINKING_ENABLED", "true");
    env.put("PORTCULLIS_SIGNUP_ANONYMOUS_ENABLED", "true");
    env.put("PORTCULLIS_EXTERNAL_OIDC_ENABLED", "true");
    env.put("PORTCULLIS_EXTERNAL_OIDC_CLIENT_ID", CLIENT);
    env.put("PORTCULLIS_EXTERNAL_OIDC_URL", forging.issuer);
    app = TestApp.start(env);
  }

  @AfterAll
  static void stop() {
    try {
      app.close();
    } finally {
      provider.shutdown();
      forging.close();
    }
  }

  // ---- helpers ----

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

  /** The provider signs the next sign-in in as this subject with these claims and audience. */
  static void nextUser(String subject, String email, boolean verified, List<String> audience) {
    provider.enqueueCallback(new DefaultOAuth2TokenCallback("default", subject, "JWT", audience,
      Map.of("email", email, "email_verified", verified, "name", "Ada Lovelace"), 3600));
  }

  /** Starts a flow at Portcullis; answers the provider's authorization URL. */
  static String authorize(String query) {
    return authorize("keycloak", issuer, query);
  }

  static String authorize(String name, String at, String query) {
    String url = location(get(app.url(BASE + "/authorize?provider=" + name + "&redirect_to=" + SITE + "/cb" + query)));
    assertTrue(url.startsWith(at + "/authorize?"), url);
    return url;
  }

  /** The provider's answer to its authorization URL: the callback URL at Portcullis. */
  static String atProvider(String authorizeUrl) {
    String callback = location(get(authorizeUrl));
    assertTrue(callback.startsWith(app.url(BASE + "/callback?")), callback);
    return callback;
  }

  /** The whole implicit flow; answers where Portcullis finally sends the browser. */
  static URI signIn(String query) {
    return URI.create(location(get(atProvider(authorize(query)))));
  }

  static Map<String, String> params(String raw) {
    return raw == null ? Map.of() : Mailbox.query(raw);
  }

  static void assertErrorRedirect(URI target, String expectedBase, String errorCode) {
    assertTrue(target.toString().startsWith(expectedBase + "?"), target.toString());
    Map<String, String> query = params(target.getRawQuery());
    Map<String, String> fragment = params(target.getRawFragment());
    assertEquals(errorCode, query.get("error_code"), target.toString());
    assertEquals(errorCode, fragment.get("error_code"), target.toString());
    assertNotNull(query.get("error"), target.toString());
    assertNotNull(query.get("error_description"), target.toString());
  }

  static long count(String sql, Object... args) {
    Properties props = new Properties();
    props.setProperty("user", app.database.user());
    if (app.database.password() != null) {
      props.setProperty("password", app.database.password());
    }
    try (Connection c = DriverManager.getConnection(app.database.jdbcUrl(), props);
         PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        s.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static long users(String email) {
    return count("SELECT count(*) FROM users WHERE email = ?", email);
  }

  static long identities(String subject) {
    return count("SELECT count(*) FROM identities WHERE provider_id = ?", subject);
  }

  static String replace(String url, String param, String value) {
    return url.replaceFirst("([?&]" + param + "=)[^&]*", "$1" + value);
  }

  // ---- success ----

  @Test
  void aNewUserSignsInWithTheSessionInTheFragment() {
    String subject = UUID.randomUUID().toString();
    String email = TestApp.uniqueEmail();
    nextUser(subject, email, true, List.of(CLIENT));
    String authorizeUrl = authorize("");
    Map<String, String> toProvider = params(URI.create(authorizeUrl).getRawQuery());
    assertEquals(CLIENT, toProvider.get("client_id"));
    assertEquals("S256", toProvider.get("code_challenge_method"));
    assertNotNull(toProvider.get("nonce"));
    assertTrue(toProvider.get("scope").contains("openid"), toProvider.toString());
    UUID.fromString(toProvider.get("state"));

    URI target = URI.create(location(get(atProvider(authorizeUrl))));
    assertTrue(target.toString().startsWith(SITE + "/cb#"), target.toString());
    Map<String, String> fragment = params(target.getRawFragment());
    assertEquals("bearer", fragment.get("token_type"));
    assertNotNull(fragment.get("refresh_token"));
    assertNotNull(fragment.get("provider_token"), "the provider's access token, as GoTrue returns it");
    TestApp.Response me = app.get(BASE + "/user", TestApp.bearer(fragment.get("access_token")));
    assertEquals(200, me.status(), me.raw());
    JsonObject user = me.json();
    assertEquals(email, user.getString("email"));
    assertNotNull(user.getString("email_confirmed_at"));
    assertEquals("keycloak", user.getJsonObject("app_metadata").getString("provider"));
    assertEquals(new JsonArray().add("keycloak"), user.getJsonObject("app_metadata").getJsonArray("providers"));
    assertEquals("Ada Lovelace", user.getJsonObject("user_metadata").getString("full_name"));
    JsonArray ids = user.getJsonArray("identities");
    assertEquals(1, ids.size(), ids.encode());
    assertEquals("keycloak", ids.getJsonObject(0).getString("provider"));
    assertEquals(subject, ids.getJsonObject(0).getString("id"));
    assertEquals(1, users(email));
  }

  @Test
  void aReturningUserGetsTheSameAccount() {
    String subject = UUID.randomUUID().toString();
    String email = TestApp.uniqueEmail();
    nextUser(subject, email, true, List.of(CLIENT));
    String first = params(signIn("").getRawFragment()).get("access_token");
    nextUser(subject, email, true, List.of(CLIENT));
    String second = params(signIn("").getRawFragment()).get("access_token");
    String id1 = app.get(BASE + "/user", TestApp.bearer(first)).json().getString("id");
    String id2 = app.get(BASE + "/user", TestApp.bearer(second)).json().getString("id");
    assertEquals(id1, id2);
    assertEquals(1, users(email));
    assertEquals(1, identities(subject));
  }

  @Test
  void aVerifiedEmailLinksToTheExistingUser() {
    String email = TestApp.uniqueEmail();
    String id = app.signUp(email, "password123").getJsonObject("user").getString("id");
    String subject = UUID.randomUUID().toString();
    nextUser(subject, email, true, List.of(CLIENT));
    String token = params(signIn("").getRawFragment()).get("access_token");
    JsonObject user = app.get(BASE + "/user", TestApp.bearer(token)).json();
    assertEquals(id, user.getString("id"));
    assertEquals(new JsonArray().add("email").add("keycloak"),
      user.getJsonObject("app_metadata").getJsonArray("providers"));
    assertEquals(2, user.getJsonArray("identities").size(), user.encode());
    assertEquals(id, app.signIn(email, "password123").getJsonObject("user").getString("id"));
  }

  @Test
  void anUnverifiedEmailOfAnotherUserIsRefusedAndNothingIsLinked() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, "password123");
    String subject = UUID.randomUUID().toString();
    nextUser(subject, email, false, List.of(CLIENT));
    assertErrorRedirect(signIn(""), SITE + "/cb", "email_exists");
    assertEquals(0, identities(subject));
    assertEquals(1, users(email));
  }

  @Test
  void aPkceFlowEndsInACodeThatGivesTheSessionAndTheProviderToken() {
    String subject = UUID.randomUUID().toString();
    String email = TestApp.uniqueEmail();
    nextUser(subject, email, true, List.of(CLIENT));
    String verifier = UUID.randomUUID() + "-" + UUID.randomUUID();
    URI target = signIn("&code_challenge=" + Pkce.s256(verifier) + "&code_challenge_method=s256");
    assertTrue(target.toString().startsWith(SITE + "/cb?code="), target.toString());
    String code = params(target.getRawQuery()).get("code");
    TestApp.Response session = app.postJson(BASE + "/token?grant_type=pkce",
      new JsonObject().put("auth_code", code).put("code_verifier", verifier));
    assertEquals(200, session.status(), session.raw());
    assertEquals(email, session.json().getJsonObject("user").getString("email"));
    assertNotNull(session.json().getString("provider_token"), session.raw());
    ErrorShapes.assertError(404, "flow_state_not_found", h -> app.postJson(BASE + "/token?grant_type=pkce",
      new JsonObject().put("auth_code", code).put("code_verifier", verifier), h));
  }

  @Test
  void settingsListTheEnabledProvider() {
    JsonObject external = app.get(BASE + "/settings").json().getJsonObject("external");
    assertEquals(true, external.getBoolean("keycloak"));
    assertEquals(false, external.getBoolean("google"));
  }

  // ---- failures: each a redirect with the error, and nothing left behind ----

  @Test
  void anUnknownProviderIsRefused() {
    ErrorShapes.assertError(400, "validation_failed", h -> app.get(BASE + "/authorize?provider=myspace", h));
    ErrorShapes.assertError(400, "validation_failed", h -> app.get(BASE + "/authorize", h));
  }

  @Test
  void aTamperedStateGoesBackToTheSiteWithBadOauthState() {
    String callback = atProvider(authorize(""));
    assertErrorRedirect(URI.create(location(get(replace(callback, "state", UUID.randomUUID().toString())))), SITE,
      "bad_oauth_state");
    assertErrorRedirect(URI.create(location(get(replace(callback, "state", "not-a-uuid")))), SITE, "bad_oauth_state");
  }

  @Test
  void aReplayedCallbackIsRefused() {
    String subject = UUID.randomUUID().toString();
    String email = TestApp.uniqueEmail();
    nextUser(subject, email, true, List.of(CLIENT));
    String callback = atProvider(authorize(""));
    assertNotNull(params(URI.create(location(get(callback))).getRawFragment()).get("access_token"));
    assertErrorRedirect(URI.create(location(get(callback))), SITE + "/cb", "flow_state_already_used");

    // The same code injected into a new flow: this provider redeems it again, but its ID token carries the first
    // flow's nonce, so the sign-in fails.
    String other = atProvider(authorize(""));
    String code = params(URI.create(callback).getRawQuery()).get("code");
    assertErrorRedirect(URI.create(location(get(replace(other, "code", code)))), SITE + "/cb", "bad_id_token");
    assertEquals(1, users(email));
  }

  @Test
  void aWrongNonceFailsTheSignInAndCreatesNoUser() {
    String subject = UUID.randomUUID().toString();
    String email = TestApp.uniqueEmail();
    nextUser(subject, email, true, List.of(CLIENT));
    String tampered = replace(authorize(""), "nonce", "attacker-nonce");
    assertErrorRedirect(URI.create(location(get(atProvider(tampered)))), SITE + "/cb", "bad_id_token");
    assertEquals(0, users(email));
    assertEquals(0, identities(subject));
  }

  /** A sign-in at the forging provider whose token endpoint answers {@code forge}'s ID token. */
  static URI forgedSignIn(BiFunction<JWTClaimsSet.Builder, ForgingProvider, String> forge) {
    forging.forge = forge;
    return URI.create(location(get(atProvider(authorize("oidc", forging.issuer, "")))));
  }

  @Test
  void theForgingProvidersHonestTokenSignsIn() {
    String email = TestApp.uniqueEmail();
    URI target = forgedSignIn((claims, p) -> ForgingProvider.sign(claims.subject("s-" + UUID.randomUUID())
      .audience(CLIENT).claim("email", email).claim("email_verified", true).build(), p.published));
    assertNotNull(params(target.getRawFragment()).get("access_token"), target.toString());
    assertEquals(1, users(email));
  }

  @Test
  void anIdTokenForAnotherAudienceFailsTheSignIn() {
    String email = TestApp.uniqueEmail();
    assertErrorRedirect(forgedSignIn((claims, p) -> ForgingProvider.sign(claims.subject("s-" + UUID.randomUUID())
      .audience("another-client").claim("email", email).claim("email_verified", true).build(), p.published)),
      SITE + "/cb", "bad_id_token");
    assertEquals(0, users(email));
  }

  @Test
  void anIdTokenSignedByAForeignKeyFailsTheSignIn() {
    String email = TestApp.uniqueEmail();
    // Same kid, same claims, a key the provider does not publish.
    assertErrorRedirect(forgedSignIn((claims, p) -> ForgingProvider.sign(claims.subject("s-" + UUID.randomUUID())
      .audience(CLIENT).claim("email", email).claim("email_verified", true).build(), p.foreign)),
      SITE + "/cb", "bad_id_token");
    assertEquals(0, users(email));
  }

  @Test
  void anExpiredIdTokenFailsTheSignIn() {
    String email = TestApp.uniqueEmail();
    assertErrorRedirect(forgedSignIn((claims, p) -> ForgingProvider.sign(claims.subject("s-" + UUID.randomUUID())
      .audience(CLIENT).claim("email", email).expirationTime(new java.util.Date(System.currentTimeMillis() - 600_000))
      .build(), p.published)), SITE + "/cb", "bad_id_token");
    assertEquals(0, users(email));
  }

  @Test
  void aMissingIdTokenFailsTheSignIn() {
    assertErrorRedirect(forgedSignIn((claims, p) -> null), SITE + "/cb", "bad_oauth_callback");
  }

  @Test
  void aFlowOlderThanFiveMinutesHasExpired() {
    String subject = UUID.randomUUID().toString();
    String email = TestApp.uniqueEmail();
    nextUser(subject, email, true, List.of(CLIENT));
    String callback = atProvider(authorize(""));
    app.clock.advance(Duration.ofSeconds(301));
    assertErrorRedirect(URI.create(location(get(callback))), SITE + "/cb", "flow_state_expired");
    assertEquals(0, users(email));
  }

  @Test
  void aProviderErrorIsPassedOnToTheApp() {
    String callback = atProvider(authorize(""));
    String state = params(URI.create(callback).getRawQuery()).get("state");
    URI target = URI.create(location(get(app.url(BASE + "/callback?error=access_denied&error_description="
      + "The+user+cancelled&state=" + state))));
    assertErrorRedirect(target, SITE + "/cb", "bad_oauth_callback");
    assertEquals("access_denied", params(target.getRawQuery()).get("error"));
    assertEquals("The user cancelled", params(target.getRawQuery()).get("error_description"));
  }

  // ---- signInWithIdToken ----

  static String hex(String raw) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(raw.getBytes(StandardCharsets.UTF_8)));
  }

  static TestApp.Response idTokenGrant(String idToken, String nonce, String... headers) {
    JsonObject body = new JsonObject().put("provider", "keycloak").put("id_token", idToken);
    if (nonce != null) {
      body.put("nonce", nonce);
    }
    return app.postJson(BASE + "/token?grant_type=id_token", body, headers);
  }

  @Test
  void anIdTokenWithTheHashedNonceSignsIn() throws Exception {
    String email = TestApp.uniqueEmail();
    String raw = UUID.randomUUID().toString();
    String token = provider.issueToken("default", CLIENT, new DefaultOAuth2TokenCallback("default",
      UUID.randomUUID().toString(), "JWT", List.of(CLIENT),
      Map.of("email", email, "email_verified", true, "nonce", hex(raw)), 3600)).serialize();
    TestApp.Response r = idTokenGrant(token, raw);
    assertEquals(200, r.status(), r.raw());
    assertEquals(email, r.json().getJsonObject("user").getString("email"));
    ErrorShapes.assertError(400, "bad_id_token", h -> idTokenGrant(token, "another-nonce", h));
    ErrorShapes.assertError(400, "bad_id_token", h -> idTokenGrant(token, null, h));
  }

  @Test
  void idTokensOfForeignKeysOrAudiencesAreRefused() {
    String email = TestApp.uniqueEmail();
    String forged = ForgingProvider.sign(new JWTClaimsSet.Builder().issuer(issuer)
      .subject("s-" + UUID.randomUUID()).audience(CLIENT).claim("email", email).claim("email_verified", true)
      .expirationTime(new java.util.Date(System.currentTimeMillis() + 300_000)).build(), forging.foreign);
    ErrorShapes.assertError(400, "bad_id_token", h -> idTokenGrant(forged, null, h));
    String otherAudience = provider.issueToken("default", "another-client", new DefaultOAuth2TokenCallback("default",
      "s-" + UUID.randomUUID(), "JWT", List.of("another-client"), Map.of("email", email), 3600)).serialize();
    ErrorShapes.assertError(400, "bad_id_token", h -> idTokenGrant(otherAudience, null, h));
    String[] parts = otherAudience.split("\\.");
    String unsigned = java.util.Base64.getUrlEncoder().withoutPadding()
      .encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "." + parts[1] + ".";
    ErrorShapes.assertError(400, "bad_id_token", h -> idTokenGrant(unsigned, null, h));
    assertEquals(0, users(email));
    assertNotEquals(0, count("SELECT count(*) FROM users"));
  }

  // ---- linkIdentity / unlinkIdentity ----

  @Test
  void linkIdentityAddsTheProviderToTheSignedInUserAndUnlinkRemovesIt() {
    String email = TestApp.uniqueEmail();
    JsonObject session = app.signUp(email, "password123");
    String token = session.getString("access_token");
    String subject = UUID.randomUUID().toString();
    nextUser(subject, TestApp.uniqueEmail(), true, List.of(CLIENT));
    TestApp.Response link = app.get(BASE + "/user/identities/authorize?provider=keycloak&redirect_to=" + SITE
      + "/cb&skip_http_redirect=true", TestApp.bearer(token));
    assertEquals(200, link.status(), link.raw());
    URI target = URI.create(location(get(atProvider(link.json().getString("url")))));
    assertNotNull(params(target.getRawFragment()).get("access_token"), target.toString());

    JsonObject user = app.get(BASE + "/user", TestApp.bearer(token)).json();
    assertEquals(email, user.getString("email"));
    assertEquals(new JsonArray().add("email").add("keycloak"),
      user.getJsonObject("app_metadata").getJsonArray("providers"));
    JsonArray ids = user.getJsonArray("identities");
    assertEquals(2, ids.size(), ids.encode());
    String keycloakId = ids.stream().map(JsonObject.class::cast).filter(i -> "keycloak".equals(i.getString("provider")))
      .findFirst().orElseThrow().getString("identity_id");
    String emailId = ids.stream().map(JsonObject.class::cast).filter(i -> "email".equals(i.getString("provider")))
      .findFirst().orElseThrow().getString("identity_id");

    ErrorShapes.assertError(422, "identity_not_found", h -> app.request("DELETE",
      BASE + "/user/identities/" + UUID.randomUUID(), null, null, concat(h, TestApp.bearer(token))));
    TestApp.Response unlinked = app.request("DELETE", BASE + "/user/identities/" + keycloakId, null, null,
      TestApp.bearer(token));
    assertEquals(200, unlinked.status(), unlinked.raw());
    assertEquals(0, identities(subject));
    JsonObject after = app.get(BASE + "/user", TestApp.bearer(token)).json();
    assertEquals(1, after.getJsonArray("identities").size(), after.encode());
    assertEquals(new JsonArray().add("email"), after.getJsonObject("app_metadata").getJsonArray("providers"));
    ErrorShapes.assertError(422, "single_identity_not_deletable", h -> app.request("DELETE",
      BASE + "/user/identities/" + emailId, null, null, concat(h, TestApp.bearer(token))));
  }

  @Test
  void linkingAnIdentityOfAnotherUserIsRefused() {
    String subject = UUID.randomUUID().toString();
    nextUser(subject, TestApp.uniqueEmail(), true, List.of(CLIENT));
    signIn("");
    String token = app.signUp(TestApp.uniqueEmail(), "password123").getString("access_token");
    nextUser(subject, TestApp.uniqueEmail(), true, List.of(CLIENT));
    TestApp.Response link = app.get(BASE + "/user/identities/authorize?provider=keycloak&redirect_to=" + SITE
      + "/cb&skip_http_redirect=true", TestApp.bearer(token));
    assertErrorRedirect(URI.create(location(get(atProvider(link.json().getString("url"))))), SITE + "/cb",
      "identity_already_exists");
    assertEquals(1, identities(subject));
  }

  @Test
  void manualLinkingIsOffByDefault() {
    try (TestApp plain = TestApp.start()) {
      String token = plain.signUp(TestApp.uniqueEmail(), "password123").getString("access_token");
      ErrorShapes.assertError(404, "manual_linking_disabled", h -> plain.get(
        BASE + "/user/identities/authorize?provider=keycloak", concat(h, TestApp.bearer(token))));
      ErrorShapes.assertError(404, "manual_linking_disabled", h -> plain.request("DELETE",
        BASE + "/user/identities/" + UUID.randomUUID(), null, null, concat(h, TestApp.bearer(token))));
    }
  }

  @Test
  void anIdTokenLinksToTheBearerWithLinkIdentity() throws Exception {
    String email = TestApp.uniqueEmail();
    String token = app.signUp(email, "password123").getString("access_token");
    String subject = UUID.randomUUID().toString();
    String idToken = provider.issueToken("default", CLIENT, new DefaultOAuth2TokenCallback("default", subject, "JWT",
      List.of(CLIENT), Map.of("email", TestApp.uniqueEmail(), "email_verified", true), 3600)).serialize();
    JsonObject body = new JsonObject().put("provider", "keycloak").put("id_token", idToken).put("link_identity", true);
    ErrorShapes.assertError(403, "bad_jwt", h -> app.postJson(BASE + "/token?grant_type=id_token", body,
      concat(h, TestApp.bearer("not-a-token"))));
    TestApp.Response linked = app.postJson(BASE + "/token?grant_type=id_token", body, TestApp.bearer(token));
    assertEquals(200, linked.status(), linked.raw());
    assertEquals(email, linked.json().getJsonObject("user").getString("email"));
    assertEquals(2, linked.json().getJsonObject("user").getJsonArray("identities").size(), linked.raw());
    assertEquals(1, identities(subject));
  }

  @Test
  void anAccessTokenGivenBesideTheIdTokenMustMatchItsAtHash() throws Exception {
    String accessToken = "provider-access-" + UUID.randomUUID();
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(accessToken.getBytes(StandardCharsets.US_ASCII));
    String atHash = java.util.Base64.getUrlEncoder().withoutPadding()
      .encodeToString(java.util.Arrays.copyOf(digest, 16));
    String idToken = ForgingProvider.sign(new JWTClaimsSet.Builder().issuer(forging.issuer)
      .subject("s-" + UUID.randomUUID()).audience(CLIENT).claim("email", TestApp.uniqueEmail())
      .claim("email_verified", true).claim("at_hash", atHash)
      .expirationTime(new java.util.Date(System.currentTimeMillis() + 300_000)).build(), forging.published);
    JsonObject body = new JsonObject().put("provider", "oidc").put("id_token", idToken);
    ErrorShapes.assertError(400, "bad_id_token", h -> app.postJson(BASE + "/token?grant_type=id_token",
      body.copy().put("access_token", "another-access-token"), h));
    TestApp.Response ok = app.postJson(BASE + "/token?grant_type=id_token", body.copy().put("access_token", accessToken));
    assertEquals(200, ok.status(), ok.raw());
  }

  @Test
  void anAnonymousUserWhoLinksAnIdentityBecomesAPermanentUser() {
    TestApp.Response anonymous = app.postJson(BASE + "/signup", new JsonObject());
    assertEquals(200, anonymous.status(), anonymous.raw());
    String token = anonymous.json().getString("access_token");
    String email = TestApp.uniqueEmail();
    nextUser(UUID.randomUUID().toString(), email, true, List.of(CLIENT));
    TestApp.Response link = app.get(BASE + "/user/identities/authorize?provider=keycloak&redirect_to=" + SITE
      + "/cb&skip_http_redirect=true", TestApp.bearer(token));
    assertEquals(200, link.status(), link.raw());
    String fresh = params(URI.create(location(get(atProvider(link.json().getString("url"))))).getRawFragment())
      .get("access_token");
    JsonObject user = app.get(BASE + "/user", TestApp.bearer(fresh)).json();
    assertEquals(anonymous.json().getJsonObject("user").getString("id"), user.getString("id"));
    assertEquals(false, user.getBoolean("is_anonymous"));
    assertEquals(email, user.getString("email"));
    assertEquals(new JsonArray().add("keycloak"), user.getJsonObject("app_metadata").getJsonArray("providers"));
    assertEquals(1, user.getJsonArray("identities").size(), user.encode());
  }

  static String[] concat(String[] a, String[] b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
