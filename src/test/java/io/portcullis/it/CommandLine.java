package io.portcullis.it;

import io.portcullis.cli.Commands;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** The command line run in-process against a running test app's database, as an operator would run it beside it. */
public final class CommandLine {

  private static final Pattern JWT = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");

  private CommandLine() {
  }

  public record Run(int exit, String out, String err) {
  }

  /** A service_role key from the {@code service-key} command. */
  public static String serviceKey(TestApp app) {
    return serviceKey(app, Map.of());
  }

  /** A service_role key, the command run with {@code extraEnv} on top (an issuer or encryption key the app pins). */
  public static String serviceKey(TestApp app, Map<String, String> extraEnv) {
    Run run = run(app, extraEnv, "service-key");
    assertEquals(0, run.exit(), run.err());
    // The token alone on stdout (its log goes to stderr), so that TOKEN=$(... service-key) works.
    if (!run.out().endsWith("\n") || run.out().lines().count() != 1 || !JWT.matcher(run.out().strip()).matches()) {
      fail("stdout is not exactly one JWT line: " + run.out());
    }
    return run.out().strip();
  }

  /** Runs a command with the app's data directory and issuer (its external URL), capturing what it prints. */
  public static Run run(TestApp app, String... args) {
    return run(app, Map.of(), args);
  }

  /** As {@link #run(TestApp, String...)}, with settings overridden as environment variables would. */
  public static synchronized Run run(TestApp app, Map<String, String> overrides, String... args) {
    Map<String, String> env = new HashMap<>();
    env.put("PORTCULLIS_DATA_DIR", app.dataDir.toString());
    env.put("PORTCULLIS_EXTERNAL_URL", app.url(""));
    env.put("PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB", "64");
    env.put("PORTCULLIS_PASSWORD_REJECT_COMMON", "false");
    env.put("PORTCULLIS_PASSWORD_ARGON2_ITERATIONS", "1");
    env.putAll(overrides);
    return capture(env, app.clock, args);
  }

  /** Runs a command in this JVM with exactly {@code env}, capturing what it prints. */
  public static Run capture(Map<String, String> env, String... args) {
    return capture(env, Clock.systemUTC(), args);
  }

  /** As {@link #capture(Map, String...)}, the tools stamping their writes with {@code clock}. */
  public static synchronized Run capture(Map<String, String> env, Clock clock, String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ThisThread outBytes = new ThisThread(out);
    ThisThread errBytes = new ThisThread(err);
    int exit;
    try {
      System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
      exit = Commands.run(args, env, clock);
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    return new Run(exit, outBytes.recorded(), errBytes.recorded());
  }

  /**
   * What the calling thread writes, the command's own: a running app's threads log to the same System.out
   * meanwhile, and their lines go on to {@code others} instead of into the command's output.
   */
  static final class ThisThread extends OutputStream {

    private final Thread thread = Thread.currentThread();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final OutputStream others;

    ThisThread(OutputStream others) {
      this.others = others;
    }

    @Override
    public void write(int b) throws IOException {
      if (Thread.currentThread() == thread) {
        bytes.write(b);
      } else {
        others.write(b);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (Thread.currentThread() == thread) {
        bytes.write(b, off, len);
      } else {
        others.write(b, off, len);
      }
    }

    @Override
    public void flush() throws IOException {
      others.flush();
    }

    String recorded() {
      return bytes.toString(StandardCharsets.UTF_8);
    }
  }
}
