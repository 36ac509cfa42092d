package io.portcullis.mail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Mail templates, one subject, HTML body and plain-text body per kind, from {@code mailer.templates_dir} (files
 * {@code <kind>.subject.txt}, {@code <kind>.html}, {@code <kind>.txt}) or the built-in copies of
 * {@code conf/templates}. Placeholders are GoTrue's: {@code {{ .ConfirmationURL }}}, {@code {{ .Token }}},
 * {@code {{ .TokenHash }}}, {@code {{ .SiteURL }}}, {@code {{ .Email }}}, {@code {{ .NewEmail }}},
 * {@code {{ .RedirectTo }}}. Loaded once before deployment (it reads files).
 */
public final class MailTemplates {

  public static final String CONFIRMATION = "confirmation";
  public static final String RECOVERY = "recovery";
  public static final String MAGIC_LINK = "magic_link";
  public static final String EMAIL_CHANGE = "email_change";
  public static final String REAUTHENTICATION = "reauthentication";
  public static final String INVITE = "invite";
  private static final List<String> KINDS = List.of(CONFIRMATION, RECOVERY, MAGIC_LINK, EMAIL_CHANGE, REAUTHENTICATION,
    INVITE);
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*\\.(\\w+)\\s*}}");

  /** A mail ready to send. */
  public record Mail(String kind, String subject, String html, String text) {
  }

  private record Template(String subject, String html, String text) {
  }

  private final Map<String, Template> templates;

  private MailTemplates(Map<String, Template> templates) {
    this.templates = templates;
  }

  public static MailTemplates load(Path dir) {
    Map<String, Template> loaded = new HashMap<>();
    for (String kind : KINDS) {
      loaded.put(kind, new Template(
        read(dir, kind + ".subject.txt").strip(),
        read(dir, kind + ".html"),
        read(dir, kind + ".txt")));
    }
    return new MailTemplates(loaded);
  }

  private static String read(Path dir, String name) {
    try {
      Path file = dir.resolve(name);
      if (Files.isRegularFile(file)) {
        return Files.readString(file);
      }
      try (InputStream in = MailTemplates.class.getResourceAsStream("/portcullis/templates/" + name)) {
        if (in == null) {
          throw new IllegalStateException("Mail template " + name + " is missing");
        }
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read mail template " + name, e);
    }
  }

  public Mail render(String kind, Map<String, String> values) {
    Template template = templates.get(kind);
    if (template == null) {
      throw new IllegalArgumentException("No mail template " + kind);
    }
    return new Mail(kind,
      fill(template.subject(), values, false),
      fill(template.html(), values, true),
      fill(template.text(), values, false));
  }

  private static String fill(String template, Map<String, String> values, boolean html) {
    Matcher m = PLACEHOLDER.matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = values.getOrDefault(m.group(1), "");
      m.appendReplacement(out, Matcher.quoteReplacement(html ? escape(value) : value));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
      .replace("'", "&#39;");
  }
}
