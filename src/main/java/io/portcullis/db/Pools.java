package io.portcullis.db;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

/** One shared pool per process: every verticle asks for it by name and gets the same connections. */
public final class Pools {

  private Pools() {
  }

  public static Pool shared(Vertx vertx, PgConnectOptions connect, int maxSize) {
    PgConnectOptions options = new PgConnectOptions(connect).setCachePreparedStatements(true);
    PoolOptions pool = new PoolOptions().setMaxSize(maxSize).setShared(true).setName("portcullis")
      .setMaxWaitQueueSize(10_000);
    return PgBuilder.pool().with(pool).connectingTo(options).using(vertx).build();
  }
}
