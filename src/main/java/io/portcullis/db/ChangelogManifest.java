package io.portcullis.db;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The bundled changelog's changesets as Liquibase identifies and checksums them (file, id, author, MD5 sum), written
 * at build time by {@link ChangelogManifestWriter} into {@value #RESOURCE}, so that a start can tell from one query
 * on {@code databasechangelog} that every changeset is applied with the checksum Liquibase would compute, without
 * loading Liquibase. The manifest names a hash of the changelog files it was made from; a manifest that does not
 * match the bundled files (edited after the build step ran, or the step did not run) is not used.
 */
final class ChangelogManifest {

  static final String RESOURCE = "db/changelog/checksums.tsv";
  private static final String SOURCES = "sources";
  private static final String CHANGESET = "changeset";

  /** One changeset as Liquibase records it in {@code databasechangelog}. */
  record Entry(String filename, String id, String author, String md5sum) {

    /**
     * The fields as one string (the manifest's fields hold no tab): what {@link #appliedIn} compares, since a
     * record's own equals and hashCode are made at run time from method handles, tens of classes on every start.
     */
    String key() {
      return String.join("\t", filename, id, author, md5sum);
    }
  }

  private final List<Entry> entries;

  ChangelogManifest(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  List<Entry> entries() {
    return entries;
  }

  /**
   * The manifest bundled beside {@code changelog}, or empty (with the reason) when there is none or it does not
   * match the bundled changelog files.
   */
  static Optional<ChangelogManifest> bundled(String changelog, ClassLoader loader, StringBuilder whyNot) {
    String text;
    try (InputStream in = loader.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        whyNot.append("no ").append(RESOURCE).append(" on the class path");
        return Optional.empty();
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      whyNot.append("cannot read ").append(RESOURCE).append(": ").append(e);
      return Optional.empty();
    }
    String sources = null;
    List<Entry> entries = new ArrayList<>();
    for (String line : text.split("\n")) {
      String[] fields = line.split("\t", -1);
      if (fields[0].equals(SOURCES) && fields.length == 2) {
        sources = fields[1];
      } else if (fields[0].equals(CHANGESET) && fields.length == 5) {
        entries.add(new Entry(fields[1], fields[2], fields[3], fields[4]));
      }
    }
    ChangelogManifest manifest = new ChangelogManifest(entries);
    String actual = manifest.sourcesHash(changelog, loader);
    if (sources == null || entries.isEmpty() || !sources.equals(actual)) {
      whyNot.append(RESOURCE).append(" was not made from the bundled changelog");
      return Optional.empty();
    }
    return Optional.of(manifest);
  }

  /**
   * Whether {@code databasechangelog} holds exactly these changesets with these checksums: every one applied and
   * nothing Liquibase would have to look at (a changed or older-version checksum, an unknown changeset, a missing
   * table all answer false, and Liquibase then decides as it always does).
   */
  boolean appliedIn(Connection connection) throws SQLException {
    Set<String> applied = new HashSet<>();
    int rows = 0;
    try (Statement statement = connection.createStatement()) {
      // Liquibase's own check of an existing table, so a fresh database answers false rather than an error.
      try (ResultSet exists = statement.executeQuery("SELECT to_regclass('databasechangelog') IS NOT NULL")) {
        if (!exists.next() || !exists.getBoolean(1)) {
          return false;
        }
      }
      try (ResultSet row = statement.executeQuery("SELECT filename, id, author, md5sum FROM databasechangelog")) {
        while (row.next()) {
          applied.add(new Entry(row.getString(1), row.getString(2), row.getString(3), row.getString(4)).key());
          rows++;
        }
      }
    }
    Set<String> bundled = new HashSet<>();
    for (Entry entry : entries) {
      bundled.add(entry.key());
    }
    return rows == entries.size() && applied.equals(bundled);
  }

  /** The text of the manifest resource. */
  String format(String changelog, ClassLoader loader) {
    StringBuilder out = new StringBuilder()
      .append("# Written by the build (ChangelogManifestWriter) from the changelog; not edited by hand.\n")
      .append(SOURCES).append('\t').append(sourcesHash(changelog, loader)).append('\n');
    for (Entry entry : entries) {
      out.append(String.join("\t", CHANGESET, entry.filename(), entry.id(), entry.author(), entry.md5sum()))
        .append('\n');
    }
    return out.toString();
  }

  /** SHA-256 over the changelog's master file and every file a changeset comes from, names and contents. */
  private String sourcesHash(String changelog, ClassLoader loader) {
    Set<String> files = new LinkedHashSet<>();
    files.add(changelog);
    entries.forEach(entry -> files.add(entry.filename()));
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (String file : files) {
        try (InputStream in = loader.getResourceAsStream(file)) {
          if (in == null) {
            return "missing " + file;
          }
          digest.update(file.getBytes(StandardCharsets.UTF_8));
          digest.update((byte) 0);
          digest.update(in.readAllBytes());
          digest.update((byte) 0);
        }
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
