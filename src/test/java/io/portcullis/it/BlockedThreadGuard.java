package io.portcullis.it;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A logback appender (configured in logback-test.xml) that collects Vert.x blocked-thread warnings, so that
 * {@link TestApp#close()} can fail the test that caused one: a blocked event loop is a bug.
 */
public final class BlockedThreadGuard extends AppenderBase<ILoggingEvent> {

  private static final List<String> WARNINGS = new CopyOnWriteArrayList<>();

  @Override
  protected void append(ILoggingEvent event) {
    if (event.getLoggerName().contains("BlockedThreadChecker")) {
      WARNINGS.add(event.getFormattedMessage());
    }
  }

  public static List<String> drain() {
    List<String> copy = List.copyOf(WARNINGS);
    WARNINGS.clear();
    return copy;
  }
}
