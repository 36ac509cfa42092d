package io.portcullis.http;

import io.portcullis.it.CommandLine;
import io.portcullis.it.Mailbox;
import io.portcullis.it.NodeHarness;
import io.portcullis.it.Processes;
import io.portcullis.it.TestApp;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real-client test: the official {@code @supabase/supabase-js}, pinned by the committed package-lock.json in
 * src/test/js/supabase-e2e, drives a running Portcullis through e2e.mjs (sign-up, sign-in, user updates, a password
 * change, refresh, local ES256 verification via JWKS, the error codes the client maps, sign-out; the admin API with
 * a service key; password recovery and sign-up confirmation with the code from the mail; TOTP MFA with codes from
 * otplib, pinned beside it; anonymous sign-in and its conversion; re-authentication with the nonce from the mail;
 * with flowType 'pkce': signInWithOAuth through an OpenID Connect provider (mock-oauth2-server) to
 * exchangeCodeForSession, linkIdentity and unlinkIdentity, magic-link and recovery links ending in codes;
 * signInWithIdToken; admin.generateLink and inviteUserByEmail).
 * Mails go to a GreenMail
 * SMTP server in this JVM: a mail flow runs node twice, and between the two runs this test reads the code from the
 * mail the service really sent and hands it to the second. Skipped when node or npm is not on PATH; an npm install
 * that fails fails the test, since CI has node and the registry.
 */
class SupabaseJsTest {

  private static final String CLIENT_VERSION = "2.109.0";
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(120);
  private static final NodeHarness NODE = new NodeHarness("supabase-e2e", "supabase-js", "@supabase/supabase-js",
    CLIENT_VERSION, "ws");


  static Mailbox mailbox;
  /** The OpenID Connect provider {@link #app} offers as "keycloak". */
  static MockOAuth2Server provider;
  static final String OAUTH_CLIENT = "portcullis-e2e";
  /** Autoconfirm on (the default), anonymous sign-in on: sign-up answers a session; recovery mails go to {@link #mailbox}. */
  static TestApp app;
  /**
   * Autoconfirm off: sign-up answers a user and mails a confirmation to {@link #mailbox}; every password change
   * needs a re-authentication nonce.
   */
  static TestApp confirmingApp;

  @BeforeAll
  static void installClientAndStart() throws Exception {
    if (!NODE.present()) {
      return;
    }
    NODE.install();
    mailbox = Mailbox.start();
    Map<String, String> mail = mailbox.env();
    Map<String, String> main = new HashMap<>(mail);
    main.put("PORTCULLIS_SIGNUP_ANONYMOUS_ENABLED", "true");
    provider = new MockOAuth2Server();
    provider.start(InetAddress.getByName("127.0.0.1"), 0);
    main.put("PORTCULLIS_EXTERNAL_KEYCLOAK_ENABLED", "true");
    main.put("PORTCULLIS_EXTERNAL_KEYCLOAK_CLIENT_ID", OAUTH_CLIENT);
    main.put("PORTCULLIS_EXTERNAL_KEYCLOAK_SECRET", "client-secret");
    main.put("PORTCULLIS_EXTERNAL_KEYCLOAK_URL", provider.issuerUrl("default").toString());
    main.put("PORTCULLIS_SECURITY_MANUAL_LINKING_ENABLED", "true");
    app = TestApp.start(main);
    Map<String, String> confirming = new HashMap<>(mail);
    confirming.put("PORTCULLIS_SIGNUP_AUTOCONFIRM", "false");
    confirming.put("PORTCULLIS_SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION", "true");
    confirming.put("PORTCULLIS_SECURITY_REAUTHENTICATION_WINDOW_SECONDS", "0");
    confirmingApp = TestApp.start(confirming);
  }

  @AfterAll
  static void stop() {
    try {
      if (app != null) {
        app.close();
      }
    } finally {
      try {
        if (confirmingApp != null) {
          confirmingApp.close();
        }
      } finally {
        if (mailbox != null) {
          mailbox.close();
        }
        if (provider != null) {
          provider.shutdown();
        }
      }
    }
  }

