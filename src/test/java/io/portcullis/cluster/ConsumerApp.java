package io.portcullis.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import io.portcullis.bus.Addresses;
import io.portcullis.client.PortcullisAuthHandler;
import io.portcullis.client.PortcullisClient;
import io.portcullis.client.PortcullisException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.Arrays;

/**
 * Someone else's Vert.x application, run by ClusterTest as a process of its own (its class path holds the
 * client's classes, not the service's): it joins Portcullis's cluster, guards {@code GET /mine} with
 * {@link PortcullisAuthHandler}, and exposes each {@link PortcullisClient} method as {@code POST /call/<method>}
 * so that the test can drive it. Arguments: cluster name, members (comma-separated), HTTP port.
 */
public final class ConsumerApp extends VerticleBase {

  private final int port;

  private ConsumerApp(int port) {
    this.port = port;
  }

  public static void main(String[] args) {
    Config hazelcast = ConfigUtil.loadConfig();
    hazelcast.setClusterName(args[0]);
    hazelcast.setProperty("hazelcast.phone.home.enabled", "false");
    hazelcast.setProperty("hazelcast.logging.type", "none");
    hazelcast.setProperty("hazelcast.local.localAddress", "127.0.0.1");
    hazelcast.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    hazelcast.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
    hazelcast.setProperty("hazelcast.wait.seconds.before.join", "0");
    JoinConfig join = hazelcast.getNetworkConfig().setPort(Integer.parseInt(args[3])).getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(Arrays.asList(args[1].split(",")));
    VertxOptions options = new VertxOptions();
    options.getEventBusOptions().setHost("127.0.0.1");
    Vertx.builder().with(options).withClusterManager(new HazelcastClusterManager(hazelcast)).buildClustered()
      .compose(vertx -> vertx.deployVerticle(new ConsumerApp(Integer.parseInt(args[2]))))
      .onSuccess(id -> System.out.println("consumer ready"))
      .onFailure(e -> {
        e.printStackTrace();
        System.exit(1);
      });
  }

  @Override
  public Future<?> start() {
    PortcullisClient portcullis = PortcullisClient.create(vertx, 3_000);
    // The hooks, for every Portcullis of the cluster: a claim added (or, for strip-*, a required one removed; for
    // slow-*, no answer at all), and sign-ups of blocked-* refused.
    vertx.eventBus().<JsonObject>consumer(Addresses.HOOK_CUSTOM_ACCESS_TOKEN, msg -> {
      JsonObject claims = msg.body().getJsonObject("claims");
      String email = claims.getString("email", "");
      if (email.startsWith("slow-")) {
        return;
      }
      if (email.startsWith("strip-")) {
        claims.remove("role");
      }
      claims.put("plan", "gold").put("hooked_method", msg.body().getString("authentication_method"));
      msg.reply(new JsonObject().put("claims", claims));
    });
    vertx.eventBus().<JsonObject>consumer(Addresses.HOOK_BEFORE_USER_CREATED, msg ->
      msg.reply(msg.body().getJsonObject("user").getString("email", "").startsWith("blocked-")
        ? new JsonObject().put("decision", "reject").put("message", "Not on the guest list")
        : new JsonObject()));
    return PortcullisAuthHandler.create(vertx, portcullis).compose(auth -> {
      Router router = Router.router(vertx);
      router.get("/mine").handler(auth).handler(ctx -> ctx.json(new JsonObject()
        .put("sub", ctx.user().principal().getString("sub"))
        .put("session_id", ctx.user().principal().getString("session_id"))));
      router.post("/call/:method").handler(BodyHandler.create()).handler(ctx -> call(portcullis, ctx));
      return vertx.createHttpServer().requestHandler(router).listen(port, "127.0.0.1");
    });
  }

  private static void call(PortcullisClient portcullis, RoutingContext ctx) {
    JsonObject in = ctx.body().asJsonObject();
    Future<Object> result = switch (ctx.pathParam("method")) {
      case "signUp" -> portcullis.signUp(in.getString("email"), in.getString("password"), in.getJsonObject("data"))
        .map(o -> o);
      case "signIn" -> portcullis.signIn(in.getString("email"), in.getString("password")).map(o -> o);
      case "refresh" -> portcullis.refresh(in.getString("refresh_token")).map(o -> o);
      case "verify" -> portcullis.verify(in.getString("token")).map(o -> o);
      case "user" -> portcullis.user(in.getString("id")).map(o -> o);
      case "userByEmail" -> portcullis.userByEmail(in.getString("email")).map(o -> o);
      case "endSession" -> portcullis.endSession(in.getString("session_id")).map(n -> new JsonObject().put("ended", n));
      case "endSessions" -> portcullis.endSessions(in.getString("user_id")).map(n -> new JsonObject().put("ended", n));
      case "jwks" -> portcullis.jwks().map(o -> o);
      case "sessions" -> portcullis.sessions(in.getString("user_id")).map(list -> new JsonObject().put("sessions", list));
      default -> Future.failedFuture(new PortcullisException(404, "not_found", "no such method", null));
    };
    long start = System.nanoTime();
    result.onSuccess(body -> ctx.json(body)).onFailure(e -> {
      PortcullisException error = (PortcullisException) e;
      ctx.response().setStatusCode(error.status()).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("status", error.status()).put("error_code", error.errorCode())
          .put("millis", (System.nanoTime() - start) / 1_000_000).encode());
    });
  }
}
