package io.portcullis.it;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.annotation.Annotation;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Starts the whole service once per test class, into each static {@code TestApp} field marked {@link App}, and
 * stops it after the class (failing it when an event loop was blocked). A static {@code Mailbox} field marked
 * {@link Inbox} gets an SMTP server, started first, that every app of the class sends its mail to. Runs before the
 * class's own {@code @BeforeAll} methods and after its {@code @AfterAll} ones, so those may use the app.
 */
public final class AppExtension implements BeforeAllCallback, AfterAllCallback {

  /** A static {@code TestApp} field the extension fills. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.FIELD)
  public @interface App {
    /** Settings as environment variables would give them: {@code "PORTCULLIS_JWT_EXP=60"}. */
    String[] value() default {};

    /** The name of a static method of the test class answering more settings ({@code Map<String, String>}). */
    String settings() default "";
  }

  /** A static {@code Mailbox} field the extension fills with a listening SMTP server. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.FIELD)
  public @interface Inbox {
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    Class<?> test = context.getRequiredTestClass();
    Map<String, String> mail = new HashMap<>();
    for (Field field : fields(test, Inbox.class, Mailbox.class)) {
      Mailbox mailbox = Mailbox.start();
      field.setAccessible(true);
      field.set(null, mailbox);
      mail.putAll(mailbox.env());
    }
    for (Field field : fields(test, App.class, TestApp.class)) {
      App app = field.getAnnotation(App.class);
      Map<String, String> settings = new HashMap<>(mail);
      for (String setting : app.value()) {
        int eq = setting.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("@App setting without '=': " + setting);
        }
        settings.put(setting.substring(0, eq), setting.substring(eq + 1));
      }
      if (!app.settings().isEmpty()) {
        Method method = test.getDeclaredMethod(app.settings());
        method.setAccessible(true);
        @SuppressWarnings("unchecked")
        Map<String, String> more = (Map<String, String>) method.invoke(null);
        settings.putAll(more);
      }
      field.setAccessible(true);
      field.set(null, TestApp.start(settings));
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    AssertionError first = null;
    Class<?> test = context.getRequiredTestClass();
    for (Field field : fields(test, App.class, TestApp.class)) {
      field.setAccessible(true);
      TestApp app = (TestApp) field.get(null);
      field.set(null, null);
      if (app == null) {
        continue;
      }
      try {
        app.close();
      } catch (AssertionError | RuntimeException e) {
        if (first == null) {
          first = e instanceof AssertionError a ? a : new AssertionError(e);
        }
      }
    }
    // After the apps: their mail senders may still talk to it while they stop.
    for (Field field : fields(test, Inbox.class, Mailbox.class)) {
      field.setAccessible(true);
      Mailbox mailbox = (Mailbox) field.get(null);
      field.set(null, null);
      if (mailbox != null) {
        mailbox.close();
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static List<Field> fields(Class<?> test, Class<? extends Annotation> marker, Class<?> type) {
    List<Field> fields = new ArrayList<>();
    for (Field field : test.getDeclaredFields()) {
      if (field.isAnnotationPresent(marker)) {
        if (!Modifier.isStatic(field.getModifiers()) || field.getType() != type) {
          throw new IllegalStateException("@" + marker.getSimpleName() + " marks a static " + type.getSimpleName()
            + " field: " + field);
        }
        fields.add(field);
      }
    }
    return fields;
  }
}
