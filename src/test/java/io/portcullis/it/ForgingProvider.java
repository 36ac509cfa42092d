package io.portcullis.it;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * An OpenID Connect provider whose token endpoint answers whatever ID token the test forges (for the failures a
 * well-behaved provider never produces: a token signed by a key it does not publish, or for another audience).
 * Discovery and JWKS are real; authorize redirects straight back with a code and remembers the nonce.
 */
final class ForgingProvider implements AutoCloseable {

  private final HttpServer server;
  final RSAKey published;
  final RSAKey foreign;
  final String issuer;
  private volatile String nonce;
  /** (claims builder with iss, nonce and a fresh exp, key) → the ID token the token endpoint answers. */
  volatile BiFunction<JWTClaimsSet.Builder, ForgingProvider, String> forge;

  ForgingProvider() {
    try {
      published = new RSAKeyGenerator(2048).keyID("key-1").generate();
      foreign = new RSAKeyGenerator(2048).keyID("key-1").generate();
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    issuer = "http://127.0.0.1:" + server.getAddress().getPort() + "/realm";
    server.createContext("/realm/.well-known/openid-configuration", ex -> json(ex, new JsonObject()
      .put("issuer", issuer)
      .put("authorization_endpoint", issuer + "/authorize")
      .put("token_endpoint", issuer + "/token")
      .put("jwks_uri", issuer + "/jwks")));
    server.createContext("/realm/jwks", ex -> json(ex, new JsonObject().put("keys",
      new JsonArray().add(new JsonObject(published.toPublicJWK().toJSONObject())))));
    server.createContext("/realm/authorize", ex -> {
      Map<String, String> query = Mailbox.query(ex.getRequestURI().getRawQuery());
      nonce = query.get("nonce");
      ex.getResponseHeaders().add("Location", query.get("redirect_uri") + "?code=forged-code&state="
        + URLEncoder.encode(query.get("state"), StandardCharsets.UTF_8));
      ex.sendResponseHeaders(302, -1);
      ex.close();
    });
    server.createContext("/realm/token", ex -> {
      JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().issuer(issuer).claim("nonce", nonce)
        .issueTime(new Date()).expirationTime(new Date(System.currentTimeMillis() + 300_000));
      json(ex, new JsonObject().put("access_token", "provider-access").put("token_type", "Bearer")
        .put("id_token", forge.apply(claims, this)));
    });
    server.start();
  }

  static String sign(JWTClaimsSet claims, RSAKey key) {
    try {
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
      jwt.sign(new RSASSASigner(key));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void json(HttpExchange ex, JsonObject body) throws IOException {
    byte[] bytes = body.encode().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(200, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
