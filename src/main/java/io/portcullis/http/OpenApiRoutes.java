package io.portcullis.http;

import io.portcullis.config.Config;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * "Try it": {@code GET /openapi.json}, the hand-written OpenAPI 3.1 document of every route (a static resource,
 * served with the configured external URL as its server), and {@code GET /docs}, Swagger UI served from the
 * org.webjars:swagger-ui jar on the classpath (no CDN), its "Authorize" using the password flow of
 * {@code /auth/v1/token}. OpenApiTest holds the document to the router's route table.
 */
public final class OpenApiRoutes {

  static final String DOCUMENT = "openapi/openapi.json";
  static final String DOCS_PAGE = "openapi/docs.html";
  private static final String WEBJAR = "META-INF/resources/webjars/swagger-ui/";
  private static final String WEBJAR_POM = "META-INF/maven/org.webjars/swagger-ui/pom.properties";
  private static final Pattern ASSET = Pattern.compile(
    "/?(swagger-ui[a-z-]*\\.(js|css)(\\.map)?|favicon-\\d+x\\d+\\.png|oauth2-redirect\\.(html|js))");

  /** The document as written, until {@link #document} is made from it. */
  private String source;
  private final String externalUrl;
  private final String docsPage;
  private final String docsPolicy;
  private final String webjarVersion;
  /** The document as served: {@link #source} with this build's version and the external URL; made once. */
  private volatile String document;

  private OpenApiRoutes(String source, String externalUrl, String docsPage, String docsPolicy, String webjarVersion) {
    this.source = source;
    this.externalUrl = externalUrl;
    this.docsPage = docsPage;
    this.docsPolicy = docsPolicy;
    this.webjarVersion = webjarVersion;
  }

  /**
   * Reads the document, the docs page and the webjar's version from the classpath: blocking, so once per process
   * before anything deploys, never on an event loop. Fails when one of them is missing. The document (300 KB of
   * JSON) is parsed and completed later, by {@link #prepare} after the start or by its first request.
   */
  public static OpenApiRoutes load(Config config) {
    String page = read(DOCS_PAGE);
    // The one page that runs scripts: ours and Swagger UI's from this origin, the inline initializer by its hash,
    // the inline styles Swagger UI sets; nothing from elsewhere, and no framing.
    String policy = "default-src 'self'; script-src 'self' '" + inlineScriptHash(page)
      + "'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";
    return new OpenApiRoutes(read(DOCUMENT), config.externalUrl(), page, policy, webjarVersion());
  }

  /** Makes the served document on a worker thread, so that the first request for it need not wait. */
  public Future<Void> prepare(Vertx vertx) {
    return vertx.executeBlocking(this::document, false).mapEmpty();
  }

  void document(RoutingContext ctx) {
    String ready = document;
    if (ready != null) {
      ctx.response().putHeader("Content-Type", "application/json").end(ready);
      return;
    }
    // Not made yet (a request in the first moments of the service): made on a worker, never on the event loop.
    ctx.vertx().executeBlocking(this::document, false)
      .onSuccess(made -> ctx.response().putHeader("Content-Type", "application/json").end(made))
      .onFailure(ctx::fail);
  }

  private synchronized String document() {
    if (document == null) {
      JsonObject openapi = new JsonObject(source);
      openapi.getJsonObject("info").put("version", MetaRoutes.VERSION);
      openapi.put("servers", new JsonArray().add(new JsonObject()
        .put("url", externalUrl)
        .put("description", "this service (its configured external URL)")));
      document = openapi.encode();
      source = null;
    }
    return document;
  }

  void docs(RoutingContext ctx) {
    ctx.response()
      .putHeader("Content-Type", "text/html; charset=utf-8")
      .putHeader("Cache-Control", "no-cache")
      .putHeader("Content-Security-Policy", docsPolicy)
      .end(docsPage);
  }

  /**
   * Swagger UI's files (scripts, styles, icons) from the webjar, with asynchronous file access on the event loop;
   * not the webjar's own index page and initializer, which load the petstore demo from the Internet. One per
   * HTTP verticle instance (a static handler keeps caches of its own).
   */
  Handler<RoutingContext> assets() {
    StaticHandler files = StaticHandler.create(WEBJAR + webjarVersion)
      .setAlwaysAsyncFS(true)
      .setDirectoryListing(false);
    return ctx -> {
      String file = ctx.pathParam("*");
      if (file != null && ASSET.matcher(file).matches()) {
        files.handle(ctx);
      } else {
        ctx.next();
      }
    };
  }

  /** CSP's {@code sha256-...} source of the page's one inline script. */
  private static String inlineScriptHash(String page) {
    int open = page.indexOf("<script>");
    int close = page.indexOf("</script>", open);
    if (open < 0 || close < 0) {
      throw new IllegalStateException("docs page without its inline script");
    }
    String script = page.substring(open + "<script>".length(), close);
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(script.getBytes(StandardCharsets.UTF_8));
      return "sha256-" + java.util.Base64.getEncoder().encodeToString(digest);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String read(String name) {
    try (InputStream in = OpenApiRoutes.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("Missing resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String webjarVersion() {
    Properties pom = new Properties();
    try (InputStream in = OpenApiRoutes.class.getClassLoader().getResourceAsStream(WEBJAR_POM)) {
      if (in == null) {
        throw new IllegalStateException("The org.webjars:swagger-ui jar is not on the classpath");
      }
      pom.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return pom.getProperty("version");
  }
}
