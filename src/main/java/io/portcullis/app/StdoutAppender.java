package io.portcullis.app;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The service's log appender (see LogSetup): writes to System.out as logback's ConsoleAppender does, except that
 * the lines of one logger (the access log, a line per request) are written in batches. One write per line cost about as much as encoding
 * the line (some 4 us on a file); under load that was a write call per request, taken in turn by every event loop.
 * <p>
 * Any other line is written at once, with every access line before it, so the order holds and nothing but access
 * lines ever waits; those wait at most {@link #FLUSH_MILLIS} (a flusher thread) or until the buffer fills. Lines a
 * process killed outright had not written yet are lost: at most that interval of access lines.
 */
public final class StdoutAppender extends OutputStreamAppender<ILoggingEvent> {

  private static final int BUFFER_BYTES = 64 * 1024;
  /** The logger whose lines are batched. */
  private static final String BATCHED_LOGGER = "io.portcullis.access";
  /** How long a batched line may wait in the buffer. */
  private static final long FLUSH_MILLIS = 100;

  /** Access lines are in the buffer, not yet written. */
  private volatile boolean pending;
  private Thread flusher;

  @Override
  public void start() {
    if (getOutputStream() == null) {
      setOutputStream(new BufferedOutputStream(new Stdout(), BUFFER_BYTES));
    }
    setImmediateFlush(false);
    super.start();
    if (isStarted()) {
      flusher = new Thread(this::flushPeriodically, "portcullis-log-flush");
      flusher.setDaemon(true);
      flusher.start();
    }
  }

  @Override
  protected void subAppend(ILoggingEvent event) {
    super.subAppend(event);
    if (BATCHED_LOGGER.equals(event.getLoggerName())) {
      pending = true;
    } else {
      flush();
    }
  }

  @Override
  public void stop() {
    if (flusher != null) {
      flusher.interrupt();
    }
    flush();
    super.stop();
  }

  private void flushPeriodically() {
    while (isStarted()) {
      try {
        Thread.sleep(FLUSH_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
      if (pending) {
        flush();
      }
    }
  }

  private void flush() {
    streamWriteLock.lock();
    try {
      pending = false;
      OutputStream out = getOutputStream();
      if (out != null) {
        out.flush();
      }
    } catch (IOException e) {
      addError("Could not write the log to stdout", e);
    } finally {
      streamWriteLock.unlock();
    }
  }

  /**
   * Whatever System.out is at the time of the write, as for ConsoleAppender (one-shot commands point it at stderr);
   * never closed by the appender (a stop or a new stream closes the old one): stdout belongs to the process.
   */
  private static final class Stdout extends OutputStream {

    @Override
    public void write(int b) {
      System.out.write(b);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) {
      System.out.write(bytes, offset, length);
    }

    @Override
    public void flush() {
      System.out.flush();
    }

    @Override
    public void close() {
      flush();
    }
  }
}
