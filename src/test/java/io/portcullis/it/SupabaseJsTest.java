package io.portcullis.it;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.vertx.core.json.JsonObject;
import jakarta.mail.Address;
import jakarta.mail.BodyPart;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real-client test: the official {@code @supabase/supabase-js}, pinned by the committed package-lock.json in
 * src/test/js/supabase-e2e, drives a running Portcullis through e2e.mjs (sign-up, sign-in, user updates, a password
 * change, refresh, local ES256 verification via JWKS, the error codes the client maps, sign-out; the admin API with
 * a service key; password recovery and sign-up confirmation with the code from the mail; TOTP MFA with codes from
 * otplib, pinned beside it; anonymous sign-in and its conversion; re-authentication with the nonce from the mail). Mails go to a GreenMail
 * SMTP server in this JVM: a mail flow runs node twice, and between the two runs this test reads the code from the
 * mail the service really sent and hands it to the second. Skipped when node or npm is not on PATH; an npm install
 * that fails fails the test, since CI has node and the registry.
 */
class SupabaseJsTest {

  private static final String CLIENT_VERSION = "2.109.0";
  private static final int MIN_NODE_MAJOR = 20;
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(120);

  private static final Path BASEDIR = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
  private static final Path SOURCES = BASEDIR.resolve("src/test/js/supabase-e2e");
  private static final Path INSTALL_DIR = BASEDIR.resolve("target/supabase-js");

  private static final Duration MAIL_WAIT = Duration.ofSeconds(30);
  /** The 6-digit code of a mail, once its links (whose tokens might hold six digits in a row) are taken out. */
  private static final Pattern CODE = Pattern.compile("(?<![0-9A-Za-z])([0-9]{6})(?![0-9A-Za-z])");
  private static final Pattern LINK = Pattern.compile("https?://\\S+");

  static Path node;
  static Path npm;
  static GreenMail smtp;
  /** Autoconfirm on (the default), anonymous sign-in on: sign-up answers a session; recovery mails go to {@link #smtp}. */
  static TestApp app;
  /**
   * Autoconfirm off: sign-up answers a user and mails a confirmation to {@link #smtp}; every password change needs
   * a re-authentication nonce.
   */
  static TestApp confirmingApp;

  @BeforeAll
  static void installClientAndStart() throws Exception {
    node = onPath("node");
    npm = onPath("npm");
    if (!toolsPresent()) {
      return;
    }
    Outcome version = run(List.of(node.toString(), "--version"), BASEDIR, Map.of(), Duration.ofSeconds(30));
    assertEquals(0, version.exitCode(), "node --version failed:\n" + version.output());
    int major = Integer.parseInt(version.output().trim().replaceFirst("^v(\\d+)\\..*$", "$1"));
    assertTrue(major >= MIN_NODE_MAJOR, "supabase-js " + CLIENT_VERSION + " needs Node.js >= " + MIN_NODE_MAJOR
      + ", found " + version.output().trim() + " at " + node);
    installClient();
    smtp = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort());
    smtp.start();
    Map<String, String> mail = Map.of(
      "PORTCULLIS_SMTP_HOST", "127.0.0.1",
      "PORTCULLIS_SMTP_PORT", Integer.toString(smtp.getSmtp().getPort()),
      "PORTCULLIS_SMTP_SECURITY", "none");
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
        if (smtp != null) {
          smtp.stop();
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
    assumeTrue(toolsPresent(), "node and npm are not both on PATH (node=" + node + ", npm=" + npm
      + "): the supabase-js real-client test needs them");
  }

  /**
   * One flow of e2e.mjs against a Portcullis elsewhere (another process); skipped without node and npm. Installs
   * the pinned client first when this class has not.
   */
  static void runFlowAt(String url, String flow, Map<String, String> inputs) throws Exception {
    node = onPath("node");
    npm = onPath("npm");
    requireTools();
    installClient();
    runFlow(url, flow, inputs);
  }

  /** Runs one flow of e2e.mjs against {@code target} and fails unless every step of it held. */
  private static void runFlow(TestApp target, String flow, Map<String, String> inputs) throws Exception {
    runFlow(target.url(""), flow, inputs);
  }

  private static void runFlow(String target, String flow, Map<String, String> inputs) throws Exception {
    Files.copy(SOURCES.resolve("e2e.mjs"), INSTALL_DIR.resolve("e2e.mjs"), StandardCopyOption.REPLACE_EXISTING);
    Map<String, String> env = new HashMap<>(inputs);
    env.put("PORTCULLIS_URL", target);
    env.put("E2E_FLOW", flow);
    env.put("E2E_TIMEOUT_MS", Long.toString(RUN_TIMEOUT.toMillis() - 10_000));
    Outcome outcome = run(List.of(node.toString(), "e2e.mjs"), INSTALL_DIR, env, RUN_TIMEOUT);
    System.out.println(outcome.output());
    assertEquals(0, outcome.exitCode(), "node e2e.mjs (flow " + flow + ") failed against " + target + ":\n"
      + outcome.output());
    assertTrue(outcome.output().contains("\"ok\": true"), "no success summary:\n" + outcome.output());
    assertTrue(outcome.output().contains("\"flow\": \"" + flow + "\""), "ran another flow:\n" + outcome.output());
    assertTrue(outcome.output().contains("@supabase/supabase-js@" + CLIENT_VERSION),
      "ran another client version:\n" + outcome.output());
  }

