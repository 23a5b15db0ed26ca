// The official MCP TypeScript SDK's OAuth client completes the authorization-code flow against
// xauth-issuer's OAuth 2.1 server (Supabase Auth's), with no MCP server involved: discovery,
// dynamic registration, PKCE S256 authorization (auto-approved), token exchange and refresh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  auth,
  discoverAuthorizationServerMetadata,
  exchangeAuthorization,
  refreshAuthorization,
  registerClient,
  startAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { AutoApproveProvider, REDIRECT_URL, USER, control, startIssuer, stop } from './harness.js';

let issuer;

before(async () => {
  issuer = await startIssuer();
});

after(async () => {
  await stop(issuer?.child);
});

const verify = (token, audience = 'authenticated') =>
  jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwks_url)), {
    issuer: issuer.issuer,
    audience,
    algorithms: ['ES256', 'RS256'],
  });

/** Follows `url` once, as a browser would, and returns the redirect's query parameters. */
async function authorizeOnce(url) {
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 302, `authorize answered ${res.status}: ${await res.text()}`);
  const location = new URL(res.headers.get('location'));
  return { location, params: location.searchParams };
}

test('discoverAuthorizationServerMetadata finds the issuer with a path (RFC 8414 path-insertion URL)', async () => {
  const seen = [];
  const fetchFn = (url, init) => {
    seen.push(String(url));
    return fetch(url, init);
  };
  const metadata = await discoverAuthorizationServerMetadata(issuer.auth_url, { fetchFn });
  assert.ok(metadata, 'no metadata found');
  assert.equal(seen[0], `${issuer.api_url}/.well-known/oauth-authorization-server/auth/v1`);
  assert.equal(metadata.issuer, issuer.issuer);
  assert.equal(metadata.authorization_endpoint, `${issuer.auth_url}/oauth/authorize`);
  assert.equal(metadata.token_endpoint, `${issuer.auth_url}/oauth/token`);
  assert.equal(metadata.registration_endpoint, `${issuer.auth_url}/oauth/clients/register`);
  assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
  assert.ok(metadata.response_types_supported.includes('code'));
});

