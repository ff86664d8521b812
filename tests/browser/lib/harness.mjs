// The browser tests' harness: a real `authgate serve` on 127.0.0.1 with a
// fresh data directory and port, Debian's Chromium through playwright-core,
// axe-core on every page, screenshots into one artifacts folder.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..', '..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const BIN = process.env.AUTHGATE_BIN || path.join(repo, 'target', 'debug', 'authgate');
export const ARTIFACTS = process.env.BROWSER_ARTIFACTS || path.join(repo, 'target', 'browser-artifacts');
export const PASSWORD = 'correct horse battery staple 42';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const AXE = readFileSync(path.join(here, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/** Fails loudly, never silently, when a prerequisite is missing. */
export function requirePrerequisites() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: install it with ` +
      '`apt-get update && apt-get install -y chromium` (or run tests/browser/run.sh, which does).');
  }
  if (!existsSync(BIN)) {
    throw new Error(`The authgate binary is missing at ${BIN}: build it with ` +
      '`cargo build -p authgate` (or run tests/browser/run.sh, which does).');
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts `authgate serve` with `env` added; returns { url, stop, cli }. */
export async function startServer(extraEnv = {}) {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'authgate-browser-'));
  const url = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    AUTHGATE_SERVER__BIND: `127.0.0.1:${port}`,
    AUTHGATE_SERVER__PUBLIC_URL: url,
    AUTHGATE_STORAGE__DATA_DIR: dataDir,
    AUTHGATE_PASSWORDS__ARGON2_MEMORY_KIB: '64',
    AUTHGATE_PASSWORDS__ARGON2_ITERATIONS: '1',
    AUTHGATE_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE: '1000',
    RUST_LOG: 'warn',
    ...extraEnv,
  };
  const cli = (args, input) => execFileSync(BIN, args, { env, input, encoding: 'utf8' });
  const child = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`authgate serve exited: ${log}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`authgate serve did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { url, stop, cli };
}

/** Debian's Chromium, headless, in a fresh temporary profile. */
export async function launch() {
  requirePrerequisites();
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** A new isolated browser context (its own cookies) that fails on CSP violations. */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  context.violations = [];
  context.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) context.violations.push(message.text());
  });
  return context;
}

/** axe-core on the page: the serious and critical violations. */
export async function axeViolations(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Screenshots of the page at 375 and 1280 px, light and dark, under `name`. */
export async function screenshots(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const original = page.viewportSize();
  for (const width of [375, 1280]) {
    for (const scheme of ['light', 'dark']) {
      await page.setViewportSize({ width, height: 900 });
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${width}-${scheme}.png`), fullPage: true });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(original);
}

/** API helpers (JSON). */
export async function api(url, method, route, { token, body } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${url}${route}`, { method, headers, body: body && JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}
