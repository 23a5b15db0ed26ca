"""A Xentropy API on Python: FastAPI + uvicorn + PyJWT (PyJWKClient) + httpx.

Verifies Supabase access tokens the way PyJWT's documentation shows: ES256/RS256 with the key
PyJWKClient finds in the project's JWKS for the token's kid, legacy HS256 with the project's JWT
secret when SUPABASE_JWT_SECRET is set. The header's alg decides which key is used (never both),
and jwt.decode then enforces that algorithm.

Environment:
  SUPABASE_URL                issuer base URL (auth at $SUPABASE_URL/auth/v1)        required
  SUPABASE_JWT_SECRET         legacy HS256 secret; unset = HS256 tokens rejected
  PORT                        listen on 127.0.0.1:$PORT                              required
  JWT_LEEWAY_SECONDS          jwt.decode leeway for exp/nbf/iat                       default 0
  JWKS_LIFESPAN_SECONDS       PyJWKClient lifespan (JWK Set cache TTL)                default 300
  JWKS_COOLDOWN_SECONDS       PyJWKClient cooldown_duration (unknown-kid refetch)     default 30
  JWKS_TIMEOUT_SECONDS        PyJWKClient timeout                                     default 5
  RATE_LIMIT_REQUESTS         requests per window per verified user (sub)             default 120
  RATE_LIMIT_WINDOW_SECONDS   window of both limiters                                 default 60
  IP_RATE_LIMIT_REQUESTS      requests per window per IP without a valid token        default 600
  AUTH_PROXY_TIMEOUT_SECONDS  upstream timeout of POST /api/auth/v1/token             default 10
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import sys
import threading
import time
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("xentropy")


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} must be set")
    return value


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        sys.exit(f"{name} must be a number of seconds, got {raw!r}")
    if not math.isfinite(value) or value < 0:
        sys.exit(f"{name} must be a non-negative number of seconds, got {raw!r}")
    return value


SUPABASE_URL = _required("SUPABASE_URL").rstrip("/")
PORT = int(_required("PORT"))
ISSUER = f"{SUPABASE_URL}/auth/v1"
AUDIENCE = "authenticated"
LEEWAY = _seconds("JWT_LEEWAY_SECONDS", 0)
LEGACY_SECRET = os.environ.get("SUPABASE_JWT_SECRET") or None
PROXY_TIMEOUT = _seconds("AUTH_PROXY_TIMEOUT_SECONDS", 10)
WINDOW = _seconds("RATE_LIMIT_WINDOW_SECONDS", 60)
MAX_PROXY_BODY = 64 * 1024

jwks_client = jwt.PyJWKClient(
    f"{ISSUER}/.well-known/jwks.json",
    cache_jwk_set=True,
    lifespan=_seconds("JWKS_LIFESPAN_SECONDS", 300),
    cooldown_duration=_seconds("JWKS_COOLDOWN_SECONDS", 30),
    timeout=_seconds("JWKS_TIMEOUT_SECONDS", 5),
)

DECODE_OPTIONS = {
    "require": ["exp", "sub"],
    # RSA keys under 2048 bits and HMAC secrets shorter than the hash are refused.
    "enforce_minimum_key_length": True,
}

# --------------------------------------------------------------------------------------------
# Errors: {"error":{"code","message"}}, one fixed message per code (nothing from the token).

MESSAGES = {
    "UNAUTHENTICATED": "Missing or invalid access token",
    "TOKEN_EXPIRED": "Access token expired; refresh the session",
    "FORBIDDEN": "Not allowed to access this resource",
    "RATE_LIMITED": "Too many requests; retry later",
    "NOT_FOUND": "Not found",
    "BAD_REQUEST": "Bad request",
    "PAYLOAD_TOO_LARGE": "Request body too large",
    "BAD_GATEWAY": "The auth server is unavailable",
    "GATEWAY_TIMEOUT": "The auth server did not answer in time",
    "INTERNAL": "Internal error",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, headers: dict[str, str] | None = None):
        super().__init__(code)
        self.status = status
        self.code = code
        self.headers = headers


def error_response(status: int, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": MESSAGES[code]}}, status_code=status, headers=headers
    )


# --------------------------------------------------------------------------------------------
# Rate limiting: fixed windows in memory, per verified subject and per client IP.


class FixedWindowLimiter:
    def __init__(self, limit: int, window: float, max_keys: int = 100_000):
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Counts one request; returns None if allowed, else the seconds until the window resets."""
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            count += 1
            if len(self._windows) >= self.max_keys and key not in self._windows:
                self._prune(now)
            self._windows[key] = (start, count)
            if count <= self.limit:
                return None
            return max(1, math.ceil(start + self.window - now))

    def _prune(self, now: float) -> None:
        expired = [k for k, (start, _) in self._windows.items() if now - start >= self.window]
        for k in expired:
            del self._windows[k]
        if len(self._windows) >= self.max_keys:
            self._windows.clear()


user_limiter = FixedWindowLimiter(int(_seconds("RATE_LIMIT_REQUESTS", 120)), WINDOW)
ip_limiter = FixedWindowLimiter(int(_seconds("IP_RATE_LIMIT_REQUESTS", 600)), WINDOW)


