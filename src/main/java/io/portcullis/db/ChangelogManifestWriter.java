package io.portcullis.db;

import liquibase.ChecksumVersion;
import liquibase.changelog.ChangeLogParameters;
import liquibase.changelog.ChangeSet;
import liquibase.changelog.DatabaseChangeLog;
import liquibase.parser.ChangeLogParserFactory;
import liquibase.resource.DirectoryResourceAccessor;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A build step ({@code process-classes}, see pom.xml): parses the changelog in the compiled classes directory with
 * Liquibase and writes {@link ChangelogManifest#RESOURCE} there, each changeset with the checksum this Liquibase
 * computes. Not used at run time. Writes no manifest (so every start runs Liquibase) when a changeset runs always,
 * since an applied row would not mean there is nothing to do.
 */
public final class ChangelogManifestWriter {

  private ChangelogManifestWriter() {
  }

  /** {@code args[0]}: the classes directory (target/classes). */
  public static void main(String[] args) throws Exception {
    System.setProperty("liquibase.analytics.enabled", "false");
    Path classes = Path.of(args[0]);
    Path out = classes.resolve(ChangelogManifest.RESOURCE);
    Files.deleteIfExists(out);
    DirectoryResourceAccessor accessor = new DirectoryResourceAccessor(classes);
    DatabaseChangeLog changelog = ChangeLogParserFactory.getInstance().getParser(Migrations.CHANGELOG, accessor)
      .parse(Migrations.CHANGELOG, new ChangeLogParameters(), accessor);
    List<ChangelogManifest.Entry> entries = new ArrayList<>();
    for (ChangeSet changeSet : changelog.getChangeSets()) {
      if (changeSet.isAlwaysRun()) {
        System.out.println("Changeset " + changeSet.getId() + " runs always: no " + ChangelogManifest.RESOURCE
          + ", every start runs Liquibase");
        return;
      }
      String file = changeSet.getStoredFilePath() != null ? changeSet.getStoredFilePath() : changeSet.getFilePath();
      entries.add(new ChangelogManifest.Entry(file, changeSet.getId(),
        changeSet.getAuthor(), changeSet.generateCheckSum(ChecksumVersion.latest()).toString()));
    }
    try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, null)) {
      Files.writeString(out, new ChangelogManifest(entries).format(Migrations.CHANGELOG, loader),
        StandardCharsets.UTF_8);
    }
  }
}
