package io.portcullis.app;

import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import org.slf4j.event.KeyValuePair;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The JSON log format: logback's {@link JsonEncoder} with the fields the service logs (timestamp, level, thread,
 * logger, MDC, key-value pairs, formatted message, throwable), written by hand for the common line.
 * <p>
 * An access-log line went through JsonEncoder at every request: a 1 KiB builder, a string and an escaped copy of
 * every key and value, the whole line as a string, then as bytes, some 4 KiB of garbage and a few microseconds
 * a request. A line without a throwable, markers or MDC values is written here into the thread's own builder
 * instead, with JsonEncoder's escaping, and comes out as the same bytes (JsonLineEncoderTest compares the two);
 * any other line is JsonEncoder's.
 */
final class JsonLineEncoder extends JsonEncoder {

  private static final int LINE_CHARS = 512;
  /** A builder that grew past this for one long line is not kept for the thread's next ones. */
  private static final int KEPT_CHARS = 16 * 1024;
  private static final ThreadLocal<StringBuilder> LINE = ThreadLocal.withInitial(() -> new StringBuilder(LINE_CHARS));
  /** JsonEncoder's escapes of the control characters (JSON's short forms where it has them). */
  private static final String[] CONTROL = new String[' '];

  static {
    for (char c = 0; c < ' '; c++) {
      CONTROL[c] = String.format("\\u%04X", (int) c);
    }
    CONTROL['\b'] = "\\b";
    CONTROL['\t'] = "\\t";
    CONTROL['\n'] = "\\n";
    CONTROL['\f'] = "\\f";
    CONTROL['\r'] = "\\r";
  }

  JsonLineEncoder() {
    setWithSequenceNumber(false);
    setWithNanoseconds(false);
    setWithContext(false);
    setWithMessage(false);
    setWithArguments(false);
    setWithFormattedMessage(true);
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    Map<String, String> mdc = event.getMDCPropertyMap();
    if (event.getThrowableProxy() != null || event.getMarkerList() != null || event.getLevel() == null
      || (mdc != null && !mdc.isEmpty())) {
      return super.encode(event);
    }
    StringBuilder line = LINE.get();
    line.setLength(0);
    line.append("{\"timestamp\":").append(event.getTimeStamp())
      .append(",\"level\":\"").append(event.getLevel().levelStr)
      .append("\",\"threadName\":");
    quoted(line, event.getThreadName());
    // JsonEncoder writes the logger's name as it is, unescaped.
    line.append(",\"loggerName\":\"").append(event.getLoggerName()).append("\",\"mdc\": {}");
    List<KeyValuePair> pairs = event.getKeyValuePairs();
    if (pairs != null && !pairs.isEmpty()) {
      line.append(",\"kvpList\": [");
      for (int i = 0; i < pairs.size(); i++) {
        KeyValuePair pair = pairs.get(i);
        line.append(i == 0 ? "{" : ",{");
        quoted(line, pair.key);
        line.append(':');
        quoted(line, pair.value == null ? null : pair.value.toString());
        line.append('}');
      }
      line.append(']');
    }
    line.append(",\"formattedMessage\":");
    quoted(line, event.getFormattedMessage());
    line.append(",\"throwable\":null}\n");
    byte[] bytes = bytes(line);
    if (line.capacity() > KEPT_CHARS) {
      LINE.remove();
    }
    return bytes;
  }

  /** {@code "value"} escaped as JsonEncoder escapes (the solidus too); null as JsonEncoder writes it, quoted. */
  private static void quoted(StringBuilder line, String value) {
    line.append('"');
    if (value == null) {
      line.append("null");
    } else {
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c < ' ') {
          line.append(CONTROL[c]);
        } else if (c == '"' || c == '\\' || c == '/') {
          line.append('\\').append(c);
        } else {
          line.append(c);
        }
      }
    }
    line.append('"');
  }

  /** The line in UTF-8: byte for char when it is ASCII, as it almost always is. */
  private static byte[] bytes(StringBuilder line) {
    int length = line.length();
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      char c = line.charAt(i);
      if (c >= 0x80) {
        return line.toString().getBytes(StandardCharsets.UTF_8);
      }
      bytes[i] = (byte) c;
    }
    return bytes;
  }
}
