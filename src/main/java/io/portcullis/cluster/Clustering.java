package io.portcullis.cluster;

import io.portcullis.config.Config;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/**
 * Makes the process's Vert.x: a plain one, or with {@code cluster.enabled} a clustered one on Hazelcast. Names no
 * Hazelcast class itself, so that a process with the cluster off never loads one.
 */
public final class Clustering {

  private Clustering() {
  }

  public static Future<Vertx> vertx(Config config, VertxOptions options) {
    if (!config.cluster().enabled()) {
      return Future.succeededFuture(Vertx.vertx(options));
    }
    return HazelcastCluster.vertx(config.cluster(), options);
  }
}
