package io.portcullis.flow;

import io.portcullis.error.AuthException;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * RFC 7636 as GoTrue reads it: a {@code code_challenge} with a {@code code_challenge_method} ({@code s256} or
 * {@code plain}, any case) in a request body or query, and the check of a {@code code_verifier} against them.
 */
public final class Pkce {

  public static final String S256 = "s256";
  public static final String PLAIN = "plain";
  /** RFC 7636 §4.1: 43 to 128 unreserved characters. */
  private static final Pattern CHALLENGE = Pattern.compile("[A-Za-z0-9._~-]{43,128}");

  /** A challenge as stored with a flow; {@code method} lower-cased. */
  public record Challenge(String challenge, String method) {
  }

  private Pkce() {
  }

  /**
   * The challenge of a JSON body; null when neither field is given (JSON null counts as absent: implicit-mode
   * supabase-js sends both as null).
   */
  public static Challenge parse(JsonObject body) {
    Object challenge = body.getValue("code_challenge");
    Object method = body.getValue("code_challenge_method");
    return parse(challenge instanceof String s ? s : challenge == null ? null : "?",
      method instanceof String s ? s : method == null ? null : "?");
  }

  /** The challenge from two raw values (query parameters); null when both are absent or empty. */
  public static Challenge parse(String challenge, String method) {
    boolean hasChallenge = challenge != null && !challenge.isEmpty();
    boolean hasMethod = method != null && !method.isEmpty();
    if (!hasChallenge && !hasMethod) {
      return null;
    }
    if (!hasChallenge || !hasMethod) {
      throw AuthException.validation("PKCE flow requires code_challenge_method and code_challenge");
    }
    String normalized = method.toLowerCase(Locale.ROOT);
    if (!normalized.equals(S256) && !normalized.equals(PLAIN)) {
      throw AuthException.validation("code_challenge_method must be s256 or plain");
    }
    if (!CHALLENGE.matcher(challenge).matches()) {
      throw AuthException.validation("code_challenge must be 43 to 128 characters of [A-Za-z0-9._~-]");
    }
    return new Challenge(challenge, normalized);
  }

  /** Whether the verifier answers the challenge; compared in constant time. */
  public static boolean matches(String challenge, String method, String verifier) {
    String expected = S256.equals(method) ? s256(verifier) : verifier;
    return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
      challenge.getBytes(StandardCharsets.US_ASCII));
  }

  /** BASE64URL(SHA-256(ASCII(verifier))) without padding. */
  public static String s256(String verifier) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(sha256(verifier));
  }

  static byte[] sha256(String value) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
