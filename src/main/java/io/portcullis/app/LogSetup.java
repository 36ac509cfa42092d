package io.portcullis.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.status.NopStatusListener;

import java.util.Set;

/**
 * The service's logging configuration, one for every environment, found by logback through
 * {@code META-INF/services}:
 * {@code PORTCULLIS_LOG_FORMAT} = {@code JSON} (default: one JSON object per line) or {@code TEXT} (for reading in a
 * terminal); {@code PORTCULLIS_LOG_LEVEL} (default INFO); {@code PORTCULLIS_ACCESS_LOG_LEVEL} (default INFO; WARN
 * silences the access log). Never log a password, token, hash or key.
 *
 * <p>Written in code rather than as a {@code logback.xml}: reading XML brings logback's Joran configurator, an XML
 * parser and their model classes, some 600 classes and a tenth of the JVM's start-up. A {@code logback.xml} named by
 * {@code -Dlogback.configurationFile}, or a {@code logback-test.xml} on the class path (the tests'), still wins.
 */
public final class LogSetup extends ContextAwareBase implements Configurator {

  private static final String FORMAT = "PORTCULLIS_LOG_FORMAT";
  private static final String LEVEL = "PORTCULLIS_LOG_LEVEL";
  private static final String ACCESS_LEVEL = "PORTCULLIS_ACCESS_LOG_LEVEL";
  /** The environment variables read here. */
  public static final Set<String> VARIABLES = Set.of(FORMAT, LEVEL, ACCESS_LEVEL);
  private static final String TEXT_PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg %kvp%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
      || LogSetup.class.getClassLoader().getResource("logback-test.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    apply(context);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** Configures {@code context}, whose properties come before system properties and the environment. */
  static void apply(LoggerContext context) {
    // As the XML configuration had it: logback's own status messages stay quiet.
    context.getStatusManager().add(new NopStatusListener());
    // Like ConsoleAppender, with the access log's lines written in batches (at most 100 ms late).
    StdoutAppender console = new StdoutAppender();
    console.setContext(context);
    console.setName("TEXT".equals(setting(context, FORMAT)) ? "TEXT" : "JSON");
    console.setEncoder(console.getName().equals("TEXT") ? text(context) : json(context));
    console.start();
    context.getLogger("liquibase").setLevel(Level.WARN);
    context.getLogger("io.zonky").setLevel(Level.WARN);
    context.getLogger("io.netty").setLevel(Level.WARN);
    context.getLogger("io.portcullis.access").setLevel(level(context, ACCESS_LEVEL));
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(level(context, LEVEL));
    root.addAppender(console);
  }

  private static Encoder<ILoggingEvent> json(LoggerContext context) {
    JsonLineEncoder encoder = new JsonLineEncoder();
    encoder.setContext(context);
    encoder.start();
    return encoder;
  }

  private static Encoder<ILoggingEvent> text(LoggerContext context) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(TEXT_PATTERN);
    encoder.start();
    return encoder;
  }

  /** As logback reads {@code ${NAME:-INFO}}: a context property, else a system property, else the environment. */
  private static Level level(LoggerContext context, String name) {
    String value = setting(context, name);
    return value == null ? Level.INFO : Level.toLevel(value);
  }

  private static String setting(LoggerContext context, String name) {
    String value = context.getProperty(name);
    if (value == null) {
      value = System.getProperty(name);
    }
    if (value == null) {
      value = System.getenv(name);
    }
    return value == null || value.isEmpty() ? null : value;
  }
}
