// Shared harness of the MCP interop tests: starts xauth-issuer and xauth-reference on ephemeral
// ports, drives the issuer's control API, and implements the SDK's OAuthClientProvider so that
// the authorization step is non-interactive (the issuer's auto-approve switch).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';

const here = (rel) => new URL(rel, import.meta.url).pathname;

export const ISSUER_BIN = process.env.XAUTH_ISSUER_BIN ?? here('../../target/debug/xauth-issuer');
export const REFERENCE_BIN = process.env.XAUTH_REFERENCE_BIN ?? here('../../target/debug/xauth-reference');

/** The seeded user whose consent the issuer's auto-approve switch gives. */
export const USER = { email: 'mcp-user@example.com', password: 'correct-horse-battery-staple' };

/** The redirect URI of the test clients: never listened on, the code is read off `Location`. */
export const REDIRECT_URL = 'http://127.0.0.1:9/oauth/callback';

// Every process this harness started, killed on any exit (a crashed test must not leak one).
const children = new Set();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Resolves with a port that was free a moment ago (for a process that must know its port). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Kills `child` (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
export async function stop(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts the issuer on an ephemeral port with the seeded user and reads its one-line JSON status.
 * Returns `{ child, api_url, auth_url, issuer, jwks_url, anon_key, service_role_key }`.
 */
export async function startIssuer(extraArgs = []) {
  const child = track(spawn(
    ISSUER_BIN,
    ['--listen', '127.0.0.1:0', '--json', '--user', `${USER.email}:${USER.password}`, ...extraArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  ));
  const lines = createInterface({ input: child.stdout });
  const status = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('issuer printed no JSON status within 10 s')), 10_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`issuer exited early with ${code}`)));
    lines.on('line', (line) => {
      try {
        const s = JSON.parse(line);
        clearTimeout(timer);
        resolve(s);
      } catch {
        // not the status line
      }
    });
  });
  return {
    child,
    api_url: status.API_URL,
    auth_url: status.AUTH_URL,
    issuer: status.ISSUER,
    jwks_url: status.JWKS_URL,
    anon_key: status.ANON_KEY,
    service_role_key: status.SERVICE_ROLE_KEY,
  };
}

/** Calls the issuer's control API (`/_control/v1`) with the service_role key. */
export async function control(issuer, method, path, body) {
  const res = await fetch(`${issuer.api_url}/_control/v1${path}`, {
    method,
    headers: {
      apikey: issuer.service_role_key,
      authorization: `Bearer ${issuer.service_role_key}`,
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `control ${method} ${path} answered ${res.status}: ${await res.clone().text()}`);
  return res.status === 204 ? null : res.json();
}

/** Polls `url` until it answers 200 (or `child` exits, or `timeoutMs` passes). */
export async function waitReady(url, child, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before ${url} answered`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * One xauth-reference with `--mcp`, on a fixed port so that it can be restarted with another
 * allow-list (the MCP endpoint is stateless: a restart is invisible to a client).
 */
export class Reference {
  constructor(issuer, { port, args = [], allowedClientIds = [] } = {}) {
    this.issuer = issuer;
    this.port = port;
    this.args = args;
    this.allowedClientIds = allowedClientIds;
    this.child = null;
    this.log = [];
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  get mcpUrl() {
    return `${this.base}/mcp`;
  }

  async start() {
    this.port ??= await freePort();
    const args = ['--mcp', ...this.args];
    for (const id of this.allowedClientIds) args.push('--mcp-allowed-client-id', id);
    this.child = track(spawn(REFERENCE_BIN, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        SUPABASE_URL: this.issuer.api_url,
        PORT: String(this.port),
        RUST_LOG: process.env.RUST_LOG ?? 'info',
        XAUTH_MCP_ALLOWED_CLIENT_IDS: '',
      },
    }));
    for (const stream of [this.child.stdout, this.child.stderr]) {
      createInterface({ input: stream }).on('line', (l) => {
        this.log.push(l);
        if (process.env.XAUTH_INTEROP_VERBOSE) console.error(`[reference] ${l}`);
      });
    }
    await waitReady(`${this.base}/health`, this.child);
    return this;
  }

  /** Restarts on the same port, accepting `ids` as well. */
  async allowClients(...ids) {
    this.allowedClientIds = [...new Set([...this.allowedClientIds, ...ids])];
    await this.stop();
    await this.start();
  }

  async stop() {
    await stop(this.child);
    this.child = null;
  }
}

/**
 * An in-memory `OAuthClientProvider` whose "user agent" is fetch: `redirectToAuthorization`
 * turns on auto-approve for `USER` at the issuer, follows the authorization URL without
 * following the redirect, and keeps the `code` (and checks the `state`) from `Location`.
 * `onRegistered(info)` runs after dynamic client registration (the harness uses it to put the
 * new client id on the reference's allow-list).
 */
export class AutoApproveProvider {
  constructor(issuer, { clientMetadata = {}, onRegistered, discoveryState } = {}) {
    this.issuer = issuer;
    this.onRegistered = onRegistered;
    this._clientMetadata = {
      client_name: 'xauth MCP interop',
      redirect_uris: [REDIRECT_URL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...clientMetadata,
    };
    this._discoveryState = discoveryState;
    this._state = randomUUID();
    /** Every call of the provider, in order, so a test can assert the flow's steps. */
    this.calls = [];
    this.authorizationUrl = null;
    this.redirect = null; // { status, location }
    this.code = null;
  }

  get redirectUrl() {
    return REDIRECT_URL;
  }

  get clientMetadata() {
    return this._clientMetadata;
  }

  state() {
    return this._state;
  }

  clientInformation() {
    return this._client;
  }

  async saveClientInformation(info) {
    this.calls.push('saveClientInformation');
    const fresh = this._client?.client_id !== info.client_id;
    this._client = info;
    if (fresh) await this.onRegistered?.(info);
  }

  tokens() {
    return this._tokens;
  }

  saveTokens(tokens) {
    this.calls.push('saveTokens');
    this._tokens = tokens;
  }

  saveCodeVerifier(v) {
    this.calls.push('saveCodeVerifier');
    this._verifier = v;
  }

  codeVerifier() {
    return this._verifier;
  }

  saveDiscoveryState(s) {
    this.calls.push('saveDiscoveryState');
    this.discovered = s;
  }

  discoveryState() {
    return this._discoveryState;
  }

  invalidateCredentials(scope) {
    this.calls.push(`invalidateCredentials:${scope}`);
    if (scope === 'all' || scope === 'tokens') this._tokens = undefined;
    if (scope === 'all' || scope === 'client') this._client = undefined;
    if (scope === 'all' || scope === 'verifier') this._verifier = undefined;
    if (scope === 'all' || scope === 'discovery') this._discoveryState = undefined;
  }

  async redirectToAuthorization(url) {
    this.calls.push('redirectToAuthorization');
    this.authorizationUrl = new URL(url);
    await control(this.issuer, 'POST', '/oauth/auto-approve', { email: USER.email });
    const res = await fetch(url, { redirect: 'manual' });
    const location = res.headers.get('location');
    this.redirect = { status: res.status, location, body: location ? '' : await res.text() };
    if (!location) return;
    const back = new URL(location, url);
    if (`${back.origin}${back.pathname}` !== REDIRECT_URL) return;
    assert.equal(back.searchParams.get('state'), this._state, 'the state came back unchanged');
    this.code = back.searchParams.get('code');
  }
}

/** The payload of a compact JWT, unverified (verification is jose's job in the tests). */
export function jwtPayload(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}