  /**
   * The 6-digit code of the mail sent to {@code email} whose link holds {@code linkType}; waits for GreenMail to
   * receive it (delivery follows the request through the outbox), and fails if more than one such mail came.
   */
  private static String codeFromMail(String email, String linkType) throws Exception {
    long deadline = System.nanoTime() + MAIL_WAIT.toNanos();
    while (true) {
      MimeMessage[] received = smtp.getReceivedMessages();
      List<String> texts = new ArrayList<>();
      for (MimeMessage message : received) {
        if (addressedTo(message, email)) {
          String text = plainText(message);
          assertNotNull(text, "the mail to " + email + " has no text/plain part");
          texts.add(text);
        }
      }
      if (!texts.isEmpty()) {
        assertEquals(1, texts.size(), "more than one mail to " + email + ": " + texts);
        String text = texts.get(0);
        assertTrue(text.contains(linkType), "the mail to " + email + " has no " + linkType + " link:\n" + text);
        Matcher code = CODE.matcher(LINK.matcher(text).replaceAll(" "));
        assertTrue(code.find(), "no 6-digit code in the mail to " + email + ":\n" + text);
        return code.group(1);
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return fail("no mail to " + email + " within " + MAIL_WAIT.toSeconds() + " s; GreenMail holds "
          + received.length + " mails");
      }
      // Blocks until one more mail arrives (or the time is up), then looks again.
      smtp.waitForIncomingEmail(TimeUnit.NANOSECONDS.toMillis(left) + 1, received.length + 1);
    }
  }

  private static boolean addressedTo(MimeMessage message, String email) throws MessagingException {
    Address[] recipients = message.getAllRecipients();
    if (recipients == null) {
      return false;
    }
    for (Address recipient : recipients) {
      if (recipient instanceof InternetAddress address && email.equalsIgnoreCase(address.getAddress())) {
        return true;
      }
    }
    return false;
  }

  /** The decoded text/plain part of a message (multipart or not). */
  private static String plainText(Part part) throws MessagingException, IOException {
    if (part.isMimeType("text/plain")) {
      return part.getContent().toString();
    }
    if (part.getContent() instanceof Multipart multipart) {
      for (int i = 0; i < multipart.getCount(); i++) {
        BodyPart body = multipart.getBodyPart(i);
        String text = plainText(body);
        if (text != null) {
          return text;
        }
      }
    }
    return null;
  }

  private static boolean toolsPresent() {
    return node != null && npm != null;
  }

  /** {@code npm ci} from the committed lock file, unless target/ already holds the pinned client. */
  private static void installClient() throws IOException, InterruptedException {
    Files.createDirectories(INSTALL_DIR);
    Path lock = SOURCES.resolve("package-lock.json");
    Path installedLock = INSTALL_DIR.resolve("package-lock.json");
    boolean sameLock = Files.exists(installedLock) && Arrays.equals(Files.readAllBytes(lock),
      Files.readAllBytes(installedLock));
    if (sameLock && CLIENT_VERSION.equals(installedClientVersion()) && Files.isDirectory(nodeModule("ws"))) {
      return;
    }
    Files.copy(SOURCES.resolve("package.json"), INSTALL_DIR.resolve("package.json"),
      StandardCopyOption.REPLACE_EXISTING);
    Files.copy(lock, installedLock, StandardCopyOption.REPLACE_EXISTING);
    Outcome install = run(List.of(npm.toString(), "ci", "--no-audit", "--no-fund"), INSTALL_DIR, Map.of(),
      INSTALL_TIMEOUT);
    assertEquals(0, install.exitCode(), "npm ci in " + INSTALL_DIR + " failed:\n" + install.output());
    assertEquals(CLIENT_VERSION, installedClientVersion(),
      "npm ci did not install @supabase/supabase-js " + CLIENT_VERSION + ":\n" + install.output());
  }

  private static String installedClientVersion() throws IOException {
    Path manifest = nodeModule("@supabase/supabase-js").resolve("package.json");
    if (!Files.exists(manifest)) {
      return null;
    }
    return new JsonObject(Files.readString(manifest)).getString("version");
  }

  private static Path nodeModule(String name) {
    return INSTALL_DIR.resolve("node_modules").resolve(name);
  }

  private static Path onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, command);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  private record Outcome(int exitCode, String output) {
  }

  /** Runs a command with stdout and stderr merged into a file (no pipe to fill up); kills it when it overruns. */
  private static Outcome run(List<String> command, Path dir, Map<String, String> env, Duration timeout)
    throws IOException, InterruptedException {
    Path log = Files.createTempFile(Files.createDirectories(BASEDIR.resolve("target")), "supabase-js-", ".out");
    try {
      ProcessBuilder builder = new ProcessBuilder(command)
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
      builder.environment().putAll(env);
      builder.environment().put("NO_COLOR", "1");
      Process process = builder.start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        fail(String.join(" ", command) + " did not finish within " + timeout.toSeconds() + " s:\n" + read(log));
      }
      return new Outcome(process.exitValue(), read(log));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  private static String read(Path log) {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
