package io.portcullis.hooks;

import io.portcullis.bus.Addresses;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * The extension points of token issuance and sign-up, as GoTrue has them: {@code custom_access_token} replaces an
 * access token's claims, {@code before_user_created} may refuse a sign-up. Each is served by any verticle on the
 * (clustered) bus at its fixed address, or by an HTTP endpoint signed as Standard Webhooks. Fail closed: a hook that
 * does not answer within {@code hooks.timeout_ms}, fails, or answers nonsense fails the operation (500
 * {@code hook_failed}); no unhooked token is ever issued while the hook is on.
 */
public final class Hooks {

  /** The claims a custom access token hook may not remove (GoTrue's minimum token schema). */
  static final List<String> REQUIRED_CLAIMS = List.of("aud", "exp", "iat", "sub", "email", "phone", "role", "aal",
    "session_id", "is_anonymous");

  private static final Logger LOG = LoggerFactory.getLogger(Hooks.class);

  private final Vertx vertx;
  private final Config.Hooks config;
  private final Clock clock;
  private final HttpClient http;

  public Hooks(Vertx vertx, Config.Hooks config, Clock clock) {
    this.vertx = vertx;
    this.config = config;
    this.clock = clock;
    boolean anyHttp = !config.customAccessToken().uri().isEmpty() || !config.beforeUserCreated().uri().isEmpty();
    this.http = anyHttp ? vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(config.timeoutMs())) : null;
  }

  /** The claims to sign: {@code claims} itself when the hook is off, else the hook's, checked. */
  public Future<JsonObject> customAccessToken(String userId, JsonObject claims, String authenticationMethod) {
    Config.Hook hook = config.customAccessToken();
    if (!hook.enabled()) {
      return Future.succeededFuture(claims);
    }
    JsonObject input = new JsonObject()
      .put("user_id", userId)
      .put("claims", claims.copy())
      .put("authentication_method", authenticationMethod);
    return call(hook, Addresses.HOOK_CUSTOM_ACCESS_TOKEN, "customize-access-token", input).map(output -> {
      if (!(output.getValue("claims") instanceof JsonObject replaced)) {
        throw failed("output claims field is missing", null);
      }
      for (String claim : REQUIRED_CLAIMS) {
        if (!replaced.containsKey(claim)) {
          throw failed("output claims do not conform to the expected schema: " + claim + " is required", null);
        }
      }
      Object aud = replaced.getValue("aud");
      if (!(replaced.getValue("exp") instanceof Number) || !(replaced.getValue("iat") instanceof Number)
        || !(aud instanceof String || aud instanceof JsonArray) || !(replaced.getValue("sub") instanceof String)
        || !(replaced.getValue("role") instanceof String)) {
        throw failed("output claims do not conform to the expected schema", null);
      }
      return replaced;
    });
  }

  /** Completes when the sign-up of {@code user} may go on; 403 {@code hook_rejected} when the hook refuses it. */
  public Future<Void> beforeUserCreated(JsonObject user) {
    Config.Hook hook = config.beforeUserCreated();
    if (!hook.enabled()) {
      return Future.succeededFuture();
    }
    return call(hook, Addresses.HOOK_BEFORE_USER_CREATED, "before-user-created", new JsonObject().put("user", user))
      .compose(output -> "reject".equals(output.getValue("decision"))
        ? Future.failedFuture(new AuthException(ErrorCode.HOOK_REJECTED,
          output.getValue("message") instanceof String message && !message.isBlank() ? message : "Sign-up refused"))
        : Future.succeededFuture());
  }

  private Future<JsonObject> call(Config.Hook hook, String address, String name, JsonObject input) {
    Future<JsonObject> output = hook.uri().isEmpty() ? overBus(address, input) : overHttp(hook, name, input);
    return output.recover(e -> Future.failedFuture(e instanceof AuthException auth ? auth
      : failed("hook " + name + " failed: " + e.getMessage(), e)));
  }

  /** Any member of the cluster may serve the hook (not local-only); no handler fails closed like a time-out. */
  private Future<JsonObject> overBus(String address, JsonObject input) {
    return vertx.eventBus().<Object>request(address, input, new DeliveryOptions().setSendTimeout(config.timeoutMs()))
      .map(Message::body)
      .map(body -> {
        if (!(body instanceof JsonObject json)) {
          throw failed("hook at " + address + " did not answer a JSON object", null);
        }
        return json;
      });
  }

  /** POSTs the input with GoTrue's metadata, signed as Standard Webhooks ({@code webhook-signature: v1,...}). */
  private Future<JsonObject> overHttp(Config.Hook hook, String name, JsonObject input) {
    String id = UUID.randomUUID().toString();
    long timestamp = clock.instant().getEpochSecond();
    JsonObject payload = input.copy().put("metadata", new JsonObject()
      .put("uuid", id).put("time", clock.instant().toString()).put("name", name));
    String body = payload.encode();
    String signature;
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(Base64.getDecoder().decode(hook.secret().substring("whsec_".length())), "HmacSHA256"));
      signature = Base64.getEncoder().encodeToString(
        mac.doFinal((id + "." + timestamp + "." + body).getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      return Future.failedFuture(e);
    }
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(hook.uri())
      .setTimeout(config.timeoutMs())
      .putHeader("Content-Type", "application/json")
      .putHeader("webhook-id", id)
      .putHeader("webhook-timestamp", Long.toString(timestamp))
      .putHeader("webhook-signature", "v1," + signature);
    return http.request(request)
      .compose(req -> req.send(Buffer.buffer(body)))
      .compose(response -> response.body().map(answer -> {
        if (response.statusCode() != 200) {
          throw failed("hook " + name + " answered HTTP " + response.statusCode(), null);
        }
        return answer.length() == 0 ? new JsonObject() : new JsonObject(answer);
      }));
  }

  private static AuthException failed(String why, Throwable cause) {
    // The reason is for the operator's log, not the client's answer.
    LOG.warn("Hook failed: {}", why);
    return new AuthException(ErrorCode.HOOK_FAILED, "Error running hook", cause);
  }
}
