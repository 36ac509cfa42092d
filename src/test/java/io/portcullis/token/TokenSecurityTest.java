package io.portcullis.token;

import io.portcullis.it.TempDirs;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.portcullis.bus.Addresses;
import io.portcullis.config.ConfigException;
import io.portcullis.config.ConfigLoader;
import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.DbRows;
import io.portcullis.it.TestApp;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.FileInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Access-token verification against forged tokens (after RFC 8725, JWT Best Current Practices): every forgery is
 * refused both on a Bearer route ({@code GET /user}, 403 {@code bad_jwt}) and on the bus ({@code auth.tokens.verify},
 * failure 403 with the error JSON). Forgeries that need a valid signature are signed with the server's own private
 * key, read from the database, so that the one changed claim is the only reason for the refusal — and a control
 * test shows an unchanged re-signed copy is accepted.
 */
@ExtendWith(AppExtension.class)
public class TokenSecurityTest {

  private static final String PASSWORD = "password123";
  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

  @App
  static TestApp app;
  /** A signed-up user's session: its access token is the template every forgery starts from. */
  static JsonObject session;
  static JsonObject claims;
  static String kid;
  static ECKey serverKey;

  @BeforeAll
  static void start() throws Exception {
    session = app.signUp(TestApp.uniqueEmail(), PASSWORD);
    String token = session.getString("access_token");
    claims = payload(token);
    kid = header(token).getString("kid");
    serverKey = ECKey.parse(currentPrivateJwk(app));
    assertEquals(kid, serverKey.getKeyID(), "the stored current key signs the tokens");
  }

  // ---- control ----

  @Test
  void resignedCopyOfARealTokenIsAccepted() {
    String token = sign(serverKey, kid, claims.copy());
    assertEquals(200, app.get(BASE + "/user", TestApp.bearer(token)).status());
    JsonObject verified = verifyOnBus(token);
    assertEquals(claims.getString("sub"), verified.getString("user_id"));
  }

  // ---- unsigned and wrongly signed ----

  @Test
  void algNoneIsRefusedWithOrWithoutTheTrailingDot() {
    String header = b64(new JsonObject().put("alg", "none").put("typ", "JWT").encode());
    String header2 = b64(new JsonObject().put("alg", "none").put("typ", "JWT").put("kid", kid).encode());
    String headerUpper = b64(new JsonObject().put("alg", "NONE").put("typ", "JWT").put("kid", kid).encode());
    String body = b64(claims.encode());
    String realSignature = session.getString("access_token").split("\\.")[2];
    for (String token : List.of(header + "." + body + ".", header + "." + body,
      header2 + "." + body + ".", header2 + "." + body, headerUpper + "." + body + "." + realSignature)) {
      assertRefused(token);
    }
  }