test('SDK helpers: register a public client, authorize with PKCE S256, exchange and refresh', async () => {
  const metadata = await discoverAuthorizationServerMetadata(issuer.auth_url);
  const client = await registerClient(issuer.auth_url, {
    metadata,
    clientMetadata: {
      client_name: 'xauth SDK helpers',
      redirect_uris: [REDIRECT_URL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
  });
  assert.ok(client.client_id, 'registration returned no client_id');
  assert.equal(client.token_endpoint_auth_method, 'none');
  assert.equal(client.client_secret, undefined, 'a public client got a secret');

  const state = 'state-helpers';
  const { authorizationUrl, codeVerifier } = await startAuthorization(issuer.auth_url, {
    metadata,
    clientInformation: client,
    redirectUrl: REDIRECT_URL,
    scope: 'openid email',
    state,
  });
  assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');

  // Without consent the issuer sends the browser to its consent page, not back to the client.
  await control(issuer, 'DELETE', '/oauth/auto-approve');
  const consent = await authorizeOnce(authorizationUrl);
  assert.ok(consent.params.get('authorization_id'), `expected the consent page, got ${consent.location}`);

  await control(issuer, 'POST', '/oauth/auto-approve', { email: USER.email });
  const { location, params } = await authorizeOnce(authorizationUrl);
  assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URL);
  assert.equal(params.get('state'), state);
  const code = params.get('code');
  assert.ok(code, `no code in ${location}`);

  const tokens = await exchangeAuthorization(issuer.auth_url, {
    metadata,
    clientInformation: client,
    authorizationCode: code,
    codeVerifier,
    redirectUri: REDIRECT_URL,
  });
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.ok(tokens.refresh_token, 'no refresh token');
  assert.ok(tokens.id_token, 'scope openid but no id_token');
  const { payload } = await verify(tokens.access_token);
  assert.equal(payload.client_id, client.client_id);
  assert.equal(payload.email, USER.email);
  assert.equal(payload.role, 'authenticated');
  assert.equal(payload.scope, 'openid email');
  const idToken = await verify(tokens.id_token, client.client_id);
  assert.equal(idToken.payload.sub, payload.sub);

  const refreshed = await refreshAuthorization(issuer.auth_url, {
    metadata,
    clientInformation: client,
    refreshToken: tokens.refresh_token,
  });
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token did not rotate');
  const again = await verify(refreshed.access_token);
  assert.equal(again.payload.client_id, client.client_id);
  assert.equal(again.payload.sub, payload.sub);

  // The code is single use, and replaying it revokes the session it produced (refresh dies).
  const exchangeAgain = () =>
    exchangeAuthorization(issuer.auth_url, {
      metadata,
      clientInformation: client,
      authorizationCode: code,
      codeVerifier,
      redirectUri: REDIRECT_URL,
    });
  await assert.rejects(exchangeAgain(), (e) => e.constructor.name === 'InvalidGrantError');
  await assert.rejects(
    refreshAuthorization(issuer.auth_url, { metadata, clientInformation: client, refreshToken: refreshed.refresh_token }),
    (e) => e.constructor.name === 'InvalidGrantError',
  );
});

test('SDK helpers: a confidential client (client_secret_basic, the registration default) exchanges its code', async () => {
  const metadata = await discoverAuthorizationServerMetadata(issuer.auth_url);
  const client = await registerClient(issuer.auth_url, {
    metadata,
    clientMetadata: { client_name: 'xauth confidential', redirect_uris: [REDIRECT_URL] },
  });
  assert.ok(client.client_secret, 'a confidential client got no secret');
  assert.equal(client.token_endpoint_auth_method, 'client_secret_basic');
  const { authorizationUrl, codeVerifier } = await startAuthorization(issuer.auth_url, {
    metadata,
    clientInformation: client,
    redirectUrl: REDIRECT_URL,
    scope: 'email',
    state: 's',
  });
  await control(issuer, 'POST', '/oauth/auto-approve', { email: USER.email });
  const { params } = await authorizeOnce(authorizationUrl);
  const tokens = await exchangeAuthorization(issuer.auth_url, {
    metadata,
    clientInformation: client,
    authorizationCode: params.get('code'),
    codeVerifier,
    redirectUri: REDIRECT_URL,
  });
  const { payload } = await verify(tokens.access_token);
  assert.equal(payload.client_id, client.client_id);
});

test("the SDK's auth() runs the whole flow (registration, redirect, code exchange) from a known authorization server", async () => {
  // No MCP server here: the discovery state names the authorization server out of band, as a
  // provider may (the RFC 9728 step is covered by mcp-client.test.js against xauth-reference).
  const provider = new AutoApproveProvider(issuer, {
    clientMetadata: { scope: 'openid email' },
    discoveryState: { authorizationServerUrl: issuer.auth_url },
  });
  const serverUrl = 'http://127.0.0.1:9/mcp'; // never contacted: only named as the resource
  const noResourceMetadata = (url, init) =>
    String(url).startsWith('http://127.0.0.1:9/')
      ? Promise.resolve(new Response('not found', { status: 404 }))
      : fetch(url, init);

  const first = await auth(provider, { serverUrl, fetchFn: noResourceMetadata });
  assert.equal(first, 'REDIRECT');
  assert.deepEqual(provider.calls.filter((c) => c !== 'saveDiscoveryState'), [
    'saveClientInformation',
    'saveCodeVerifier',
    'redirectToAuthorization',
  ]);
  assert.equal(provider.authorizationUrl.origin + provider.authorizationUrl.pathname, `${issuer.auth_url}/oauth/authorize`);
  assert.equal(provider.authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(provider.authorizationUrl.searchParams.get('client_id'), provider.clientInformation().client_id);
  assert.equal(provider.redirect.status, 302);
  assert.ok(provider.code, `no code: ${provider.redirect.location}`);

  const second = await auth(provider, { serverUrl, authorizationCode: provider.code, fetchFn: noResourceMetadata });
  assert.equal(second, 'AUTHORIZED');
  const { payload } = await verify(provider.tokens().access_token);
  assert.equal(payload.client_id, provider.clientInformation().client_id);
  assert.equal(payload.aud, 'authenticated');
  assert.equal(payload.email, USER.email);
});

test("a scope outside Supabase's five (the MCP resource's mcp:tools) is refused at /authorize (invalid_request, as GoTrue)", async () => {
  // What the SDK would send when a resource server's challenge says scope="mcp:tools": Supabase
  // Auth (and so the issuer) grants only openid, email, profile, phone and offline_access.
  const metadata = await discoverAuthorizationServerMetadata(issuer.auth_url);
  const client = await registerClient(issuer.auth_url, {
    metadata,
    clientMetadata: { redirect_uris: [REDIRECT_URL], token_endpoint_auth_method: 'none' },
  });
  const { authorizationUrl } = await startAuthorization(issuer.auth_url, {
    metadata,
    clientInformation: client,
    redirectUrl: REDIRECT_URL,
    scope: 'mcp:tools',
    state: 's',
  });
  await control(issuer, 'POST', '/oauth/auto-approve', { email: USER.email });
  const { params } = await authorizeOnce(authorizationUrl);
  assert.equal(params.get('code'), null);
  assert.equal(params.get('error'), 'invalid_request');
  assert.match(params.get('error_description'), /unsupported scope: mcp:tools/);
  assert.deepEqual(metadata.scopes_supported, ['openid', 'profile', 'email', 'phone', 'offline_access']);
});
