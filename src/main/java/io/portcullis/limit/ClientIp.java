package io.portcullis.limit;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Who is calling: the socket's address, or, when the socket belongs to a trusted proxy, the last address in the
 * configured header (e.g. X-Forwarded-For) that is not itself a trusted proxy. Entries are addresses or CIDR
 * ranges; {@code *} trusts every peer (only behind a proxy that always sets the header).
 */
public final class ClientIp {

  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:.]+");

  private record Range(byte[] network, int bits) {
  }

  private final List<Range> trusted = new ArrayList<>();
  private final boolean trustAll;
  private final String header;

  public ClientIp(List<String> trustedProxies, String header) {
    this.header = header;
    this.trustAll = trustedProxies.contains("*");
    for (String entry : trustedProxies) {
      if (!entry.equals("*")) {
        trusted.add(parse(entry));
      }
    }
  }

  /** Validates the entries at start-up: a bad one stops the service with its text. */
  static Range parse(String entry) {
    String[] parts = entry.split("/", 2);
    try {
      byte[] address = InetAddress.getByName(literal(parts[0])).getAddress();
      int bits = parts.length == 2 ? Integer.parseInt(parts[1]) : address.length * 8;
      if (bits < 0 || bits > address.length * 8) {
        throw new IllegalArgumentException("bad prefix length in trusted proxy " + entry);
      }
      return new Range(address, bits);
    } catch (UnknownHostException | NumberFormatException e) {
      throw new IllegalArgumentException("http.trusted_proxies: not an address or CIDR range: " + entry);
    }
  }

  /** Refuses host names, so that parsing never resolves anything (it runs on event loops). */
  private static String literal(String s) {
    boolean v4 = IPV4.matcher(s).matches();
    boolean v6 = s.indexOf(':') >= 0 && IPV6.matcher(s).matches();
    if (!v4 && !v6) {
      throw new NumberFormatException();
    }
    return s;
  }

  public String resolve(String peer, java.util.function.Function<String, String> headers) {
    if (peer == null || !isTrusted(peer)) {
      return peer;
    }
    String forwarded = headers.apply(header);
    if (forwarded == null || forwarded.isBlank()) {
      return peer;
    }
    String[] hops = forwarded.split(",");
    for (int i = hops.length - 1; i >= 0; i--) {
      String hop = hops[i].trim();
      if (!hop.isEmpty() && !isTrusted(hop)) {
        return hop;
      }
    }
    return hops[0].trim();
  }

  private boolean isTrusted(String address) {
    if (trustAll) {
      return true;
    }
    if (trusted.isEmpty()) {
      // No proxy configured (the default): nothing to parse on every request.
      return false;
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(literal(address)).getAddress();
    } catch (UnknownHostException | NumberFormatException e) {
      return false;
    }
    for (Range range : trusted) {
      if (range.network().length == bytes.length && matches(range, bytes)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matches(Range range, byte[] address) {
    int full = range.bits() / 8;
    for (int i = 0; i < full; i++) {
      if (range.network()[i] != address[i]) {
        return false;
      }
    }
    int rest = range.bits() % 8;
    if (rest == 0) {
      return true;
    }
    int mask = 0xff << (8 - rest) & 0xff;
    return (range.network()[full] & mask) == (address[full] & mask);
  }
}
