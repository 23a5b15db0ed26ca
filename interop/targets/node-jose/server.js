// A Xentropy API on Node.js: express + jose + express-rate-limit.
//
// Verifies Supabase access tokens the way jose's documentation shows: ES256/RS256 through the
// project's JWKS (createRemoteJWKSet + jwtVerify), legacy HS256 with the project's JWT secret
// when SUPABASE_JWT_SECRET is set. The algorithm is read from the token's header first and
// decides which key is used; a token is never tried against both.
//
// Environment:
//   SUPABASE_URL                 issuer base URL (auth at $SUPABASE_URL/auth/v1)      required
//   SUPABASE_JWT_SECRET          legacy HS256 secret; unset = HS256 tokens rejected
//   PORT                         listen on 127.0.0.1:$PORT                            required
//   JWT_LEEWAY_SECONDS           clock tolerance for exp/nbf                           default 0
//   JWKS_CACHE_MAX_AGE_SECONDS   jose cacheMaxAge                                      default 600
//   JWKS_COOLDOWN_SECONDS        jose cooldownDuration                                 default 30
//   JWKS_TIMEOUT_SECONDS         jose timeoutDuration                                  default 5
//   RATE_LIMIT_REQUESTS          requests per window per verified user (sub)           default 120
//   RATE_LIMIT_WINDOW_SECONDS    window for both limiters                              default 60
//   IP_RATE_LIMIT_REQUESTS       requests per window per IP without a valid token      default 600
//   AUTH_PROXY_TIMEOUT_SECONDS   upstream timeout of POST /api/auth/v1/token           default 10

import express from 'express';
import { rateLimit } from 'express-rate-limit';
import * as jose from 'jose';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} must be set`);
    process.exit(2);
  }
  return value;
}

function seconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`${name} must be a non-negative number of seconds, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

const SUPABASE_URL = required('SUPABASE_URL').replace(/\/+$/, '');
const PORT = Number(required('PORT'));
const ISSUER = `${SUPABASE_URL}/auth/v1`;
const AUDIENCE = 'authenticated';
const LEEWAY = seconds('JWT_LEEWAY_SECONDS', 0);
const PROXY_TIMEOUT_MS = seconds('AUTH_PROXY_TIMEOUT_SECONDS', 10) * 1000;
const WINDOW_MS = seconds('RATE_LIMIT_WINDOW_SECONDS', 60) * 1000;

const JWKS = jose.createRemoteJWKSet(new URL(`${ISSUER}/.well-known/jwks.json`), {
  cacheMaxAge: seconds('JWKS_CACHE_MAX_AGE_SECONDS', 600) * 1000,
  cooldownDuration: seconds('JWKS_COOLDOWN_SECONDS', 30) * 1000,
  timeoutDuration: Math.round(seconds('JWKS_TIMEOUT_SECONDS', 5) * 1000),
});

const legacySecret = process.env.SUPABASE_JWT_SECRET
  ? new TextEncoder().encode(process.env.SUPABASE_JWT_SECRET)
  : null;

const common = {
  issuer: ISSUER,
  audience: AUDIENCE,
  clockTolerance: LEEWAY,
  requiredClaims: ['exp', 'sub'],
};

// ---------------------------------------------------------------------------------------------
// Errors: {"error":{"code","message"}}, one fixed message per code (nothing from the token).

const MESSAGES = {
  UNAUTHENTICATED: 'Missing or invalid access token',
  TOKEN_EXPIRED: 'Access token expired; refresh the session',
  FORBIDDEN: 'Not allowed to access this resource',
  RATE_LIMITED: 'Too many requests; retry later',
  NOT_FOUND: 'Not found',
  BAD_GATEWAY: 'The auth server is unavailable',
  GATEWAY_TIMEOUT: 'The auth server did not answer in time',
  INTERNAL: 'Internal error',
};

function fail(res, status, code) {
  res.status(status).json({ error: { code, message: MESSAGES[code] } });
}

// ---------------------------------------------------------------------------------------------
// Authentication

class Unauthenticated extends Error {}

function bearerToken(header) {
  if (typeof header !== 'string') return null;
  // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive.
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match ? match[1] : null;
}

function checkSubject(payload) {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
    throw new Unauthenticated('sub must be a non-empty string');
  }
}

async function verify(token) {
  // Choose the key by the header's alg, then let jwtVerify enforce that same algorithm.
  const { alg } = jose.decodeProtectedHeader(token);
  if (alg === 'HS256') {
    if (!legacySecret) throw new Unauthenticated('HS256 is not enabled');
    return jose.jwtVerify(token, legacySecret, { ...common, algorithms: ['HS256'] });
  }
  return jose.jwtVerify(token, JWKS, { ...common, algorithms: ['ES256', 'RS256'] });
}

