// The real supabase-js and jose clients against xauth-issuer: they must not be able to tell it
// from Supabase's GoTrue. Started by `cargo xtask interop` (or `npm test` with XAUTH_ISSUER_BIN).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { createClient, AuthApiError } from '@supabase/supabase-js';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';

const ISSUER_BIN = process.env.XAUTH_ISSUER_BIN ?? new URL('../../target/debug/xauth-issuer', import.meta.url).pathname;

let child;
let info;

/** Starts the issuer on an ephemeral port and reads its one-line JSON status. */
before(async () => {
  child = spawn(ISSUER_BIN, ['--listen', '127.0.0.1:0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('issuer printed no JSON status within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`issuer exited early with ${code}`)));
    lines.on('line', (line) => {
      try {
        // The same keys `supabase status -o json` prints.
        const status = JSON.parse(line);
        clearTimeout(timer);
        resolve({
          api_url: status.API_URL,
          jwks_url: status.JWKS_URL,
          anon_key: status.ANON_KEY,
          service_role_key: status.SERVICE_ROLE_KEY,
        });
      } catch {
        // not the status line
      }
    });
  });
  lines.on('line', () => {}); // keep draining stdout
});

after(() => {
  child?.kill('SIGTERM');
});

// Node 20 has no global WebSocket and supabase-js's realtime client insists on one at
// construction; these tests never open a realtime channel, so a stand-in class suffices.
class NoRealtime {
  constructor() {
    throw new Error('realtime is not used by these tests');
  }
}

const client = (key = info.anon_key) =>
  createClient(info.api_url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: globalThis.WebSocket ?? NoRealtime },
  });

