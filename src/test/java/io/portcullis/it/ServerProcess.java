package io.portcullis.it;

import io.vertx.core.json.JsonObject;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Portcullis as a separate process, started the way the jar starts it ({@code io.portcullis.Portcullis serve},
 * the production logging configuration, a shutdown hook for SIGTERM), from this build's classes and dependencies: the test
 * class path minus target/test-classes. {@code mvn test} runs before {@code package}, so the jar itself may be
 * missing or stale here; scripts/check-container proves the jar is built from these same classes.
 */
public final class ServerProcess implements AutoCloseable {

  /**
   * HTTP/1.1, as browsers and supabase-js speak plain http. With its default upgrade to HTTP/2 (h2c), the JDK's
   * client before 17.0.17 fails every open stream on the server's graceful GOAWAY ("GOAWAY received",
   * JDK-8335181) though the server still answers them.
   */
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();

  public final Process process;
  public final Path dataDir;
  public final Path stdout;
  public final Path stderr;
  public final int port;

  private ServerProcess(Process process, Path dataDir, Path stdout, Path stderr, int port) {
    this.process = process;
    this.dataDir = dataDir;
    this.stdout = stdout;
    this.stderr = stderr;
    this.port = port;
  }

  /** Starts {@code serve} on {@code dataDir} and a free port, with {@code settings} as environment. */
  public static ServerProcess start(Path dataDir, Map<String, String> settings) {
    return start(dataDir, settings, List.of());
  }

  /** Starts {@code serve} as above, with {@code jvmOptions} before the test's own ones. */
  public static ServerProcess start(Path dataDir, Map<String, String> settings, List<String> jvmOptions) {
    try {
      int port;
      try (ServerSocket socket = new ServerSocket(0)) {
        port = socket.getLocalPort();
      }
      Path logs = TempDirs.create("portcullis-process-logs");
      Path stdout = logs.resolve("stdout.log");
      Path stderr = logs.resolve("stderr.log");
      String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(entry -> !entry.endsWith("test-classes") && !entry.endsWith("test-classes" + File.separator))
        .collect(Collectors.joining(File.pathSeparator));
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      List<String> command = new java.util.ArrayList<>(List.of(java));
      command.addAll(jvmOptions);
      command.addAll(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classPath, "io.portcullis.Portcullis",
        "serve"));
      ProcessBuilder builder = new ProcessBuilder(command)
        .redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile());
      Map<String, String> env = builder.environment();
      env.keySet().removeIf(name -> name.startsWith("PORTCULLIS_") || name.equals("JAVA_TOOL_OPTIONS"));
      env.put("PORTCULLIS_DATA_DIR", dataDir.toString());
      env.put("PORTCULLIS_CONFIG", Path.of("target/classes/portcullis/config.json").toAbsolutePath().toString());
      env.put("PORTCULLIS_HTTP_HOST", "127.0.0.1");
      env.put("PORTCULLIS_HTTP_PORT", Integer.toString(port));
      env.put("PORTCULLIS_EXTERNAL_URL", "http://127.0.0.1:" + port);
      env.putAll(settings);
      return new ServerProcess(builder.start(), dataDir, stdout, stderr, port);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits (bounded) until /ready answers 200; fails with the process's output if it exits first. */
  public ServerProcess awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (get("/ready").status() == 200) {
          return this;
        }
      } catch (UncheckedIOException e) {
        if (!(e.getCause() instanceof ConnectException)) {
          throw e;
        }
      }
      if (process.waitFor(200, TimeUnit.MILLISECONDS)) {
        fail("Portcullis exited with " + process.exitValue() + " before it was ready:\n" + output());
      }
    }
    fail("Portcullis not ready within " + timeout + ":\n" + output());
    return this;
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  public TestApp.Response get(String path) {
    return send(HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(30)).GET().build());
  }

  public TestApp.Response postJson(String path, JsonObject body) {
    return send(jsonPost(path, body));
  }

  public CompletableFuture<HttpResponse<String>> postJsonAsync(String path, JsonObject body) {
    return HTTP.sendAsync(jsonPost(path, body), HttpResponse.BodyHandlers.ofString());
  }

  /** Any request, with a JSON body when {@code body} is not null, and {@code headers} as name, value pairs. */
  public TestApp.Response request(String method, String path, JsonObject body, String... headers) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(30))
      .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.encode()));
    if (body != null) {
      builder.header("Content-Type", "application/json");
    }
    for (int i = 0; i + 1 < headers.length; i += 2) {
      builder.header(headers[i], headers[i + 1]);
    }
    return send(builder.build());
  }

  private HttpRequest jsonPost(String path, JsonObject body) {
    return HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(60))
      .header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
      .build();
  }

  private static TestApp.Response send(HttpRequest request) {
    try {
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      return new TestApp.Response(response.statusCode(), response.headers(), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public List<String> stdoutLines() throws IOException {
    return Files.readAllLines(stdout);
  }

  public String output() {
    try {
      return "---- stdout\n" + Files.readString(stdout) + "\n---- stderr\n" + Files.readString(stderr);
    } catch (IOException e) {
      return "(output unreadable: " + e + ")";
    }
  }

  /** The embedded PostgreSQL's data directory. */
  public Path pgDir() {
    return dataDir.resolve("pg").toAbsolutePath().normalize();
  }

  /** Processes (this user's) whose command line names the embedded PostgreSQL's data directory. */
  public List<ProcessHandle> postgresProcesses() {
    String dir = pgDir().toString();
    return ProcessHandle.allProcesses()
      .filter(p -> p.info().commandLine().map(line -> line.contains(dir)).orElse(false))
      .toList();
  }

  /** Best effort after a failed test: no process of ours outlives it. */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Path pid = pgDir().resolve("postmaster.pid");
    try {
      if (Files.exists(pid)) {
        long postmaster = Long.parseLong(Files.readAllLines(pid).get(0).trim());
        ProcessHandle.of(postmaster)
          .filter(p -> p.info().commandLine().map(line -> line.contains(pgDir().toString())).orElse(false))
          .ifPresent(ProcessHandle::destroy);
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("Could not clean up the embedded PostgreSQL in " + pgDir() + ": " + e);
    }
  }
}
