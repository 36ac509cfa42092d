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
    // Statements longer than the client's default limit (2,048 characters) would be parsed again on every use, a
    // round trip of its own: the one-statement refresh with the user's columns is about 2,300.
    PgConnectOptions options = new PgConnectOptions(connect).setCachePreparedStatements(true)
      .setPreparedStatementCacheSqlLimit(8192);
    PoolOptions pool = new PoolOptions().setMaxSize(maxSize).setShared(true).setName("portcullis")
      .setMaxWaitQueueSize(10_000);
    return PgBuilder.pool().with(pool).connectingTo(options).using(vertx).build();
  }
}
