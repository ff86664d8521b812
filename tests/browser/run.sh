#!/usr/bin/env bash
# Runs authgate's browser tests: installs what is missing (Debian's Chromium,
# the pinned npm packages), builds the server binary, runs `node --test`.
# Screenshots land in target/browser-artifacts/. Fails, saying how to fix it,
# when Chromium cannot be installed: the tests never pass silently.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"

if [[ ! -x "$chromium" ]]; then
  echo "browser tests: $chromium is missing; installing Debian's chromium" >&2
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null || true
  fi
  if [[ ! -x "$chromium" ]]; then
    echo "browser tests: FAILED: Chromium is not installed and could not be installed here." >&2
    echo "  Install it with: sudo apt-get update && sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "browser tests: FAILED: node and npm are needed (apt-get install -y nodejs npm)." >&2
  exit 1
fi
if [[ ! -d "$here/node_modules/playwright-core" || ! -d "$here/node_modules/axe-core" ||
  ! -d "$here/node_modules/openid-client" || ! -d "$here/node_modules/smtp-server" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

target="${CARGO_TARGET_DIR:-$repo/target}"
# scripts/test passes the binaries its Rust tests just built (AUTHGATE_BIN,
# OIDC_RP_BIN: oidc-rp is the example relying party tests/oidc.test.mjs
# signs in with); run alone, this builds them.
if [[ -z "${AUTHGATE_BIN:-}" || -z "${OIDC_RP_BIN:-}" ]]; then
  (cd "$repo" && cargo build -p authgate --bin authgate -p oidc-rp --bin oidc-rp)
fi
export AUTHGATE_BIN="${AUTHGATE_BIN:-$target/debug/authgate}"
export OIDC_RP_BIN="${OIDC_RP_BIN:-$target/debug/oidc-rp}"
export BROWSER_ARTIFACTS="${BROWSER_ARTIFACTS:-$repo/target/browser-artifacts}"
rm -rf "$BROWSER_ARTIFACTS"

cd "$here"
node --test --test-concurrency=1 tests/
echo "browser tests: screenshots in $BROWSER_ARTIFACTS"
