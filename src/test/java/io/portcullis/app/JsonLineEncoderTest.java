package io.portcullis.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The hand-written JSON line against logback's JsonEncoder with the same settings: the same bytes for any thread
 * name, message and key-value pairs (quotes, solidus, control characters, non-ASCII, nulls, numbers), and for the
 * lines it leaves to JsonEncoder.
 */
class JsonLineEncoderTest {

  private static final LoggerContext CONTEXT = new LoggerContext();

  @Property(tries = 300)
  void anyLineIsTheBytesJsonEncoderWrites(@ForAll("text") String thread, @ForAll("text") String message,
                                          @ForAll("pairs") List<KeyValuePair> pairs, @ForAll boolean warn,
                                          @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int millis) {
    LoggingEvent event = event(thread, message, warn ? Level.WARN : Level.INFO, millis);
    pairs.forEach(event::addKeyValuePair);
    byte[] line = encoder().encode(event);
    assertArrayEquals(reference().encode(event), line, () -> new String(line, StandardCharsets.UTF_8));
  }

  @Test
  void anAccessLineIsOneJsonObjectWithItsPairsInOrder() {
    LoggingEvent event = event("vert.x-eventloop-thread-1", "request", Level.INFO, 1_796_454_132_687L);
    event.addKeyValuePair(new KeyValuePair("path", "/auth/v1/user"));
    event.addKeyValuePair(new KeyValuePair("status", 200));
    event.addKeyValuePair(new KeyValuePair("duration_ms", 0.25));
    byte[] line = encoder().encode(event);
    assertEquals('\n', line[line.length - 1]);
    JsonObject json = new JsonObject(new String(line, StandardCharsets.UTF_8));
    assertEquals(1_796_454_132_687L, json.getLong("timestamp"));
    assertEquals("io.portcullis.access", json.getString("loggerName"));
    assertEquals(new JsonArray().add(new JsonObject().put("path", "/auth/v1/user"))
      .add(new JsonObject().put("status", "200")).add(new JsonObject().put("duration_ms", "0.25")),
      json.getJsonArray("kvpList"));
    assertArrayEquals(reference().encode(event), line);
  }

  @Test
  void linesWithAThrowableOrMdcValuesAreJsonEncoders() {
    LoggingEvent failed = new LoggingEvent("test", CONTEXT.getLogger("io.portcullis.x"), Level.ERROR, "failed",
      new IllegalStateException("broken \"state\""), null);
    failed.setThreadName("main");
    failed.setMDCPropertyMap(Map.of());
    assertArrayEquals(reference().encode(failed), encoder().encode(failed));

    LoggingEvent withMdc = new LoggingEvent("test", CONTEXT.getLogger("io.portcullis.x"), Level.INFO, "hello", null,
      null);
    withMdc.setThreadName("main");
    withMdc.setMDCPropertyMap(Map.of("user", "a/b"));
    assertArrayEquals(reference().encode(withMdc), encoder().encode(withMdc));
  }

  @Provide
  Arbitrary<String> text() {
    return Arbitraries.oneOf(
      Arbitraries.strings().withChars("ab/\\\"\u0000\u0008\t\n\u000c\r\u001f\u007f é€😀").ofMaxLength(12),
      Arbitraries.strings().all().ofMaxLength(8),
      Arbitraries.just(null));
  }

  @Provide
  Arbitrary<List<KeyValuePair>> pairs() {
    Arbitrary<Object> values = Arbitraries.oneOf(text().map(s -> s), Arbitraries.integers().map(i -> i),
      Arbitraries.doubles().map(d -> d), Arbitraries.just(null));
    return Arbitraries.entries(text(), values).map(e -> new KeyValuePair(e.getKey(), e.getValue()))
      .list().ofMaxSize(7);
  }

  private static LoggingEvent event(String thread, String message, Level level, long millis) {
    LoggingEvent event = new LoggingEvent("test", CONTEXT.getLogger("io.portcullis.access"), level, message, null,
      null);
    event.setThreadName(thread);
    event.setTimeStamp(millis);
    event.setMDCPropertyMap(Map.of());
    return event;
  }

  private static JsonLineEncoder encoder() {
    JsonLineEncoder encoder = new JsonLineEncoder();
    encoder.setContext(CONTEXT);
    encoder.start();
    return encoder;
  }

  /** JsonEncoder as the service used it before. */
  private static JsonEncoder reference() {
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext(CONTEXT);
    encoder.setWithSequenceNumber(false);
    encoder.setWithNanoseconds(false);
    encoder.setWithContext(false);
    encoder.setWithMessage(false);
    encoder.setWithArguments(false);
    encoder.setWithFormattedMessage(true);
    encoder.start();
    return encoder;
  }
}
