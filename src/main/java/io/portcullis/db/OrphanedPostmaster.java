package io.portcullis.db;

import io.zonky.test.db.postgres.util.LinuxUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Clears what a crashed process left in the embedded data directory before a new server starts on it: a
 * postmaster still running (the JVM was killed, the postmaster was not) is stopped, and a {@code postmaster.pid}
 * whose process id is a zombie or now belongs to some other process is removed (PostgreSQL refuses to start over
 * any of them).
 * Only called while nobody holds the directory's {@code epg-lock}, that is when no live Portcullis runs it.
 */
final class OrphanedPostmaster {

  private static final Logger LOG = LoggerFactory.getLogger(OrphanedPostmaster.class);
  private static final long STOP_WAIT_SECONDS = 60;

  private OrphanedPostmaster() {
  }

  static void clear(Path dir) throws IOException {
    Path pidFile = dir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    List<String> lines = Files.readAllLines(pidFile);
    long pid;
    try {
      pid = lines.isEmpty() ? -1 : Long.parseLong(lines.get(0).trim());
    } catch (NumberFormatException e) {
      pid = -1;
    }
    if (pid <= 0 || !Files.exists(Path.of("/proc", Long.toString(pid)))) {
      return; // no such process: PostgreSQL itself recovers from a stale postmaster.pid
    }
    Optional<List<String>> command = commandLine(pid);
    if (command.isPresent() && isPostmasterOf(command.get(), dir)) {
      LOG.warn("An embedded PostgreSQL (process {}) still runs on {} without the Portcullis that started it; "
        + "stopping it before starting a new one", pid, dir);
      stop(pid, Path.of(command.get().get(0)).resolveSibling("pg_ctl"), dir);
      return;
    }
    // The id is a zombie (the server was killed and its parent, now init, has not reaped it yet) or was reused
    // by an unrelated process (common in containers): PostgreSQL would take the server for alive and refuse to
    // start. The file is stale once no process of the old server still uses its shared memory.
    awaitSharedMemoryReleased(lines, dir);
    LOG.warn("Removing stale {}: process {} is not a running PostgreSQL server of this directory", pidFile, pid);
    Files.deleteIfExists(pidFile);
  }

  /** Line 7 of postmaster.pid names the server's System V shared memory segment (key, id). */
  private static void awaitSharedMemoryReleased(List<String> pidLines, Path dir) throws IOException {
    String[] segment = pidLines.size() > 6 ? pidLines.get(6).trim().split("\\s+") : new String[0];
    if (segment.length < 2) {
      return;
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_WAIT_SECONDS);
    while (attached(segment[1])) {
      if (System.nanoTime() > deadline) {
        throw new IOException("Processes of an earlier PostgreSQL server on " + dir + " still use its shared memory");
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("Interrupted", e);
      }
    }
  }

  /** Whether segment {@code id} exists with processes attached (/proc/sysvipc/shm: key shmid perms size cpid lpid nattch). */
  private static boolean attached(String id) throws IOException {
    Path table = Path.of("/proc/sysvipc/shm");
    if (!Files.exists(table)) {
      return false;
    }
    for (String line : Files.readAllLines(table)) {
      String[] columns = line.trim().split("\\s+");
      if (columns.length > 6 && columns[1].equals(id)) {
        return !columns[6].equals("0");
      }
    }
    return false;
  }

  /** {@code pg_ctl stop -m fast}: open transactions roll back, committed ones are checkpointed. */
  private static void stop(long pid, Path pgCtl, Path dir) throws IOException {
    ProcessHandle postmaster = ProcessHandle.of(pid).orElse(null);
    if (postmaster == null) {
      return;
    }
    if (Files.isExecutable(pgCtl)) {
      List<String> command = new ArrayList<>();
      if (LinuxUtils.isUnshareAvailable()) {
        // As the library started it: pg_ctl refuses to run as root, so root runs it in a user namespace.
        command.addAll(List.of("unshare", "-U"));
      }
      command.addAll(List.of(pgCtl.toString(), "-D", dir.toString(), "stop", "-m", "fast", "-w",
        "-t", Long.toString(STOP_WAIT_SECONDS)));
      Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
      await(process.onExit(), STOP_WAIT_SECONDS + 5);
    } else {
      postmaster.destroy(); // SIGTERM: a smart shutdown, its clients died with the JVM
    }
    if (!await(postmaster.onExit(), STOP_WAIT_SECONDS)) {
      throw new IOException("The orphaned PostgreSQL server (process " + pid + ") on " + dir + " did not stop");
    }
    LOG.info("Orphaned PostgreSQL server (process {}) stopped", pid);
  }

  private static boolean await(CompletableFuture<?> exit, long seconds) {
    try {
      exit.get(seconds, TimeUnit.SECONDS);
      return true;
    } catch (TimeoutException | ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The process's arguments from {@code /proc}; empty when it does not exist (or is not readable). */
  private static Optional<List<String>> commandLine(long pid) {
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
      if (raw.length == 0) {
        return Optional.empty(); // a zombie or a kernel thread
      }
      return Optional.of(List.of(new String(raw, StandardCharsets.UTF_8).split("\0")));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** A postmaster (not a backend, which renames itself "postgres: ...") started with {@code -D dir}. */
  static boolean isPostmasterOf(List<String> args, Path dir) {
    if (args.isEmpty() || !Path.of(args.get(0)).getFileName().toString().equals("postgres")) {
      return false;
    }
    for (int i = 1; i + 1 < args.size(); i++) {
      if (args.get(i).equals("-D")) {
        return Path.of(args.get(i + 1)).toAbsolutePath().normalize().equals(dir.toAbsolutePath().normalize());
      }
    }
    return false;
  }
}
