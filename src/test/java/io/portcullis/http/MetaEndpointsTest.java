package io.portcullis.http;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.ErrorShapes;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static io.portcullis.it.ErrorShapes.assertError;
import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The endpoints that describe the service (settings, health, discovery, liveness, readiness) and routing errors. */
@ExtendWith(AppExtension.class)
class MetaEndpointsTest {

  @App
  static TestApp app;

  private static JsonObject okJson(TestApp.Response r) {
    assertEquals(200, r.status(), r.raw());
    assertTrue(r.header("Content-Type").startsWith("application/json"), r.header("Content-Type"));
    return r.json();
  }

  @Test
  void settingsDescribeEmailSignupWithAutoconfirm() {
    JsonObject settings = okJson(app.get(BASE + "/settings",
      ErrorShapes.with(TestApp.bearer("sb_publishable_anything"), "apikey", "sb_publishable_anything")));
    assertEquals(true, settings.getJsonObject("external").getValue("email"));
    assertEquals(false, settings.getValue("disable_signup"));
    assertEquals(true, settings.getValue("mailer_autoconfirm"));
    assertEquals(false, settings.getValue("phone_autoconfirm"));
    assertInstanceOf(Boolean.class, settings.getValue("anonymous_users_enabled"));
  }

  @Test
  void authHealthAnswersVersionNameAndDescription() {
    JsonObject health = okJson(app.get(BASE + "/health"));
    for (String field : new String[] {"version", "name", "description"}) {
      assertInstanceOf(String.class, health.getValue(field), field);
      assertFalse(health.getString(field).isEmpty(), field);
    }
  }

  @Test
  void openidConfigurationPointsAtThisService() {
    String base = "http://127.0.0.1:" + app.port + BASE;
    JsonObject discovery = okJson(app.get(BASE + "/.well-known/openid-configuration"));
    assertEquals(base, discovery.getString("issuer"));
    assertEquals(base + "/.well-known/jwks.json", discovery.getString("jwks_uri"));
    assertEquals(base + "/token", discovery.getString("token_endpoint"));
    assertEquals(base + "/userinfo", discovery.getString("userinfo_endpoint"));
    JsonArray grants = discovery.getJsonArray("grant_types_supported");
    assertTrue(grants.contains("password") && grants.contains("refresh_token"), grants.encode());
    assertEquals(new JsonArray().add("public"), discovery.getJsonArray("subject_types_supported"));
    assertInstanceOf(JsonArray.class, discovery.getValue("token_endpoint_auth_methods_supported"));
    assertInstanceOf(JsonArray.class, discovery.getValue("claims_supported"));
    // The advertised JWKS answers.
    assertInstanceOf(JsonArray.class, okJson(app.get(BASE + "/.well-known/jwks.json")).getValue("keys"));
  }

  @Test
  void livenessAndReadinessAnswer200() {
    assertEquals(200, app.get("/health").status());
    TestApp.Response ready = app.get("/ready");
    assertEquals(200, ready.status(), ready.raw());
    okJson(ready);
  }

  @Test
  void unknownPathIsNotFound() {
    assertError(404, "not_found", h -> app.get(BASE + "/no-such-endpoint", h));
    assertError(404, "not_found", h -> app.get("/no-such-path", h));
    assertError(404, "not_found", h -> app.postJson(BASE + "/signup/extra", new JsonObject(), h));
  }

  @Test
  void knownPathWithWrongMethodIsMethodNotAllowed() {
    assertError(405, "method_not_allowed", h -> app.request("DELETE", BASE + "/signup", null, null, h));
    assertError(405, "method_not_allowed", h -> app.get(BASE + "/token", h));
    assertError(405, "method_not_allowed", h -> app.postJson(BASE + "/settings", new JsonObject(), h));
  }
}
