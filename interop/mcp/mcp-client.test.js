// The official MCP TypeScript SDK's client (Client + StreamableHTTPClientTransport + an
// OAuthClientProvider) against xauth-reference's /mcp, authorized by xauth-issuer's OAuth 2.1
// server: 401 challenge → RFC 9728 metadata → RFC 8414 metadata → dynamic registration → PKCE S256
// authorization (auto-approved) → code exchange → tools.
//
// Dynamically registered client ids are random and the reference accepts only the ids on its
// allow-list (`--mcp-allowed-client-id`), so the provider's `saveClientInformation` hook restarts
// the reference on the same port with the new id added; the endpoint is stateless, so the SDK
// cannot tell. Needs XAUTH_ISSUER_BIN and XAUTH_REFERENCE_BIN (default: target/debug).
//
// The reference runs in its default configuration. Its challenge names no scope (the SDK asks the
// authorization server for the challenge's scope, and Supabase Auth grants only OpenID scopes:
// this suite found that a challenge naming `mcp:tools` broke every client's flow).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { AutoApproveProvider, Reference, USER, control, startIssuer, stop } from './harness.js';

let issuer;
let reference;

before(async () => {
  issuer = await startIssuer();
  reference = new Reference(issuer);
  await reference.start();
});

after(async () => {
  await reference?.stop();
  await stop(issuer?.child);
});

const verify = (token) =>
  jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwks_url)), {
    issuer: issuer.issuer,
    audience: 'authenticated',
    algorithms: ['ES256', 'RS256'],
  });

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '0' } },
};

function post(url, body, headers = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
}

/** `Bearer k1="v1", k2="v2"` → { scheme, k1, k2 } */
function parseChallenge(header) {
  assert.ok(header, 'no WWW-Authenticate header');
  const [scheme, ...rest] = header.split(' ');
  const params = { scheme };
  for (const m of rest.join(' ').matchAll(/([a-z_]+)="([^"]*)"/g)) params[m[1]] = m[2];
  return params;
}

/**
 * Runs the SDK's flow up to a connected client; returns { provider, client, transport, log },
 * `log` being every HTTP exchange the SDK made ({ method, url, status }), auth included.
 */
async function authorizeWithSdk(ref = reference) {
  const log = [];
  const recording = async (url, init) => {
    const res = await fetch(url, init);
    log.push({ method: init?.method ?? 'GET', url: String(url), status: res.status });
    return res;
  };
  const provider = new AutoApproveProvider(issuer, {
    onRegistered: (info) => ref.allowClients(info.client_id),
  });
  const options = { authProvider: provider, fetch: recording };
  const first = new StreamableHTTPClientTransport(new URL(ref.mcpUrl), options);
  const client = new Client({ name: 'xauth-interop', version: '1.0.0' });
  await assert.rejects(client.connect(first), UnauthorizedError, 'connecting without a token must need authorization');
  assert.equal(provider.redirect?.status, 302, `authorize: ${JSON.stringify(provider.redirect)}`);
  assert.ok(provider.code, `authorize redirected without a code: ${provider.redirect.location}`);
  await first.finishAuth(provider.code);
  await first.close().catch(() => {});
  const transport = new StreamableHTTPClientTransport(new URL(ref.mcpUrl), options);
  const connected = new Client({ name: 'xauth-interop', version: '1.0.0' });
  await connected.connect(transport);
  return { provider, client: connected, transport, log };
}

test('/mcp without a token is 401 with a Bearer challenge naming the RFC 9728 metadata', async () => {
  const res = await post(reference.mcpUrl, initialize);
  assert.equal(res.status, 401);
  const challenge = parseChallenge(res.headers.get('www-authenticate'));
  assert.equal(challenge.scheme, 'Bearer');
  assert.equal(challenge.resource_metadata, `${reference.base}/.well-known/oauth-protected-resource/mcp`);
  // No scope: the SDK would ask Supabase's OAuth server for it, which grants OpenID scopes only.
  assert.equal(challenge.scope, undefined, 'the challenge names a scope the authorization server cannot grant');

  const metadata = await (await fetch(challenge.resource_metadata)).json();
  assert.equal(metadata.resource, reference.mcpUrl);
  assert.deepEqual(metadata.authorization_servers, [issuer.auth_url]);
  assert.equal(metadata.scopes_supported, undefined);
  // The issuer those metadata name publishes RFC 8414 metadata the SDK can use.
  const as = await (await fetch(`${issuer.api_url}/.well-known/oauth-authorization-server/auth/v1`)).json();
  assert.equal(as.issuer, metadata.authorization_servers[0]);
});

