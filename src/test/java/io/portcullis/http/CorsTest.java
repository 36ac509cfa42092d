package io.portcullis.http;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.TestApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(AppExtension.class)
class CorsTest {

  static final String SITE = "http://localhost:3000";
  @App("PORTCULLIS_SITE_URL=" + SITE)
  static TestApp app;

  @Test
  void preflightFromTheSiteUrlAllowsWhatSupabaseJsSends() {
    TestApp.Response r = app.request("OPTIONS", BASE + "/token?grant_type=password", null, null,
      "Origin", SITE,
      "Access-Control-Request-Method", "POST",
      "Access-Control-Request-Headers", "authorization,apikey,content-type,x-client-info,x-supabase-api-version");
    assertEquals(204, r.status(), r.raw());
    assertEquals(SITE, r.header("Access-Control-Allow-Origin"));
    assertEquals("true", r.header("Access-Control-Allow-Credentials"));
    String allowed = r.header("Access-Control-Allow-Headers").toLowerCase();
    for (String header : new String[] {"authorization", "apikey", "content-type", "x-client-info", "x-supabase-api-version"}) {
      assertTrue(allowed.contains(header), allowed);
    }
  }

  /** Swagger UI 5 (FastAPI's /docs) sends these two with its OAuth2 password-flow token request. */
  @Test
  void preflightFromTheSiteUrlAllowsWhatSwaggerUiSendsWithItsTokenRequest() {
    TestApp.Response r = app.request("OPTIONS", BASE + "/token", null, null,
      "Origin", SITE,
      "Access-Control-Request-Method", "POST",
      "Access-Control-Request-Headers", "authorization,content-type,x-requested-with");
    assertEquals(204, r.status(), r.raw());
    assertEquals(SITE, r.header("Access-Control-Allow-Origin"));
    String allowed = r.header("Access-Control-Allow-Headers").toLowerCase();
    for (String header : new String[] {"authorization", "content-type", "x-requested-with"}) {
      assertTrue(allowed.contains(header), allowed);
    }
  }

  @Test
  void simpleRequestFromTheSiteUrlExposesPaginationAndVersionHeaders() {
    TestApp.Response r = app.get(BASE + "/settings", "Origin", SITE);
    assertEquals(200, r.status());
    assertEquals(SITE, r.header("Access-Control-Allow-Origin"));
    String exposed = r.header("Access-Control-Expose-Headers").toLowerCase();
    assertTrue(exposed.contains("x-total-count") && exposed.contains("link") && exposed.contains("x-supabase-api-version"),
      exposed);
  }

  @Test
  void otherOriginsAreRefusedWithAJsonError() {
    TestApp.Response r = app.request("OPTIONS", BASE + "/signup", null, null,
      "Origin", "https://evil.example", "Access-Control-Request-Method", "POST");
    assertEquals(403, r.status());
    assertEquals("origin_not_allowed", r.errorCode());
    assertNull(r.header("Access-Control-Allow-Origin"));
  }

  @Test
  void otherOriginsAreRefusedOnBearerRoutesTooWithTheCorsCode() {
    TestApp.Response r = app.get(BASE + "/user", "Origin", "https://evil.example", "Authorization", "Bearer x.y.z");
    assertEquals(403, r.status());
    assertEquals("origin_not_allowed", r.errorCode());
  }

  @Test
  void anyOriginWhenConfiguredWithAStar() {
    try (TestApp open = TestApp.start(Map.of("PORTCULLIS_CORS_ALLOWED_ORIGINS", "*"))) {
      TestApp.Response r = open.get(BASE + "/settings", "Origin", "https://anywhere.example");
      assertEquals(200, r.status());
      assertEquals("*", r.header("Access-Control-Allow-Origin"));
    }
  }
}
