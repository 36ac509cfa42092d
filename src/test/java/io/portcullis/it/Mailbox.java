package io.portcullis.it;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.Address;
import jakarta.mail.BodyPart;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real SMTP server (GreenMail) for the app to send to, and what tests read from it: the mails one address
 * received, in order, with their link and 6-digit code taken from the plain-text part.
 */
public final class Mailbox implements AutoCloseable {

  public static final long WAIT_MS = 20_000;
  private static final Pattern LINK = Pattern.compile("https?://\\S+/auth/v1/verify\\?\\S+");
  private static final Pattern CODE = Pattern.compile("(?<![\\w.@-])([0-9]{6})(?![\\w.@-])");

  public final int port;
  private GreenMail greenMail;
  private final Map<String, Integer> read = new HashMap<>();

  /** A mail as received: headers, both parts, and the link and code its text carries. */
  public record Mail(String to, String from, String subject, String html, String text, String link, String code) {

    /** The link's query parameters, decoded. */
    public Map<String, String> linkParams() {
      return query(URI.create(link).getRawQuery());
    }

    /** The link's token, what {@code POST /verify {token_hash}} takes. */
    public String tokenHash() {
      return linkParams().get("token");
    }

    /** The link as a path of the app, to follow it with the test's HTTP client. */
    public String linkPath() {
      URI uri = URI.create(link);
      return uri.getRawPath() + "?" + uri.getRawQuery();
    }
  }

  private Mailbox(int port) {
    this.port = port;
  }

  /** A mailbox on a free port, already listening. */
  public static Mailbox start() {
    Mailbox box = new Mailbox(TestApp.freePort());
    box.listen();
    return box;
  }

  /** A mailbox for a port where nothing listens yet: the app's mails fail until {@link #listen()}. */
  public static Mailbox down() {
    return new Mailbox(TestApp.freePort());
  }

  public void listen() {
    greenMail = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    greenMail.start();
  }

  /** The settings that point the app at this server, plain SMTP. */
  public Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("PORTCULLIS_SMTP_HOST", "127.0.0.1");
    env.put("PORTCULLIS_SMTP_PORT", Integer.toString(port));
    env.put("PORTCULLIS_SMTP_SECURITY", "none");
    return env;
  }

  /** The next mail to {@code recipient} not yet returned, waiting up to 20 s for it. */
  public Mail next(String recipient) {
    long deadline = System.currentTimeMillis() + WAIT_MS;
    int already = read.getOrDefault(recipient, 0);
    while (true) {
      List<MimeMessage> mine = to(recipient);
      if (mine.size() > already) {
        read.put(recipient, already + 1);
        return parse(recipient, mine.get(already));
      }
      long left = deadline - System.currentTimeMillis();
      if (left <= 0) {
        return fail("No mail to " + recipient + " within " + WAIT_MS + " ms");
      }
      greenMail.waitForIncomingEmail(left, greenMail.getReceivedMessages().length + 1);
    }
  }

  /** How many mails {@code recipient} received so far. */
  public int count(String recipient) {
    return to(recipient).size();
  }

  private List<MimeMessage> to(String recipient) {
    List<MimeMessage> out = new ArrayList<>();
    for (MimeMessage message : greenMail.getReceivedMessages()) {
      try {
        Address[] all = message.getRecipients(Message.RecipientType.TO);
        if (all != null) {
          for (Address address : all) {
            if (address.toString().equalsIgnoreCase(recipient)) {
              out.add(message);
            }
          }
        }
      } catch (MessagingException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }

  private static Mail parse(String recipient, MimeMessage message) {
    try {
      String html = null;
      String text = null;
      Object content = message.getContent();
      if (content instanceof Multipart multipart) {
        for (int i = 0; i < multipart.getCount(); i++) {
          BodyPart part = multipart.getBodyPart(i);
          if (part.isMimeType("text/plain")) {
            text = (String) part.getContent();
          } else if (part.isMimeType("text/html")) {
            html = (String) part.getContent();
          }
        }
      } else if (message.isMimeType("text/plain")) {
        text = (String) content;
      }
      assertNotNull(text, "the mail has a plain-text part");
      // Every mail has a code; all but the re-authentication mail (a code only) have a link too.
      Matcher link = LINK.matcher(text);
      boolean linked = link.find();
      assertTrue(linked || message.getSubject().equals(subject("reauthentication")), "a link in the text: " + text);
      Matcher code = CODE.matcher(linked ? text.replace(link.group(), "") : text);
      assertTrue(code.find(), "a 6-digit code in the text: " + text);
      String from = message.getFrom() == null ? null : message.getFrom()[0].toString();
      return new Mail(recipient, from, message.getSubject(), html, text, linked ? link.group() : null, code.group(1));
    } catch (MessagingException e) {
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A template's subject as the app renders it (subjects here carry no placeholders). */
  public static String subject(String kind) {
    try {
      return Files.readString(Path.of("conf/templates", kind + ".subject.txt")).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code a=1&b=2} (query or fragment) → decoded pairs in order. */
  public static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      out.put(URLDecoder.decode(key, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return out;
  }

  @Override
  public void close() {
    if (greenMail != null) {
      greenMail.stop();
    }
  }
}