  @Test
  void hs256SignedWithThePublicJwkAsSecretIsRefused() throws Exception {
    JsonObject publicJwk = publishedJwks().getJsonArray("keys").getJsonObject(0);
    assertRefused(sign(new MACSigner(publicJwk.encode().getBytes(StandardCharsets.UTF_8)), JWSAlgorithm.HS256, kid,
      claims.copy()));
    assertRefused(sign(new MACSigner(serverKey.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8)),
      JWSAlgorithm.HS256, kid, claims.copy()));
  }

  @Test
  void hs256SignedWithThePublicKeyPemAsSecretIsRefused() throws Exception {
    byte[] spki = serverKey.toECPublicKey().getEncoded();
    String pem = "-----BEGIN PUBLIC KEY-----\n"
      + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(spki)
      + "\n-----END PUBLIC KEY-----\n";
    assertRefused(sign(new MACSigner(pem.getBytes(StandardCharsets.UTF_8)), JWSAlgorithm.HS256, kid, claims.copy()));
    assertRefused(sign(new MACSigner(pem.trim().getBytes(StandardCharsets.UTF_8)), JWSAlgorithm.HS256, null,
      claims.copy()));
    assertRefused(sign(new MACSigner(spki), JWSAlgorithm.HS256, kid, claims.copy()));
  }

  @Test
  void unknownKidIsRefusedEvenWhenSignedWithOurKey() throws Exception {
    ECKey foreign = new ECKeyGenerator(Curve.P_256).keyID("unknown-kid").generate();
    assertRefused(sign(foreign, "unknown-kid", claims.copy()));
    assertRefused(sign(serverKey, "unknown-kid", claims.copy()));
  }

  @Test
  void foreignKeyReusingOurKidIsRefused() throws Exception {
    ECKey foreign = new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
    assertRefused(sign(foreign, kid, claims.copy()));
    assertRefused(sign(foreign, null, claims.copy()));
  }

  @Test
  void tamperedPayloadIsRefused() {
    String[] parts = session.getString("access_token").split("\\.");
    JsonObject otherUser = payload(app.signUp(TestApp.uniqueEmail(), PASSWORD).getString("access_token"));
    assertRefused(parts[0] + "." + b64(claims.copy().put("sub", otherUser.getString("sub"))
      .put("session_id", otherUser.getString("session_id")).encode()) + "." + parts[2]);
    assertRefused(parts[0] + "." + b64(claims.copy().put("role", "service_role").encode()) + "." + parts[2]);
    assertRefused(parts[0] + "." + b64(claims.copy().put("exp", claims.getLong("exp") + 86_400).encode()) + "." + parts[2]);
  }

  @Test
  void tamperedHeaderIsRefused() {
    String[] parts = session.getString("access_token").split("\\.");
    JsonObject header = header(session.getString("access_token"));
    assertRefused(b64(header.copy().put("typ", "at+jwt").encode()) + "." + parts[1] + "." + parts[2]);
    assertRefused(b64(header.copy().put("cty", "JWT").encode()) + "." + parts[1] + "." + parts[2]);
    assertRefused(b64(header.copy().put("alg", "ES384").encode()) + "." + parts[1] + "." + parts[2]);
  }

  @Test
  void truncatedOrMissingSignatureIsRefused() {
    String token = session.getString("access_token");
    String[] parts = token.split("\\.");
    assertRefused(token.substring(0, token.length() - 4));
    assertRefused(parts[0] + "." + parts[1] + "." + parts[2].substring(0, parts[2].length() / 2));
    assertRefused(parts[0] + "." + parts[1] + ".");
    assertRefused(parts[0] + "." + parts[1]);
    assertRefused(parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[2]);
  }

  @Test
  void garbageBearerValuesAreRefusedAsBadJwt() {
    assertRefused("not-a-jwt");
    assertRefused("a.b.c");
    assertRefused("....");
  }

  // ---- claims, signed with our real key so that only the claim is wrong ----

  @Test
  void tokenWithoutExpIsRefused() {
    JsonObject noExp = claims.copy();
    noExp.remove("exp");
    assertRefused(sign(serverKey, kid, noExp));
  }

  @Test
  void expiredTokenIsRefused() {
    long now = app.clock.instant().getEpochSecond();
    assertRefused(sign(serverKey, kid, claims.copy().put("iat", now - 3_700).put("exp", now - 100)));
  }

  @Test
  void nonNumericTimeClaimsAreRefused() {
    assertRefused(sign(serverKey, kid, claims.copy().put("exp", "9999999999")));
    assertRefused(sign(serverKey, kid, claims.copy().put("exp", new JsonObject())));
    assertRefused(sign(serverKey, kid, claims.copy().put("iat", "now")));
    assertRefused(sign(serverKey, kid, claims.copy().put("nbf", true)));
  }

  @Test
  void notBeforeInTheFutureBeyondLeewayIsRefused() {
    long now = app.clock.instant().getEpochSecond();
    assertRefused(sign(serverKey, kid, claims.copy().put("nbf", now + 120)));
  }

  @Test
  void issuedAtInTheFutureBeyondLeewayIsRefused() {
    long now = app.clock.instant().getEpochSecond();
    assertRefused(sign(serverKey, kid, claims.copy().put("iat", now + 120).put("exp", now + 3_720)));
  }

  @Test
  void timeClaimsWithinLeewayAreAccepted() {
    long now = app.clock.instant().getEpochSecond();
    String token = sign(serverKey, kid, claims.copy().put("iat", now + 10).put("nbf", now + 10));
    assertEquals(200, app.get(BASE + "/user", TestApp.bearer(token)).status());
    verifyOnBus(token);
  }

  @Test
  void wrongIssuerIsRefused() {
    assertRefused(sign(serverKey, kid, claims.copy().put("iss", "https://evil.example.com/auth/v1")));
    JsonObject noIss = claims.copy();
    noIss.remove("iss");
    assertRefused(sign(serverKey, kid, noIss));
  }

  @Test
  void wrongAudienceIsRefused() {
    assertRefused(sign(serverKey, kid, claims.copy().put("aud", "service")));
    assertRefused(sign(serverKey, kid, claims.copy().put("aud", new JsonArray().add("other"))));
    JsonObject noAud = claims.copy();
    noAud.remove("aud");
    assertRefused(sign(serverKey, kid, noAud));
  }

  @Test
  void refreshTokenPresentedAsAccessTokenIsRefused() {
    assertRefused(session.getString("refresh_token"));
  }

  // ---- keys named or embedded by the token itself (RFC 8725 §3.10) ----

  @Test
  void tokensNamingOrEmbeddingAnAttackerKeyAreRefusedAndTheUrlsAreNeverFetched() throws Exception {
    ECKey attacker = selfSignedAttackerKey();
    AtomicInteger fetches = new AtomicInteger();
    HttpServer evil = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    byte[] jwks = new JWKSet(attacker.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
    evil.createContext("/", exchange -> {
      fetches.incrementAndGet();
      exchange.sendResponseHeaders(200, jwks.length);
      exchange.getResponseBody().write(jwks);
      exchange.close();
    });
    evil.start();
    try {
      URI base = URI.create("http://127.0.0.1:" + evil.getAddress().getPort());
      ECDSASigner signer = new ECDSASigner(attacker);
      for (String headerKid : new String[] {attacker.getKeyID(), kid, null}) {
        assertRefused(sign(signer, builder(JWSAlgorithm.ES256, headerKid).jwkURL(base.resolve("/jwks.json")), claims));
        assertRefused(sign(signer, builder(JWSAlgorithm.ES256, headerKid).x509CertURL(base.resolve("/cert.pem")), claims));
        assertRefused(sign(signer, builder(JWSAlgorithm.ES256, headerKid).jwk(attacker.toPublicJWK()), claims));
        assertRefused(sign(signer, builder(JWSAlgorithm.ES256, headerKid).x509CertChain(attacker.getX509CertChain()),
          claims));
      }
    } finally {
      evil.stop(0);
    }
    assertEquals(0, fetches.get(), "the service fetched a key from a URL named in a token");
  }

  // ---- Authorization header shapes and error shapes ----

  @Test
  void missingAuthorizationIsRefusedWithNoAuthorization() {
    TestApp.Response r = app.get(BASE + "/user");
    assertEquals(401, r.status(), r.raw());
    assertEquals("no_authorization", r.errorCode());
  }

  @Test
  void basicAuthorizationIsRefusedWithNoAuthorization() {
    TestApp.Response r = app.get(BASE + "/user", "Authorization", "Basic dXNlcjpwYXNz");
    assertEquals(401, r.status(), r.raw());
    assertEquals("no_authorization", r.errorCode());
  }

  @Test
  void badJwtHasTheVersionedShapeWhenTheApiVersionHeaderIsSent() {
    String forged = sign(serverKey, kid, claims.copy().put("aud", "service"));
    TestApp.Response r = app.get(BASE + "/user", "Authorization", "Bearer " + forged,
      "X-Supabase-Api-Version", "2024-01-01");
    assertEquals(403, r.status(), r.raw());
    assertEquals("2024-01-01", r.header("X-Supabase-Api-Version"));
    JsonObject body = r.json();
    assertEquals("bad_jwt", body.getValue("code"));
    assertInstanceOf(String.class, body.getValue("message"));
    assertFalse(body.containsKey("error_code"), r.raw());
    assertFalse(body.containsKey("msg"), r.raw());
  }

  @Test
  void badJwtHasTheLegacyShapeWithoutTheApiVersionHeader() {
    String forged = sign(serverKey, kid, claims.copy().put("aud", "service"));
    TestApp.Response r = app.get(BASE + "/user", TestApp.bearer(forged));
    assertEquals(403, r.status(), r.raw());
    assertNull(r.header("X-Supabase-Api-Version"));
    JsonObject body = r.json();
    assertEquals(403, body.getValue("code"));
    assertEquals("bad_jwt", body.getString("error_code"));
    assertInstanceOf(String.class, body.getValue("msg"));
    assertFalse(body.containsKey("message"), r.raw());
  }

  @Test
  void noAuthorizationHasTheVersionedShapeWhenTheApiVersionHeaderIsSent() {
    TestApp.Response r = app.get(BASE + "/user", "X-Supabase-Api-Version", "2024-01-01");
    assertEquals(401, r.status(), r.raw());
    assertEquals("2024-01-01", r.header("X-Supabase-Api-Version"));
    assertEquals("no_authorization", r.json().getValue("code"));
    assertInstanceOf(String.class, r.json().getValue("message"));
  }

  // ---- the genuine article, checked with an independent JOSE library ----

  @Test
  void accessTokenVerifiesAgainstThePublishedJwks() throws Exception {
    String email = TestApp.uniqueEmail();
    JsonObject fresh = app.signUp(email, PASSWORD);
    SignedJWT jwt = SignedJWT.parse(fresh.getString("access_token"));

    assertEquals(JWSAlgorithm.ES256, jwt.getHeader().getAlgorithm());
    assertEquals(JOSEObjectType.JWT, jwt.getHeader().getType());
    assertNotNull(jwt.getHeader().getKeyID());
    JWKSet keys = JWKSet.parse(app.get(BASE + "/.well-known/jwks.json").raw());
    JWK key = keys.getKeyByKeyId(jwt.getHeader().getKeyID());
    assertNotNull(key, "the token's kid is published");
    assertEquals(KeyType.EC, key.getKeyType());
    assertEquals(Curve.P_256, key.toECKey().getCurve());
    assertTrue(jwt.verify(new ECDSAVerifier(key.toECKey())), "signature verifies with the published key");

    JWTClaimsSet c = jwt.getJWTClaimsSet();
    JsonObject user = fresh.getJsonObject("user");
    long now = app.clock.instant().getEpochSecond();
    assertEquals(app.config.jwt().issuer(), c.getIssuer());
    assertEquals(app.url(BASE), c.getIssuer());
    assertEquals(user.getString("id"), c.getSubject());
    assertEquals(List.of("authenticated"), c.getAudience());
    long iat = c.getIssueTime().toInstant().getEpochSecond();
    assertTrue(Math.abs(now - iat) < 60, "iat is now");
    assertEquals(iat + app.config.jwt().exp(), c.getExpirationTime().toInstant().getEpochSecond());
    assertEquals(fresh.getLong("expires_at"), c.getExpirationTime().toInstant().getEpochSecond());
    assertEquals("authenticated", c.getStringClaim("role"));
    assertEquals("aal1", c.getStringClaim("aal"));
    List<Object> amr = c.getListClaim("amr");
    assertEquals(1, amr.size());
    Map<?, ?> method = (Map<?, ?>) amr.get(0);
    assertEquals("password", method.get("method"));
    assertInstanceOf(Number.class, method.get("timestamp"));
    UUID.fromString(c.getStringClaim("session_id"));
    assertEquals(email, c.getStringClaim("email"));
    assertTrue(c.getClaims().containsKey("phone"), "phone claim present (may be empty)");
    assertEquals("email", c.getJSONObjectClaim("app_metadata").get("provider"));
    assertEquals(List.of("email"), c.getJSONObjectClaim("app_metadata").get("providers"));
    assertNotNull(c.getJSONObjectClaim("user_metadata"));
    assertEquals(Boolean.FALSE, c.getBooleanClaim("is_anonymous"));
  }

  @Test
  void jwksIsCacheableAndHoldsNoPrivateMembers() throws Exception {
    TestApp.Response r = app.get(BASE + "/.well-known/jwks.json");
    assertEquals(200, r.status());
    assertTrue(r.header("Cache-Control").contains("max-age=600"), r.header("Cache-Control"));
    JsonArray keys = r.json().getJsonArray("keys");
    assertFalse(keys.isEmpty());
    for (Object o : keys) {
      JsonObject jwk = (JsonObject) o;
      for (String member : List.of("d", "p", "q", "dp", "dq", "qi", "k", "oth")) {
        assertFalse(jwk.containsKey(member), "JWKS publishes private member " + member);
      }
      assertEquals("EC", jwk.getString("kty"));
      assertEquals("P-256", jwk.getString("crv"));
      assertEquals("ES256", jwk.getString("alg"));
      assertEquals("sig", jwk.getString("use"));
      assertNotNull(jwk.getString("kid"));
      assertFalse(JWK.parse(jwk.encode()).isPrivate());
    }
    assertTrue(JWKSet.parse(r.raw()).getKeys().stream().anyMatch(k -> kid.equals(k.getKeyID())));
  }

  // ---- other algorithms ----

  @Test
  void rs256TokensCarryAKidAndVerifyAgainstTheRsaJwks() throws Exception {
    try (TestApp rs = TestApp.start(Map.of("PORTCULLIS_JWT_ALGORITHM", "RS256"))) {
      JsonObject fresh = rs.signUp(TestApp.uniqueEmail(), PASSWORD);
      SignedJWT jwt = SignedJWT.parse(fresh.getString("access_token"));
      assertEquals(JWSAlgorithm.RS256, jwt.getHeader().getAlgorithm());
      assertEquals(JOSEObjectType.JWT, jwt.getHeader().getType());
      assertNotNull(jwt.getHeader().getKeyID());
      JWKSet keys = JWKSet.parse(rs.get(BASE + "/.well-known/jwks.json").raw());
      JWK key = keys.getKeyByKeyId(jwt.getHeader().getKeyID());
      assertNotNull(key);
      assertEquals(KeyType.RSA, key.getKeyType());
      assertFalse(key.isPrivate());
      RSAKey rsa = key.toRSAKey();
      assertTrue(rsa.size() >= 2048, "RSA key of at least 2048 bits");
      assertTrue(jwt.verify(new RSASSAVerifier(rsa)));
      assertEquals(200, rs.get(BASE + "/user", TestApp.bearer(fresh.getString("access_token"))).status());

      // An ES256 token of another deployment means nothing here.
      TestApp.Response es = rs.get(BASE + "/user", TestApp.bearer(session.getString("access_token")));
      assertEquals(403, es.status(), es.raw());
      assertEquals("bad_jwt", es.errorCode());
    }
  }

  @Test
  void hs256DeploymentSignsWithTheSecretAndPublishesNoKeys() throws Exception {
    String secret = TestApp.randomSecret(40);
    try (TestApp hs = TestApp.start(Map.of("PORTCULLIS_JWT_ALGORITHM", "HS256", "PORTCULLIS_JWT_SECRET", secret))) {
      JsonObject fresh = hs.signUp(TestApp.uniqueEmail(), PASSWORD);
      String token = fresh.getString("access_token");
      SignedJWT jwt = SignedJWT.parse(token);
      assertEquals(JWSAlgorithm.HS256, jwt.getHeader().getAlgorithm());
      assertTrue(jwt.verify(new MACVerifier(secret.getBytes(StandardCharsets.UTF_8))));

      TestApp.Response jwks = hs.get(BASE + "/.well-known/jwks.json");
      assertEquals(200, jwks.status());
      assertEquals(new JsonObject().put("keys", new JsonArray()), jwks.json());

      TestApp.Response me = hs.get(BASE + "/user", TestApp.bearer(token));
      assertEquals(200, me.status(), me.raw());
      assertEquals(fresh.getJsonObject("user").getString("id"), me.json().getString("id"));

      TestApp.Response es = hs.get(BASE + "/user", TestApp.bearer(session.getString("access_token")));
      assertEquals(403, es.status(), es.raw());
      assertEquals("bad_jwt", es.errorCode());

      // Same claims, signed with another secret or not at all.
      JsonObject hsClaims = payload(token);
      TestApp.Response otherSecret = hs.get(BASE + "/user", TestApp.bearer(
        sign(new MACSigner(TestApp.randomSecret(40).getBytes(StandardCharsets.UTF_8)), JWSAlgorithm.HS256, null, hsClaims)));
      assertEquals(403, otherSecret.status(), otherSecret.raw());
      assertEquals("bad_jwt", otherSecret.errorCode());
      String none = b64(new JsonObject().put("alg", "none").put("typ", "JWT").encode()) + "." + b64(hsClaims.encode()) + ".";
      TestApp.Response unsigned = hs.get(BASE + "/user", TestApp.bearer(none));
      assertEquals(403, unsigned.status(), unsigned.raw());
      assertEquals("bad_jwt", unsigned.errorCode());
    }
  }

  @Test
  void hs256WithASecretShorterThan32CharactersFailsStartUp() {
    ConfigException error = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of(
      "PORTCULLIS_JWT_ALGORITHM", "HS256", "PORTCULLIS_JWT_SECRET", TestApp.randomSecret(31))));
    assertTrue(error.getMessage().contains("jwt.secret"), error.getMessage());
    ConfigException missing = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of(
      "PORTCULLIS_JWT_ALGORITHM", "HS256")));
    assertTrue(missing.getMessage().contains("jwt.secret"), missing.getMessage());
  }

  // ---- time and restarts ----

  @Test
  void accessTokenExpiresByTheServiceClock() {
    try (TestApp timed = TestApp.start()) {
      String token = timed.signUp(TestApp.uniqueEmail(), PASSWORD).getString("access_token");
      assertEquals(200, timed.get(BASE + "/user", TestApp.bearer(token)).status());
      timed.clock.advance(Duration.ofSeconds(timed.config.jwt().exp() + timed.config.jwt().leewaySeconds() + 1));
      TestApp.Response r = timed.get(BASE + "/user", TestApp.bearer(token));
      assertEquals(403, r.status(), r.raw());
      assertEquals("bad_jwt", r.errorCode());
      // Tokens issued at the moved time are valid at the moved time.
      String later = timed.signUp(TestApp.uniqueEmail(), PASSWORD).getString("access_token");
      TestApp.Response fresh = timed.get(BASE + "/user", TestApp.bearer(later));
      assertEquals(200, fresh.status(), fresh.raw());
    }
  }

  @Test
  void tokensIssuedBeforeARestartStillVerifyAfterIt() throws Exception {
    Path dataDir = TempDirs.create("portcullis-restart");
    // TestApp derives the issuer from a new free port on every start; a real restart keeps its URL.
    Map<String, String> sameIssuer = Map.of("PORTCULLIS_JWT_ISSUER", "http://portcullis.test/auth/v1");
    JsonObject before;
    String kidBefore;
    try (TestApp first = TestApp.start(dataDir, sameIssuer)) {
      before = first.signUp(TestApp.uniqueEmail(), PASSWORD);
      kidBefore = header(before.getString("access_token")).getString("kid");
    }
    try (TestApp second = TestApp.start(dataDir, sameIssuer)) {
      String token = before.getString("access_token");
      TestApp.Response me = second.get(BASE + "/user", TestApp.bearer(token));
      assertEquals(200, me.status(), me.raw());
      assertEquals(before.getJsonObject("user").getString("id"), me.json().getString("id"));
      JsonObject verified = request(second, Addresses.TOKENS_VERIFY, new JsonObject().put("token", token));
      assertEquals(me.json().getString("id"), verified.getString("user_id"));

      JsonObject after = second.signIn(before.getJsonObject("user").getString("email"), PASSWORD);
      assertEquals(kidBefore, header(after.getString("access_token")).getString("kid"));
      JWKSet keys = JWKSet.parse(second.get(BASE + "/.well-known/jwks.json").raw());
      assertNotNull(keys.getKeyByKeyId(kidBefore));
      assertTrue(SignedJWT.parse(token).verify(new ECDSAVerifier(keys.getKeyByKeyId(kidBefore).toECKey())));
    }
  }

  // ---- helpers ----

  /** Refused on the Bearer route (403 bad_jwt, legacy shape) and on the bus (403, error JSON with bad_jwt). */
  private static void assertRefused(String token) {
    TestApp.Response r = app.get(BASE + "/user", TestApp.bearer(token));
    assertEquals(403, r.status(), () -> "HTTP accepted or mis-refused " + token + ": " + r.raw());
    assertEquals("bad_jwt", r.errorCode(), r.raw());
    assertEquals(403, r.json().getValue("code"), r.raw());

    ReplyException failure = busFailure(app, Addresses.TOKENS_VERIFY, new JsonObject().put("token", token));
    assertEquals(403, failure.failureCode(), () -> "bus mis-refused " + token + ": " + failure.getMessage());
    JsonObject error = new JsonObject(failure.getMessage());
    assertEquals("bad_jwt", error.getString("error_code"), failure.getMessage());
    assertEquals(403, error.getValue("code"), failure.getMessage());
    assertInstanceOf(String.class, error.getValue("msg"));
  }

  private static JsonObject verifyOnBus(String token) {
    JsonObject verified = request(app, Addresses.TOKENS_VERIFY, new JsonObject().put("token", token));
    assertNotNull(verified.getJsonObject("claims"));
    assertNotNull(verified.getString("session_id"));
    return verified;
  }

  static JsonObject request(TestApp target, String address, Object body) {
    try {
      return target.vertx.eventBus().<JsonObject>request(address, body).map(Message::body)
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("bus request to " + address + " failed: " + e.getCause().getMessage(), e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  public static ReplyException busFailure(TestApp target, String address, Object body) {
    try {
      JsonObject reply = target.vertx.eventBus().<JsonObject>request(address, body).map(Message::body)
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      return fail("bus request to " + address + " succeeded: " + reply);
    } catch (ExecutionException e) {
      return assertInstanceOf(ReplyException.class, e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static String sign(ECKey key, String headerKid, JsonObject payload) {
    try {
      return sign(new ECDSASigner(key), JWSAlgorithm.ES256, headerKid, payload);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sign(JWSSigner signer, JWSAlgorithm alg, String headerKid, JsonObject payload) {
    return sign(signer, builder(alg, headerKid), payload);
  }

  private static JWSHeader.Builder builder(JWSAlgorithm alg, String headerKid) {
    JWSHeader.Builder builder = new JWSHeader.Builder(alg).type(JOSEObjectType.JWT);
    return headerKid == null ? builder : builder.keyID(headerKid);
  }

  /** Signs exactly this payload (no claim rewriting by the library). */
  private static String sign(JWSSigner signer, JWSHeader.Builder header, JsonObject payload) {
    try {
      JWSObject jws = new JWSObject(header.build(), new Payload(payload.encode()));
      jws.sign(signer);
      return jws.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonObject header(String token) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[0]), StandardCharsets.UTF_8));
  }

  public static JsonObject payload(String token) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8));
  }

  private static String b64(String json) {
    return B64URL.encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  private static JsonObject publishedJwks() {
    TestApp.Response r = app.get(BASE + "/.well-known/jwks.json");
    assertEquals(200, r.status());
    return r.json();
  }

  /** The current signing key's private JWK, as stored in signing_keys.private_jwk. */
  static String currentPrivateJwk(TestApp target) {
    String jwk = DbRows.string(target,
      "SELECT private_jwk FROM signing_keys WHERE activate_at <= now() ORDER BY activate_at DESC LIMIT 1");
    assertNotNull(jwk, "a current signing key exists");
    return jwk;
  }

  /** An attacker's P-256 key with a self-signed certificate (made by keytool), for the x5c header. */
  private static ECKey selfSignedAttackerKey() throws Exception {
    Path dir = Files.createTempDirectory("attacker");
    Path store = dir.resolve("attacker.p12");
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
      "-genkeypair", "-alias", "attacker", "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA",
      "-dname", "CN=attacker.example.com", "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
      "-storepass", "changeit", "-keypass", "changeit")
      .redirectErrorStream(true).start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0, "keytool failed: " + output);
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(store.toFile())) {
      keyStore.load(in, "changeit".toCharArray());
    }
    X509Certificate cert = (X509Certificate) keyStore.getCertificate("attacker");
    ECPrivateKey privateKey = (ECPrivateKey) keyStore.getKey("attacker", "changeit".toCharArray());
    return new ECKey.Builder(Curve.P_256, (ECPublicKey) cert.getPublicKey())
      .privateKey(privateKey)
      .keyID("attacker-" + UUID.randomUUID())
      .x509CertChain(List.of(com.nimbusds.jose.util.Base64.encode(cert.getEncoded())))
      .build();
  }
}