test('the SDK client: 401 → discovery → registration → PKCE authorize → token → listTools → callTool', async () => {
  const { provider, client, log } = await authorizeWithSdk();
  try {
    // The flow's HTTP steps, in order (the authorize request is the provider's, not the SDK's).
    const steps = log.map((e) => `${e.method} ${e.url.replace(reference.base, '<ref>').replace(issuer.api_url, '<iss>')} ${e.status}`);
    const expected = [
      'POST <ref>/mcp 401',
      'GET <ref>/.well-known/oauth-protected-resource/mcp 200',
      'GET <iss>/.well-known/oauth-authorization-server/auth/v1 200',
      'POST <iss>/auth/v1/oauth/clients/register 201',
      'POST <iss>/auth/v1/oauth/token 200',
      'POST <ref>/mcp 200',
    ];
    let next = 0;
    for (const step of steps) if (step === expected[next]) next += 1;
    assert.equal(next, expected.length, `missing step ${expected[next]} in:\n${steps.join('\n')}`);
    // The flow's steps, in order, as the provider saw them.
    const at = (c) => provider.calls.indexOf(c);
    const order = ['saveClientInformation', 'saveCodeVerifier', 'redirectToAuthorization', 'saveTokens'];
    for (const c of order) assert.ok(at(c) >= 0, `${c} never called: ${provider.calls}`);
    assert.deepEqual([...order].sort((x, y) => at(x) - at(y)), order, `calls: ${provider.calls}`);
    // Discovery: the reference named the issuer, the issuer's RFC 8414 document was found.
    assert.equal(provider.discovered.authorizationServerUrl, issuer.auth_url);
    assert.equal(provider.discovered.resourceMetadata.resource, reference.mcpUrl);
    assert.equal(provider.discovered.authorizationServerMetadata.issuer, issuer.issuer);
    // Authorization request: PKCE S256, the registered client, the resource indicator.
    const q = provider.authorizationUrl.searchParams;
    assert.equal(`${provider.authorizationUrl.origin}${provider.authorizationUrl.pathname}`, `${issuer.auth_url}/oauth/authorize`);
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.equal(q.get('client_id'), provider.clientInformation().client_id);
    assert.equal(q.get('resource'), reference.mcpUrl);
    assert.equal(q.get('scope'), null, 'no scope named anywhere, none requested');
    assert.ok(provider.tokens()?.access_token, 'no access token saved');

    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    assert.ok(names.includes('list_content'), `tools: ${names}`);
    assert.ok(names.includes('upstream_status'), `tools: ${names}`);

    const result = await client.callTool({ name: 'list_content', arguments: {} });
    assert.notEqual(result.isError, true, `list_content failed: ${JSON.stringify(result)}`);
    assert.ok(Array.isArray(result.content) && result.content.length > 0, `no content: ${JSON.stringify(result)}`);
    assert.equal(result.content[0].type, 'text');
  } finally {
    await client.close();
  }
});

test('the access token carries client_id = the registered client and aud = authenticated', async () => {
  const { provider, client } = await authorizeWithSdk();
  await client.close();
  const { payload, protectedHeader } = await verify(provider.tokens().access_token);
  assert.equal(payload.client_id, provider.clientInformation().client_id);
  assert.equal(payload.aud, 'authenticated');
  assert.equal(payload.iss, issuer.issuer);
  assert.equal(payload.role, 'authenticated');
  assert.ok(['ES256', 'RS256'].includes(protectedHeader.alg));
  // No scope requested: the issuer's default (GoTrue's OAUTH_SERVER_DEFAULT_SCOPE), not enforced.
  assert.equal(payload.scope, 'email');

  // The same token straight on the wire is accepted.
  const ok = await post(reference.mcpUrl, initialize, { authorization: `Bearer ${provider.tokens().access_token}` });
  assert.equal(ok.status, 200);
});

test("a token of a client that is not on the reference's allow-list is 401", async () => {
  const provider = new AutoApproveProvider(issuer); // registered, never allowed
  const transport = new StreamableHTTPClientTransport(new URL(reference.mcpUrl), { authProvider: provider });
  const client = new Client({ name: 'xauth-interop', version: '1.0.0' });
  await assert.rejects(client.connect(transport), UnauthorizedError);
  assert.ok(provider.code, `authorize: ${JSON.stringify(provider.redirect)}`);
  await transport.finishAuth(provider.code);
  const token = provider.tokens().access_token;
  const { payload } = await verify(token);
  assert.equal(payload.client_id, provider.clientInformation().client_id);
  const res = await post(reference.mcpUrl, initialize, { authorization: `Bearer ${token}` });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
});

test('resource audience mode: with the issuer\'s access-token hook the token\'s aud is the MCP resource (RFC 8707)', async () => {
  // Supabase sets a per-resource aud only through a Custom Access Token Hook; the issuer's
  // `access_token_hook` switch stands in for one that copies the request's `resource`.
  await control(issuer, 'PUT', '/oauth', { access_token_hook: true });
  const ref = new Reference(issuer, { args: ['--mcp-audience-mode', 'resource'] });
  await ref.start();
  try {
    const provider = new AutoApproveProvider(issuer); // no allow-list in resource mode
    const first = new StreamableHTTPClientTransport(new URL(ref.mcpUrl), { authProvider: provider });
    await assert.rejects(new Client({ name: 'x', version: '1' }).connect(first), UnauthorizedError);
    assert.ok(provider.code, `authorize: ${JSON.stringify(provider.redirect)}`);
    await first.finishAuth(provider.code);
    const { payload } = await jwtVerify(provider.tokens().access_token, createRemoteJWKSet(new URL(issuer.jwks_url)), {
      issuer: issuer.issuer,
      audience: ref.mcpUrl,
    });
    assert.equal(payload.client_id, provider.clientInformation().client_id);
    const client = new Client({ name: 'x', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(ref.mcpUrl), { authProvider: provider }));
    const result = await client.callTool({ name: 'list_content', arguments: {} });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    await client.close();

    // A plain Supabase session token (aud authenticated) is not for this resource.
    const session = await (
      await fetch(`${issuer.auth_url}/token?grant_type=password`, {
        method: 'POST',
        headers: { apikey: issuer.anon_key, 'content-type': 'application/json' },
        body: JSON.stringify({ email: USER.email, password: USER.password }),
      })
    ).json();
    const res = await post(ref.mcpUrl, initialize, { authorization: `Bearer ${session.access_token}` });
    assert.equal(res.status, 401);
  } finally {
    await ref.stop();
    await control(issuer, 'PUT', '/oauth', { access_token_hook: false });
  }
});
