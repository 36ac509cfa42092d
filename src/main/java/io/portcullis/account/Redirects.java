package io.portcullis.account;

import io.portcullis.config.Config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Where a mail link may send the browser: a {@code redirect_to} is honoured only when it equals an allow-list
 * entry or matches one of its patterns ({@code *}: any run of characters except {@code /} and {@code .};
 * {@code **}: anything), else the site URL is used.
 */
public final class Redirects {

  private Redirects() {
  }

  public static String resolve(Config config, String requested) {
    // A control character is never part of a URL (RFC 3986); it would make the Location header of the link
    // throw (no answer until the request timeout) and a NUL is refused by PostgreSQL text (a 500 on /otp).
    if (requested == null || requested.isBlank() || requested.chars().anyMatch(Character::isISOControl)) {
      return config.siteUrl();
    }
    if (requested.equals(config.siteUrl()) || requested.startsWith(config.siteUrl() + "/")) {
      return requested;
    }
    List<String> allowed = config.mailer().redirectAllowList();
    for (String entry : allowed) {
      if (entry.equals(requested) || (entry.contains("*") && toPattern(entry).matcher(requested).matches())) {
        return requested;
      }
    }
    return config.siteUrl();
  }

  static Pattern toPattern(String glob) {
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*') {
        if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
          regex.append(".*");
          i++;
        } else {
          regex.append("[^/.]*");
        }
      } else {
        regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString());
  }
}
