package io.portcullis.db;

import io.portcullis.AppContext;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;

/** A verticle that works on the process's shared pool: taken when it starts, released when it stops. */
public abstract class DatabaseVerticle extends VerticleBase {

  protected final AppContext app;
  protected Pool pool;

  protected DatabaseVerticle(AppContext app) {
    this.app = app;
  }

  @Override
  public final Future<?> start() {
    pool = Pools.shared(vertx, app.database(), app.config().db().poolSize());
    return serve();
  }

  /** Registers the verticle's consumers; completes when they are registered. */
  protected abstract Future<?> serve();

  @Override
  public Future<?> stop() {
    return pool == null ? Future.succeededFuture() : pool.close();
  }
}
