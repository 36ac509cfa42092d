"""A FastAPI resource server whose users sign in at Portcullis.

FastAPI's OAuth2 JWT tutorial with Portcullis as the token issuer: /docs's "Authorize" gets a token from
Portcullis's token endpoint (OAuth2 password flow), and routes check it with Portcullis's public keys (JWKS).
Settings come from the environment:

  ISSUER        the `iss` Portcullis puts in tokens, its public URL + /auth/v1 (http://localhost:9999/auth/v1)
  AUTH_URL      where this app reaches Portcullis's /auth/v1 (default: ISSUER); inside a container network that
                is another address than the public one, e.g. http://portcullis:9999/auth/v1
  JWKS_URL      Portcullis's public keys (default: AUTH_URL + /.well-known/jwks.json)
  TOKEN_URL     the token endpoint the *browser* calls from /docs (default: ISSUER + /token)
  AUDIENCE      the `aud` Portcullis issues (default: authenticated)
  SERVICE_KEY   a Portcullis service key (`service-key` command), only for the introspection route
  SWAGGER_UI_DIR  optional: serve /docs's Swagger UI files from this directory instead of a CDN

Access tokens are checked three ways, one route each, because a JWKS-only check cannot see a sign-out:
  GET /users/me                  signature and claims only: fast, but a signed-out token works until it expires
  GET /users/me/introspected     also asks Portcullis's introspection endpoint (RFC 7662) on every request
  GET /users/me/from-auth-server  asks Portcullis's GET /auth/v1/user on every request, with the user's token
  GET /admin/reports             requires the `admin` role
"""

import os
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.security import OAuth2PasswordBearer
from fastapi.staticfiles import StaticFiles

ISSUER = os.environ.get("ISSUER", "http://localhost:9999/auth/v1").rstrip("/")
AUTH_URL = os.environ.get("AUTH_URL", ISSUER).rstrip("/")
JWKS_URL = os.environ.get("JWKS_URL", AUTH_URL + "/.well-known/jwks.json")
TOKEN_URL = os.environ.get("TOKEN_URL", ISSUER + "/token")
AUDIENCE = os.environ.get("AUDIENCE", "authenticated")
SERVICE_KEY = os.environ.get("SERVICE_KEY", "")
SWAGGER_UI_DIR = os.environ.get("SWAGGER_UI_DIR", "")

# Asymmetric algorithms only: a token signed with HS256 (keyed with the public key) or "none" is refused.
ALGORITHMS = ["ES256", "RS256"]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL)
# Caches the keys; fetches again when a token names a key id it has not seen (after a key rotation).
jwks_client = jwt.PyJWKClient(JWKS_URL, cache_keys=True, lifespan=600, timeout=5)

app = FastAPI(title="FastAPI protected by Portcullis", docs_url=None if SWAGGER_UI_DIR else "/docs")


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=detail,
                         headers={"WWW-Authenticate": "Bearer"})


def unavailable(detail: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_503_SERVICE_UNAVAILABLE, detail=detail)


def verified_claims(token: Annotated[str, Depends(oauth2_scheme)]) -> dict[str, Any]:
    """The token's claims when Portcullis signed it for this audience and it has not expired."""
    try:
        signing_key = jwks_client.get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError:
        # Portcullis's keys are out of reach: the token may be fine, so not a 401 (and not PyJWT's 500 either).
        raise unavailable("The signing keys could not be fetched")
    except jwt.PyJWTError:
        # No key id, an unknown one, or not a JWT at all.
        raise unauthorized("Could not validate credentials")
    try:
        return jwt.decode(token, signing_key.key, algorithms=ALGORITHMS, audience=AUDIENCE, issuer=ISSUER,
                          options={"require": ["exp", "iat", "iss", "aud", "sub"]})
    except jwt.PyJWTError:
        raise unauthorized("Could not validate credentials")


Claims = Annotated[dict[str, Any], Depends(verified_claims)]


async def introspected_claims(token: Annotated[str, Depends(oauth2_scheme)], claims: Claims) -> dict[str, Any]:
    """As verified_claims, and Portcullis says the token is still active (its session has not ended)."""
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.post(AUTH_URL + "/oauth/introspect", data={"token": token},
                                       headers={"Authorization": "Bearer " + SERVICE_KEY})
    except httpx.HTTPError:
        raise unavailable("Portcullis could not be asked")
    if answer.status_code != 200:
        raise unavailable("Portcullis refused the introspection request")
    if not answer.json().get("active"):
        raise unauthorized("The session has ended")
    return claims


async def current_user(token: Annotated[str, Depends(oauth2_scheme)], claims: Claims) -> dict[str, Any]:
    """The user as Portcullis sees them now, asked with the user's own token: refused once the session ended."""
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.get(AUTH_URL + "/user", headers={"Authorization": "Bearer " + token})
    except httpx.HTTPError:
        raise unavailable("Portcullis could not be asked")
    if answer.status_code in (401, 403, 404):
        raise unauthorized("The session has ended")
    if answer.status_code != 200:
        raise unavailable("Portcullis answered " + str(answer.status_code))
    return answer.json()


def require_role(role: str):
    """A dependency that lets through users holding `role`, however Portcullis granted it."""
    def check(claims: Claims) -> dict[str, Any]:
        if role not in claims.get("app_metadata", {}).get("roles", []):
            raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Requires the " + role + " role")
        return claims
    return check


def me(claims: dict[str, Any]) -> dict[str, Any]:
    return {"id": claims["sub"], "email": claims.get("email"), "role": claims.get("role"),
            "roles": claims.get("app_metadata", {}).get("roles", [])}


@app.get("/users/me")
def read_users_me(claims: Claims):
    return me(claims)


@app.get("/users/me/introspected")
def read_users_me_introspected(claims: Annotated[dict[str, Any], Depends(introspected_claims)]):
    return me(claims)


@app.get("/users/me/from-auth-server")
def read_users_me_from_auth_server(user: Annotated[dict[str, Any], Depends(current_user)]):
    return {"id": user["id"], "email": user.get("email"), "role": user.get("role"),
            "roles": user.get("app_metadata", {}).get("roles", [])}


@app.get("/admin/reports")
def read_admin_reports(claims: Annotated[dict[str, Any], Depends(require_role("admin"))]):
    return {"reports": [], "for": claims["sub"]}


if SWAGGER_UI_DIR:
    # FastAPI's recipe for self-hosting the docs' JavaScript and CSS, for networks without the CDN.
    app.mount("/swagger-ui", StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui_html():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=app.title + " - Swagger UI",
                                   oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
                                   swagger_js_url="/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/swagger-ui/favicon-32x32.png")
