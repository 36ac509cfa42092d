package io.portcullis.cluster;

import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.portcullis.config.Config;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The clustered Vert.x: Hazelcast joined over TCP to the configured members only (no multicast, no cloud
 * auto-detection, no phone-home), bound to {@code cluster.host}, with the event bus on the same address. Touched
 * only when {@code cluster.enabled}.
 */
final class HazelcastCluster {

  private static final Logger LOG = LoggerFactory.getLogger(HazelcastCluster.class);

  private HazelcastCluster() {
  }

  static Future<Vertx> vertx(Config.Cluster cluster, VertxOptions options) {
    // A name (a compose service) is resolved here: Hazelcast and the event bus advertise an address.
    String host;
    try {
      host = InetAddress.getByName(cluster.host()).getHostAddress();
    } catch (UnknownHostException e) {
      return Future.failedFuture(new IllegalStateException("cluster.host " + cluster.host() + " does not resolve"));
    }
    // Vert.x's own structures (__vertx.subs and the others) keep the types its defaults give them.
    com.hazelcast.config.Config hazelcast = ConfigUtil.loadConfig();
    hazelcast.setClusterName(cluster.name());
    hazelcast.setProperty("hazelcast.phone.home.enabled", "false");
    hazelcast.setProperty("hazelcast.logging.type", "slf4j");
    hazelcast.setProperty("hazelcast.local.localAddress", host);
    // A member that died is dropped after seconds, not Hazelcast's default minute, so requests stop going its way.
    hazelcast.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    hazelcast.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
    hazelcast.setProperty("hazelcast.wait.seconds.before.join", "0");
    // Vert.x leaves the cluster when the process shuts down; Hazelcast's own hook would leave before it.
    hazelcast.setProperty("hazelcast.shutdownhook.enabled", "false");
    NetworkConfig network = hazelcast.getNetworkConfig();
    network.setPort(cluster.port()).setPortAutoIncrement(true);
    network.getRestApiConfig().setEnabled(false);
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getAwsConfig().setEnabled(false);
    join.getKubernetesConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(cluster.members());
    options.getEventBusOptions().setHost(host).setPort(0);
    LOG.info("Joining cluster '{}' as {} (Hazelcast port {}+, members {})", cluster.name(), host,
      cluster.port(), cluster.members());
    return Vertx.builder()
      .with(options)
      .withClusterManager(new HazelcastClusterManager(hazelcast))
      .buildClustered();
  }
}