  @Test
  void officialSupabaseJsClientSignsUpSignsInUpdatesRefreshesVerifiesClaimsAndSignsOut() throws Exception {
    // Here rather than in @BeforeAll: Surefire counts an aborted class as no test at all, not as a skipped one.
    requireTools();
    runFlow(app, "core", Map.of());
  }

  @Test
  void officialSupabaseJsAdminApiListsCreatesReadsUpdatesBansAndDeletesUsersWithTheServiceKey() throws Exception {
    requireTools();
    runFlow(app, "admin", Map.of("E2E_SERVICE_KEY", CommandLine.serviceKey(app)));
  }

  @Test
  void officialSupabaseJsEnrolsVerifiesAndUnenrolsATotpFactorWithCodesFromOtplib() throws Exception {
    requireTools();
    runFlow(app, "mfa", Map.of("E2E_SERVICE_KEY", CommandLine.serviceKey(app)));
  }

  @Test
  void officialSupabaseJsSignsInAnonymouslyAndConvertsTheUserWithAnEmail() throws Exception {
    requireTools();
    runFlow(app, "anonymous", Map.of());
  }

  @Test
  void officialSupabaseJsReauthenticatesWithTheNonceFromTheMailBeforeAPasswordChange() throws Exception {
    requireTools();
    String email = "e2e-reauth-" + UUID.randomUUID() + "@example.com";
    Map<String, String> account = Map.of("E2E_EMAIL", email, "E2E_PASSWORD", "before-Reauth-1");
    Map<String, String> request = new HashMap<>(account);
    request.put("E2E_SERVICE_KEY", CommandLine.serviceKey(confirmingApp));
    runFlow(confirmingApp, "reauth-request", request);
    // The re-authentication mail carries a code and no link.
    String code = codeFromMail(email, "");

    Map<String, String> complete = new HashMap<>(account);
    complete.put("E2E_CODE", code);
    complete.put("E2E_NEW_PASSWORD", "after-Reauth-2");
    runFlow(confirmingApp, "reauth-complete", complete);
  }

  @Test
  void officialSupabaseJsResetsAPasswordWithTheCodeFromTheRecoveryMail() throws Exception {
    requireTools();
    String email = "e2e-recovery-" + UUID.randomUUID() + "@example.com";
    Map<String, String> account = Map.of("E2E_EMAIL", email, "E2E_PASSWORD", "before-Recovery-1");

    runFlow(app, "recovery-request", account);
    String code = codeFromMail(email, "type=recovery");

    Map<String, String> complete = new HashMap<>(account);
    complete.put("E2E_CODE", code);
    complete.put("E2E_NEW_PASSWORD", "after-Recovery-2");
    runFlow(app, "recovery-complete", complete);
  }

  @Test
  void officialSupabaseJsConfirmsASignUpWithTheCodeFromTheConfirmationMail() throws Exception {
    requireTools();
    String email = "e2e-confirm-" + UUID.randomUUID() + "@example.com";
    Map<String, String> account = Map.of("E2E_EMAIL", email, "E2E_PASSWORD", "confirm-Me-1");

    runFlow(confirmingApp, "signup-request", account);
    String code = codeFromMail(email, "type=signup");

    Map<String, String> complete = new HashMap<>(account);
    complete.put("E2E_CODE", code);
    runFlow(confirmingApp, "signup-complete", complete);
  }