def enforce(limiter: FixedWindowLimiter, key: str) -> None:
    retry_after = limiter.hit(key)
    if retry_after is not None:
        raise ApiError(429, "RATE_LIMITED", {"Retry-After": str(retry_after)})


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --------------------------------------------------------------------------------------------
# Authentication

# RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive.
BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*) *", re.IGNORECASE)


def verify(token: str) -> dict[str, Any]:
    """Returns the claims of a valid token; raises a jwt.PyJWTError otherwise."""
    alg = jwt.get_unverified_header(token).get("alg")
    if alg == "HS256":
        if LEGACY_SECRET is None:
            raise jwt.InvalidAlgorithmError("HS256 is not enabled")
        key: Any = LEGACY_SECRET
        algorithms = ["HS256"]
    elif alg in ("ES256", "RS256"):
        try:
            key = jwks_client.get_signing_key_from_jwt(token)
        except jwt.PyJWTError:
            raise
        except Exception as e:
            # PyJWKClient lets some fetch failures through unwrapped (a JWKS body that is not
            # JSON raises json.JSONDecodeError): no key could be had, so the token is not valid.
            log.warning("JWKS: cannot get the signing key: %r", e)
            raise jwt.PyJWKClientError("cannot get the signing key") from e
        algorithms = ["ES256", "RS256"]
    else:
        raise jwt.InvalidAlgorithmError("algorithm not allowed")
    claims = jwt.decode(
        token,
        key,
        algorithms=algorithms,
        audience=AUDIENCE,
        issuer=ISSUER,
        leeway=LEEWAY,
        options=DECODE_OPTIONS,
    )
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise jwt.InvalidTokenError("sub must be a non-empty string")
    return claims


def authenticate(request: Request) -> dict[str, Any]:
    """FastAPI dependency (sync: PyJWKClient blocks, so it runs in the threadpool)."""
    match = BEARER.fullmatch(request.headers.get("authorization", ""))
    code = "UNAUTHENTICATED"
    claims = None
    if match:
        try:
            claims = verify(match.group(1))
        except jwt.ExpiredSignatureError:
            code = "TOKEN_EXPIRED"
        except jwt.PyJWTError as e:
            log.debug("token rejected: %s", e)
    if claims is None:
        enforce(ip_limiter, client_ip(request))
        raise ApiError(401, code)
    enforce(user_limiter, claims["sub"])
    return claims


def require_role(*roles: str):
    def check(claims: dict[str, Any] = Depends(authenticate)) -> dict[str, Any]:
        if claims.get("role") not in roles:
            raise ApiError(403, "FORBIDDEN")
        return claims

    return check


# --------------------------------------------------------------------------------------------
# App

FORWARDED_REQUEST_HEADERS = (
    "apikey",
    "authorization",
    "content-type",
    "accept",
    "x-client-info",
    "x-supabase-api-version",
)
RELAYED_RESPONSE_HEADERS = ("content-type", "cache-control", "x-sb-error-code", "x-supabase-api-version")


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(PROXY_TIMEOUT), follow_redirects=False, trust_env=False
    ) as client:
        app.state.upstream = client
        yield


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


@app.exception_handler(ApiError)
async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.headers)


@app.exception_handler(StarletteHTTPException)
async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 404:
        return error_response(404, "NOT_FOUND")
    return JSONResponse(
        {"error": {"code": "BAD_REQUEST", "message": str(exc.detail)}}, status_code=exc.status_code
    )


@app.exception_handler(RequestValidationError)
async def validation_error(_request: Request, _exc: RequestValidationError) -> JSONResponse:
    return error_response(400, "BAD_REQUEST")


@app.exception_handler(Exception)
async def internal_error(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return error_response(500, "INTERNAL")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/content")
def content(claims: dict[str, Any] = Depends(require_role("authenticated", "service_role"))):
    return {"items": [], "user": claims["sub"]}


@app.get("/api/admin/stats")
def admin_stats(_claims: dict[str, Any] = Depends(require_role("service_role"))):
    return {"users": 0}


@app.post("/api/auth/v1/token")
async def auth_proxy(request: Request) -> Response:
    enforce(ip_limiter, client_ip(request))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_PROXY_BODY:
            raise ApiError(413, "PAYLOAD_TOO_LARGE")
    headers = {k: v for k in FORWARDED_REQUEST_HEADERS if (v := request.headers.get(k)) is not None}
    url = f"{ISSUER}/token"
    if request.url.query:
        url += "?" + request.url.query
    client: httpx.AsyncClient = request.app.state.upstream
    try:
        # httpx's timeout bounds each phase; asyncio.timeout bounds the whole exchange.
        async with asyncio.timeout(PROXY_TIMEOUT):
            upstream = await client.post(url, headers=headers, content=bytes(body))
    except (TimeoutError, httpx.TimeoutException):
        return error_response(504, "GATEWAY_TIMEOUT")
    except httpx.HTTPError as e:
        log.warning("auth proxy: upstream request failed: %r", e)
        return error_response(502, "BAD_GATEWAY")
    relayed = {k: v for k in RELAYED_RESPONSE_HEADERS if (v := upstream.headers.get(k)) is not None}
    return Response(content=upstream.content, status_code=upstream.status_code, headers=relayed)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Not behind a reverse proxy: never take the client address from X-Forwarded-For.
    uvicorn.run(app, host="127.0.0.1", port=PORT, proxy_headers=False, log_level="warning")
