package io.portcullis.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.portcullis.error.AuthException;
import io.vertx.core.AsyncResult;
import io.vertx.micrometer.backends.BackendRegistries;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Portcullis's own meters, next to Vert.x's HTTP, pool and event-bus metrics in the same Prometheus registry:
 * sign-ins by outcome, refreshes by outcome, reuse detections, lockouts, rate-limit hits, and histograms of the
 * password-hash time and of the wait for a hashing worker.
 */
public final class AuthMetrics {

  private final MeterRegistry registry;
  private final String registryName;
  private final Timer hashTime;
  private final Timer hashWait;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

  private AuthMetrics(MeterRegistry registry, String registryName) {
    this.registry = registry;
    this.registryName = registryName;
    this.hashTime = Timer.builder("portcullis.password.hash")
      .description("Time to hash or verify one password")
      .publishPercentileHistogram()
      .register(registry);
    this.hashWait = Timer.builder("portcullis.password.hash.queue.wait")
      .description("Time a hashing request waited for a credential worker")
      .publishPercentileHistogram()
      .register(registry);
  }

  /** The meters of the Vert.x registry {@code registryName}, or meters nobody scrapes when metrics are off. */
  public static AuthMetrics of(String registryName) {
    MeterRegistry registry = registryName == null ? null : BackendRegistries.getNow(registryName);
    return registry == null
      ? new AuthMetrics(new SimpleMeterRegistry(), null)
      : new AuthMetrics(registry, registryName);
  }

  /** The Vert.x registry that {@code /metrics} scrapes; null when metrics are off. */
  public String registryName() {
    return registryName;
  }

  public void signIn(String outcome) {
    count("portcullis.signins", "outcome", outcome);
  }

  public void refresh(String outcome) {
    count("portcullis.refreshes", "outcome", outcome);
  }

  public void reuseDetected() {
    count("portcullis.refresh.token.reuse", null, null);
  }

  public void lockout() {
    count("portcullis.lockouts", null, null);
  }

  public void rateLimited(String route) {
    count("portcullis.rate.limited", "route", route);
  }

  public void hashed(long nanos) {
    hashTime.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void waitedForHashing(Duration wait) {
    hashWait.record(wait);
  }

  /** The outcome label of a sign-in or refresh: {@code success}, or the error code it answered. */
  public static String outcome(AsyncResult<?> result) {
    if (result.succeeded()) {
      return "success";
    }
    return result.cause() instanceof AuthException auth ? auth.code().code() : "unexpected_failure";
  }

  private void count(String name, String tag, String value) {
    counters.computeIfAbsent(name + '|' + value, k -> tag == null
      ? Counter.builder(name).register(registry)
      : Counter.builder(name).tag(tag, value).register(registry)).increment();
  }
}
