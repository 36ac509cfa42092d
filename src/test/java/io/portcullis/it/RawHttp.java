package io.portcullis.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, byte for byte as written: any method, any request target, header values with
 * any bytes, bodies that are not valid UTF-8, chunked bodies. {@code java.net.http} refuses most of that. One
 * connection per request ({@code Connection: close}).
 */
public final class RawHttp {

  /** A request as it goes on the wire. {@code headers} are name/value pairs sent in order, as ISO-8859-1 bytes. */
  public static final class Request {
    public final String method;
    public final String target;
    public final List<String[]> headers = new ArrayList<>();
    public byte[] body;
    public boolean chunked;
    public boolean host = true;
    public String version = "HTTP/1.1";

    public Request(String method, String target) {
      this.method = method;
      this.target = target;
    }

    public Request header(String name, String value) {
      headers.add(new String[] {name, value});
      return this;
    }

    public Request body(byte[] bytes) {
      this.body = bytes;
      return this;
    }

    public Request body(String text) {
      return body(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The value of the first header of that name (case-insensitive), or null. */
    public String header(String name) {
      return headers.stream().filter(h -> h[0].equalsIgnoreCase(name)).map(h -> h[1]).findFirst().orElse(null);
    }

    byte[] bytes(int port) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      write(out, method + " " + target + " " + version + "\r\n");
      if (host) {
        write(out, "Host: 127.0.0.1:" + port + "\r\n");
      }
      for (String[] h : headers) {
        write(out, h[0] + ": " + h[1] + "\r\n");
      }
      if (body != null && chunked) {
        write(out, "Transfer-Encoding: chunked\r\n");
      } else if (body != null) {
        write(out, "Content-Length: " + body.length + "\r\n");
      }
      write(out, "Connection: close\r\n\r\n");
      if (body != null && chunked) {
        int at = 0;
        int size = 1;
        while (at < body.length) {
          int n = Math.min(size, body.length - at);
          write(out, Integer.toHexString(n) + "\r\n");
          out.write(body, at, n);
          write(out, "\r\n");
          at += n;
          size = size * 3 + 1;
        }
        write(out, "0\r\n\r\n");
      } else if (body != null) {
        out.write(body, 0, body.length);
      }
      return out.toByteArray();
    }

    /** A short description for failure messages: the request line, headers and the body's start. */
    public String describe() {
      StringBuilder s = new StringBuilder(method).append(' ').append(abbreviate(visible(target), 300));
      if (!version.equals("HTTP/1.1")) {
        s.append(' ').append(visible(version));
      }
      for (String[] h : headers) {
        s.append("\n  ").append(h[0]).append(": ").append(abbreviate(visible(h[1]), 200));
      }
      if (chunked) {
        s.append("\n  (chunked)");
      }
      if (body != null) {
        s.append("\n  body[").append(body.length).append("]: ")
          .append(abbreviate(visible(new String(body, StandardCharsets.ISO_8859_1)), 400));
      }
      return s.toString();
    }

    private static void write(ByteArrayOutputStream out, String latin1) {
      byte[] bytes = latin1.getBytes(StandardCharsets.ISO_8859_1);
      out.write(bytes, 0, bytes.length);
    }
  }

  /** A response: status, headers by lower-case name, body bytes. */
  public record Reply(int status, Map<String, List<String>> headers, byte[] body) {

    public String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public String describe() {
      return status + " " + headers + "\n  " + abbreviate(visible(text()), 600);
    }
  }

  /** No response at all: the connection closed, or nothing came within the timeout (a hang). */
  public static final class NoReply extends RuntimeException {
    NoReply(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private RawHttp() {
  }

  public static Reply send(int port, Request request, int timeoutMs) {
    byte[] bytes = request.bytes(port);
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      socket.setSoTimeout(timeoutMs);
      OutputStream out = socket.getOutputStream();
      try {
        out.write(bytes);
        out.flush();
      } catch (IOException e) {
        // The server may answer (413, 400) and close before reading everything: read what it said.
      }
      return read(socket.getInputStream());
    } catch (SocketTimeoutException e) {
      throw new NoReply("no response within " + timeoutMs + " ms (hang)", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Reply read(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] chunk = new byte[8192];
    while (true) {
      byte[] data = all.toByteArray();
      int headEnd = indexOf(data, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0);
      if (headEnd >= 0) {
        String head = new String(data, 0, headEnd, StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(head.substring(9, 12));
        if (status >= 100 && status < 200) {
          // An interim response (100 Continue): drop it, the real one follows.
          ByteArrayOutputStream rest = new ByteArrayOutputStream();
          rest.write(data, headEnd + 4, data.length - headEnd - 4);
          all = rest;
          continue;
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (String line : head.split("\r\n")) {
          int colon = line.indexOf(':');
          if (colon > 0 && !line.startsWith("HTTP/")) {
            headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
              .add(line.substring(colon + 1).trim());
          }
        }
        byte[] body = body(in, data, headEnd + 4, headers);
        return new Reply(status, headers, body);
      }
      int n = in.read(chunk);
      if (n < 0) {
        throw new NoReply("connection closed without a complete response: "
          + visible(new String(data, StandardCharsets.ISO_8859_1)), null);
      }
      all.write(chunk, 0, n);
    }
  }

  private static byte[] body(InputStream in, byte[] data, int start, Map<String, List<String>> headers)
    throws IOException {
    List<String> length = headers.get("content-length");
    List<String> encoding = headers.get("transfer-encoding");
    byte[] chunk = new byte[8192];
    if (encoding != null && encoding.get(0).equalsIgnoreCase("chunked")) {
      byte[] rest = readUntilEof(in, Arrays.copyOfRange(data, start, data.length));
      return dechunk(rest);
    }
    if (length != null) {
      int n = Integer.parseInt(length.get(0));
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      body.write(data, start, Math.min(n, data.length - start));
      while (body.size() < n) {
        int r = in.read(chunk);
        if (r < 0) {
          break;
        }
        body.write(chunk, 0, r);
      }
      byte[] bytes = body.toByteArray();
      return bytes.length > n ? Arrays.copyOf(bytes, n) : bytes;
    }
    return readUntilEof(in, Arrays.copyOfRange(data, start, data.length));
  }

  private static byte[] readUntilEof(InputStream in, byte[] start) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(start, 0, start.length);
    byte[] chunk = new byte[8192];
    int n;
    while ((n = in.read(chunk)) >= 0) {
      out.write(chunk, 0, n);
    }
    return out.toByteArray();
  }

  private static byte[] dechunk(byte[] raw) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    while (at < raw.length) {
      int lineEnd = indexOf(raw, "\r\n".getBytes(StandardCharsets.ISO_8859_1), at);
      if (lineEnd < 0) {
        break;
      }
      String sizeLine = new String(raw, at, lineEnd - at, StandardCharsets.ISO_8859_1).trim();
      int semicolon = sizeLine.indexOf(';');
      int size = Integer.parseInt(semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine, 16);
      if (size == 0) {
        break;
      }
      out.write(raw, lineEnd + 2, Math.min(size, raw.length - lineEnd - 2));
      at = lineEnd + 2 + size + 2;
    }
    return out.toByteArray();
  }

  private static int indexOf(byte[] data, byte[] needle, int from) {
    outer:
    for (int i = from; i <= data.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (data[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** Control and non-ASCII characters made visible, so failure messages stay readable. */
  public static String visible(String s) {
    StringBuilder out = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || Character.isSurrogate(c)) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  public static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "...(" + s.length() + " chars)";
  }
}
