package io.portcullis.http;

/** Whether this process should receive traffic: false from the start of a graceful shutdown on. */
public final class Readiness {

  private volatile boolean shuttingDown;

  public boolean shuttingDown() {
    return shuttingDown;
  }

  public void beginShutdown() {
    shuttingDown = true;
  }
}