/** Calls the issuer's control API. */
async function control(method, path, body) {
  const res = await fetch(`${info.api_url}/_control/v1${path}`, {
    method,
    headers: { apikey: info.service_role_key, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `control ${method} ${path} answered ${res.status}`);
  return res.status === 204 ? null : res.json();
}

async function newUser(supabase = client()) {
  const email = `user-${randomUUID()}@example.com`;
  const password = 'correct-horse-battery-staple';
  const { data, error } = await supabase.auth.signUp({ email, password });
  assert.equal(error, null);
  return { email, password, data };
}

test('signUp returns a session for an auto-confirmed user', async () => {
  const { email, data } = await newUser();
  assert.equal(data.user.email, email);
  assert.ok(data.session?.access_token, 'signUp returned no session');
  assert.equal(data.session.token_type, 'bearer');
});

test('signInWithPassword, getUser and getClaims work like against GoTrue', async () => {
  const supabase = client();
  const { email, password } = await newUser(client());
  const events = [];
  supabase.auth.onAuthStateChange((event) => events.push(event));

  const { data, error } = await supabase.auth.signInWithPassword({ email, password });
  assert.equal(error, null);
  const session = data.session;
  assert.equal(session.token_type, 'bearer');
  assert.ok(session.expires_in > 3500 && session.expires_in <= 3600, `expires_in ${session.expires_in}`);
  assert.equal(session.user.email, email);
  assert.ok(events.includes('SIGNED_IN'), `events: ${events}`);

  const user = await supabase.auth.getUser();
  assert.equal(user.error, null);
  assert.equal(user.data.user.id, session.user.id);

  const claims = await supabase.auth.getClaims();
  assert.equal(claims.error, null);
  assert.equal(claims.data.claims.sub, session.user.id);
  assert.equal(claims.data.claims.role, 'authenticated');
  assert.equal(claims.data.claims.aud, 'authenticated');
  assert.equal(claims.data.claims.iss, `${info.api_url}/auth/v1`);
});

test('jose verifies access tokens with only the published JWKS', async () => {
  const { email, password } = await newUser();
  const { data } = await client().auth.signInWithPassword({ email, password });
  const jwks = createRemoteJWKSet(new URL(info.jwks_url));
  const { payload, protectedHeader } = await jwtVerify(data.session.access_token, jwks, {
    issuer: `${info.api_url}/auth/v1`,
    audience: 'authenticated',
    algorithms: ['ES256', 'RS256'],
  });
  assert.equal(payload.sub, data.user.id);
  assert.equal(protectedHeader.typ, 'JWT');
  assert.ok(protectedHeader.kid);
});

test('wrong password is AuthApiError invalid_credentials, like an unknown user', async () => {
  const { email } = await newUser();
  const wrong = await client().auth.signInWithPassword({ email, password: 'not-the-password' });
  const unknown = await client().auth.signInWithPassword({ email: `nobody-${randomUUID()}@example.com`, password: 'x-password' });
  for (const { error } of [wrong, unknown]) {
    assert.ok(error instanceof AuthApiError, `got ${error}`);
    assert.equal(error.status, 400);
    assert.equal(error.code, 'invalid_credentials');
    assert.equal(error.message, 'Invalid login credentials');
  }
});

test('refreshSession rotates the refresh token; reuse after the interval revokes the family', async () => {
  const supabase = client();
  const { email, password } = await newUser();
  const first = await supabase.auth.signInWithPassword({ email, password });
  const refreshed = await supabase.auth.refreshSession();
  assert.equal(refreshed.error, null);
  assert.notEqual(refreshed.data.session.refresh_token, first.data.session.refresh_token);
  assert.notEqual(refreshed.data.session.access_token, first.data.session.access_token);
  const second = await client().auth.refreshSession({ refresh_token: refreshed.data.session.refresh_token });
  assert.equal(second.error, null);

  // Move the issuer clock past the reuse interval instead of sleeping.
  await control('POST', '/clock', { offset_seconds: 60 });
  try {
    const reuse = await client().auth.refreshSession({ refresh_token: first.data.session.refresh_token });
    assert.ok(reuse.error instanceof AuthApiError, `got ${reuse.error}`);
    assert.equal(reuse.error.code, 'refresh_token_already_used');
    // The family is revoked: the newest token is dead too, once its own reuse interval (GoTrue
    // bumps updated_at when it revokes the family) has passed.
    await control('POST', '/clock', { offset_seconds: 120 });
    const after = await client().auth.refreshSession({ refresh_token: second.data.session.refresh_token });
    assert.ok(after.error instanceof AuthApiError, `the family was not revoked: ${after.error}`);
    assert.equal(after.error.code, 'refresh_token_already_used');
  } finally {
    await control('POST', '/clock', { offset_seconds: 0 });
  }
});

test('signOut revokes the session: its refresh token is not found afterwards', async () => {
  const supabase = client();
  const { email, password } = await newUser();
  const { data } = await supabase.auth.signInWithPassword({ email, password });
  const { error } = await supabase.auth.signOut();
  assert.equal(error, null);
  const refresh = await client().auth.refreshSession({ refresh_token: data.session.refresh_token });
  assert.ok(refresh.error instanceof AuthApiError, `got ${refresh.error}`);
  assert.equal(refresh.error.code, 'refresh_token_not_found');
});

test('updateUser changes metadata and password; the same password again is AuthApiError same_password', async () => {
  const supabase = client();
  const { email, password } = await newUser();
  assert.equal((await supabase.auth.signInWithPassword({ email, password })).error, null);
  const meta = await supabase.auth.updateUser({ data: { plan: 'pro' } });
  assert.equal(meta.error, null);
  assert.equal(meta.data.user.user_metadata.plan, 'pro');
  const newPassword = `${password}-changed`;
  const changed = await supabase.auth.updateUser({ password: newPassword });
  assert.equal(changed.error, null);
  const again = await supabase.auth.updateUser({ password: newPassword });
  assert.ok(again.error instanceof AuthApiError, `got ${again.error}`);
  assert.equal(again.error.code, 'same_password');
  const old = await client().auth.signInWithPassword({ email, password });
  assert.equal(old.error?.code, 'invalid_credentials');
  const fresh = await client().auth.signInWithPassword({ email, password: newPassword });
  assert.equal(fresh.error, null);
  assert.equal(fresh.data.user.user_metadata.plan, 'pro');
});

test('getUser with a signed-out session is AuthSessionMissingError, as auth-js expects', async () => {
  const supabase = client();
  const { email, password } = await newUser();
  const { data } = await supabase.auth.signInWithPassword({ email, password });
  const other = client();
  await other.auth.setSession({ access_token: data.session.access_token, refresh_token: data.session.refresh_token });
  assert.equal((await other.auth.signOut({ scope: 'global' })).error, null);
  const { error } = await supabase.auth.getUser(data.session.access_token);
  assert.ok(error, 'getUser succeeded for a signed-out session');
  assert.equal(error.name, 'AuthSessionMissingError');
});

test('after a key rotation getClaims and jose verify tokens from the new key', async () => {
  const { email, password } = await newUser();
  const before = await client().auth.signInWithPassword({ email, password });
  const oldKid = decodeProtectedHeader(before.data.session.access_token).kid;
  const standby = (await control('GET', '/keys')).keys.find((k) => k.state === 'standby');
  await control('POST', '/keys/rotate', {});
  const supabase = client();
  const afterRotation = await supabase.auth.signInWithPassword({ email, password });
  const header = decodeProtectedHeader(afterRotation.data.session.access_token);
  assert.notEqual(header.kid, oldKid);
  if (standby) {
    // The default standby key is RS256: this exercises WebCrypto's RSASSA-PKCS1-v1_5 import too.
    assert.equal(header.kid, standby.kid);
    assert.equal(header.alg, standby.alg);
  }
  const claims = await supabase.auth.getClaims();
  assert.equal(claims.error, null);
  const jwks = createRemoteJWKSet(new URL(info.jwks_url));
  await jwtVerify(afterRotation.data.session.access_token, jwks, { algorithms: ['ES256', 'RS256'] });
  // Tokens of the previous key keep verifying while it is published.
  await jwtVerify(before.data.session.access_token, jwks, { algorithms: ['ES256', 'RS256'] });
});

test('the admin API works with the service_role key', async () => {
  const admin = client(info.service_role_key).auth.admin;
  const email = `admin-made-${randomUUID()}@example.com`;
  const created = await admin.createUser({ email, password: 'correct-horse-battery', email_confirm: true });
  assert.equal(created.error, null);
  assert.equal(created.data.user.email, email);
  const listed = await admin.listUsers();
  assert.equal(listed.error, null);
  assert.ok(listed.data.users.some((u) => u.id === created.data.user.id));
  const deleted = await admin.deleteUser(created.data.user.id);
  assert.equal(deleted.error, null);
  const signIn = await client().auth.signInWithPassword({ email, password: 'correct-horse-battery' });
  assert.equal(signIn.error?.code, 'invalid_credentials');
});
