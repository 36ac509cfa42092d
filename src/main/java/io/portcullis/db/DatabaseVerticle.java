package io.portcullis.db;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;

/** A verticle that works on the process's shared pool: taken when it starts, released when it stops. */
public abstract class DatabaseVerticle extends VerticleBase {

  private final PgConnectOptions database;
  private final int poolSize;
  protected Pool pool;

  protected DatabaseVerticle(PgConnectOptions database, int poolSize) {
    this.database = database;
    this.poolSize = poolSize;
  }

  @Override
  public final Future<?> start() {
    pool = Pools.shared(vertx, database, poolSize);
    return serve();
  }

  /** Registers the verticle's consumers; completes when they are registered. */
  protected abstract Future<?> serve();

  @Override
  public Future<?> stop() {
    return pool == null ? Future.succeededFuture() : pool.close();
  }
}