  @Test
  void officialSupabaseJsSignsInThroughAProviderWithPkceLinksIdentitiesAndSignsInWithAnIdToken() throws Exception {
    requireTools();
    for (int i = 0; i < 2; i++) {
      provider.enqueueCallback(new DefaultOAuth2TokenCallback("default", "e2e-" + UUID.randomUUID(), "JWT",
        List.of(OAUTH_CLIENT), Map.of("email", "e2e-oauth-" + UUID.randomUUID() + "@example.com",
          "email_verified", true), 3600));
    }
    String nonce = UUID.randomUUID().toString();
    String idToken = provider.issueToken("default", OAUTH_CLIENT, new DefaultOAuth2TokenCallback("default",
      "e2e-" + UUID.randomUUID(), "JWT", List.of(OAUTH_CLIENT), Map.of("email", "e2e-idtoken-" + UUID.randomUUID()
        + "@example.com", "email_verified", true, "nonce", HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(nonce.getBytes(StandardCharsets.UTF_8)))), 3600)).serialize();
    runFlow(app, "pkce-oauth", Map.of("E2E_ID_TOKEN", idToken, "E2E_NONCE", nonce,
      "E2E_STORAGE", Files.createTempFile("pkce-oauth", ".json").toString()));
  }

  @Test
  void officialSupabaseJsExchangesTheCodesOfPkceMagicLinkAndRecoveryMails() throws Exception {
    requireTools();
    String email = "e2e-pkce-otp-" + UUID.randomUUID() + "@example.com";
    String recoveryEmail = "e2e-pkce-reset-" + UUID.randomUUID() + "@example.com";
    app.signUp(recoveryEmail, "before-Pkce-Reset-1");
    Map<String, String> inputs = new HashMap<>(Map.of("E2E_EMAIL", email, "E2E_RECOVERY_EMAIL", recoveryEmail,
      "E2E_STORAGE", Files.createTempFile("pkce-mail", ".json").toString(),
      "E2E_RECOVERY_STORAGE", Files.createTempFile("pkce-reset", ".json").toString()));
    runFlow(app, "pkce-mail-request", inputs);
    inputs.put("E2E_CODE", codeOfLink(mailbox.next(email)));
    inputs.put("E2E_RECOVERY_CODE", codeOfLink(mailbox.next(recoveryEmail)));
    runFlow(app, "pkce-mail-complete", inputs);
  }

  @Test
  void officialSupabaseJsAdminGeneratesLinksAndInvites() throws Exception {
    requireTools();
    runFlow(app, "admin-links", Map.of("E2E_SERVICE_KEY", CommandLine.serviceKey(app)));
  }

  /** Opens a mailed link as a browser would and answers the auth code of its redirect (a PKCE flow). */
  private static String codeOfLink(Mailbox.Mail mail) {
    TestApp.Response r = app.get(mail.linkPath());
    assertEquals(303, r.status(), r.raw());
    String location = r.header("Location");
    assertTrue(location.contains("?code="), location);
    return Mailbox.query(URI.create(location).getRawQuery()).get("code");
  }

  private static void requireTools() {
    assumeTrue(NODE.present(), "node and npm are not both on PATH (" + NODE.describe()
      + "): the supabase-js real-client test needs them");
  }

  /** Runs one flow of e2e.mjs against {@code target} and fails unless every step of it held. */
  private static void runFlow(TestApp target, String flow, Map<String, String> inputs) throws Exception {
    Map<String, String> env = new HashMap<>(inputs);
    env.put("PORTCULLIS_URL", target.url(""));
    env.put("E2E_FLOW", flow);
    env.put("E2E_TIMEOUT_MS", Long.toString(RUN_TIMEOUT.toMillis() - 10_000));
    Processes.Outcome outcome = NODE.runScript("e2e.mjs", env, RUN_TIMEOUT);
    System.out.println(outcome.output());
    assertEquals(0, outcome.exitCode(), "node e2e.mjs (flow " + flow + ") failed against " + target.url("") + ":\n"
      + outcome.output());
    assertTrue(outcome.output().contains("\"ok\": true"), "no success summary:\n" + outcome.output());
    assertTrue(outcome.output().contains("\"flow\": \"" + flow + "\""), "ran another flow:\n" + outcome.output());
    assertTrue(outcome.output().contains("@supabase/supabase-js@" + CLIENT_VERSION),
      "ran another client version:\n" + outcome.output());
  }

  /** The 6-digit code of the one mail sent to {@code email}, whose link must hold {@code linkType} (if not empty). */
  private static String codeFromMail(String email, String linkType) {
    Mailbox.Mail mail = mailbox.next(email);
    assertEquals(1, mailbox.count(email), "more than one mail to " + email);
    assertTrue(linkType.isEmpty() || mail.link() != null && mail.link().contains(linkType),
      "the mail to " + email + " has no " + linkType + " link:\n" + mail.text());
    return mail.code();
  }
}