// Sets req.auth to { claims } or { code: 'UNAUTHENTICATED' | 'TOKEN_EXPIRED' }.
async function authenticate(req, _res, next) {
  const token = bearerToken(req.get('authorization'));
  if (!token) {
    req.auth = { code: 'UNAUTHENTICATED' };
    return next();
  }
  try {
    const { payload } = await verify(token);
    checkSubject(payload);
    req.auth = { claims: payload };
  } catch (err) {
    if (err instanceof jose.errors.JWTExpired) {
      // jose checks exp last, after the signature and every other registered claim; our own
      // claim rules still apply before we tell the client that refreshing will help.
      try {
        checkSubject(err.payload);
        req.auth = { code: 'TOKEN_EXPIRED' };
      } catch {
        req.auth = { code: 'UNAUTHENTICATED' };
      }
    } else {
      if (!(err instanceof jose.errors.JOSEError || err instanceof Unauthenticated)) {
        // Not a token problem (e.g. a TypeError from a malformed key): log it, still 401.
        console.error('token verification failed unexpectedly:', err);
      }
      req.auth = { code: 'UNAUTHENTICATED' };
    }
  }
  next();
}

// ---------------------------------------------------------------------------------------------
// Rate limiting: per verified subject; per IP for requests without a valid token.

function limited(req, res) {
  fail(res, 429, 'RATE_LIMITED');
}

const userLimiter = rateLimit({
  windowMs: WINDOW_MS,
  limit: seconds('RATE_LIMIT_REQUESTS', 120),
  standardHeaders: 'draft-7',
  legacyHeaders: false,
  skip: (req) => !req.auth?.claims,
  keyGenerator: (req) => `sub:${req.auth.claims.sub}`,
  handler: limited,
});

const ipLimiter = rateLimit({
  windowMs: WINDOW_MS,
  limit: seconds('IP_RATE_LIMIT_REQUESTS', 600),
  standardHeaders: 'draft-7',
  legacyHeaders: false,
  skip: (req) => Boolean(req.auth?.claims),
  handler: limited,
});

// ---------------------------------------------------------------------------------------------
// Authorization

function requireRole(...roles) {
  return (req, res, next) => {
    if (!req.auth.claims) return fail(res, 401, req.auth.code);
    if (!roles.includes(req.auth.claims.role)) return fail(res, 403, 'FORBIDDEN');
    next();
  };
}

// ---------------------------------------------------------------------------------------------
// Auth proxy: POST /api/auth/v1/token?grant_type=... -> $SUPABASE_URL/auth/v1/token

const FORWARDED_REQUEST_HEADERS = [
  'apikey',
  'authorization',
  'content-type',
  'accept',
  'x-client-info',
  'x-supabase-api-version',
];
const RELAYED_RESPONSE_HEADERS = [
  'content-type',
  'cache-control',
  'x-sb-error-code',
  'x-supabase-api-version',
];

async function authProxy(req, res) {
  const query = req.originalUrl.includes('?')
    ? req.originalUrl.slice(req.originalUrl.indexOf('?'))
    : '';
  const headers = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.get(name);
    if (value !== undefined) headers[name] = value;
  }
  let upstream;
  let body;
  try {
    upstream = await fetch(`${ISSUER}/token${query}`, {
      method: 'POST',
      headers,
      body: Buffer.isBuffer(req.body) ? req.body : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(PROXY_TIMEOUT_MS),
    });
    body = Buffer.from(await upstream.arrayBuffer());
  } catch (err) {
    if (err?.name === 'TimeoutError') return fail(res, 504, 'GATEWAY_TIMEOUT');
    console.error('auth proxy: upstream request failed:', err?.cause ?? err);
    return fail(res, 502, 'BAD_GATEWAY');
  }
  res.status(upstream.status);
  for (const name of RELAYED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) res.set(name, value);
  }
  res.send(body);
}

// ---------------------------------------------------------------------------------------------
// Routes

const app = express();
app.disable('x-powered-by');

app.get('/health', (_req, res) => {
  res.json({ status: 'ok' });
});

const api = [authenticate, userLimiter, ipLimiter];

app.get('/api/content', ...api, requireRole('authenticated', 'service_role'), (req, res) => {
  res.json({ items: [], user: req.auth.claims.sub });
});

app.get('/api/admin/stats', ...api, requireRole('service_role'), (_req, res) => {
  res.json({ users: 0 });
});

app.post(
  '/api/auth/v1/token',
  ipLimiter,
  express.raw({ type: () => true, limit: '64kb' }),
  authProxy,
);

app.use((_req, res) => fail(res, 404, 'NOT_FOUND'));

// eslint-disable-next-line no-unused-vars
app.use((err, _req, res, _next) => {
  if (err?.status >= 400 && err.status < 500) {
    // body-parser errors (too large, aborted): the client's fault.
    return res.status(err.status).json({ error: { code: 'BAD_REQUEST', message: 'Bad request' } });
  }
  console.error(err);
  fail(res, 500, 'INTERNAL');
});

const server = app.listen(PORT, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${PORT} (issuer ${ISSUER})`);
});
server.requestTimeout = 30_000;
server.headersTimeout = 10_000;

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
