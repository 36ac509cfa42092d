package io.portcullis.http;

import io.portcullis.it.CommandLine;
import io.portcullis.it.Mailbox;
import io.portcullis.it.NodeHarness;
import io.portcullis.it.Processes;
import io.portcullis.it.TestApp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
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
 * otplib, pinned beside it; anonymous sign-in and its conversion; re-authentication with the nonce from the mail).
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
