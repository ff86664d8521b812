// Account recovery in Debian's Chromium against a real `authgate serve`
// that sends its mail over SMTP to a sink started here (the npm
// `smtp-server` package on 127.0.0.1): the messages are read from the sink
// and their links followed as a person would.
// Elements are found by role and label; waits are on navigation or on a
// message arriving, never sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import {
  PASSWORD, api, axeViolations, launch, newContext, requirePrerequisites, screenshots, startServer,
} from '../lib/harness.mjs';

requirePrerequisites();

const NEW_PASSWORD = 'copper-meadow-lighthouse-82-orbit';

/** An SMTP server on 127.0.0.1 that keeps every message it is given. */
async function startSink() {
  const messages = [];
  const waiters = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let data = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => { data += chunk; });
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        messages.push({ to, data });
        for (const wake of waiters.splice(0)) wake();
        callback();
      });
    },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.server.address();
  return {
    url: `smtp://127.0.0.1:${port}?tls=none`,
    /** The next message to `address` whose text matches `pattern` (taken off the sink). */
    async next(address, pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = messages.findIndex((m) => m.to.includes(address) && pattern.test(m.data));
        if (i >= 0) return messages.splice(i, 1)[0];
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no message to ${address} matching ${pattern}`);
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => { clearTimeout(timer); resolve(); });
        });
      }
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

let sink;
let server;
let browser;
let counter = 0;
const fresh = (prefix) => `${prefix}${Date.now().toString(36)}${++counter}@example.com`;

before(async () => {
  sink = await startSink();
  server = await startServer({
    AUTHGATE_EMAIL__SMTP_URL: sink.url,
    AUTHGATE_EMAIL__FROM: 'Example ID <no-reply@example.com>',
    AUTHGATE_AUTH__REQUIRE_VERIFIED_EMAIL: 'true',
  });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await sink?.close();
});

/** Checks axe and the CSP on the page, then takes its screenshots. */
async function inspect(page, name) {
  assert.deepEqual(await axeViolations(page), [], `axe on ${name}`);
  assert.deepEqual(page.context().violations, [], `CSP on ${name}`);
  await screenshots(page, name);
}

/** The link starting with `path` in a message (sent as 7-bit text: whole). */
function linkIn(message, path) {
  const escaped = `${server.url}${path}`.replace(/[.?*+^$()[\]{}|\\]/g, '\\$&');
  const found = message.data.match(new RegExp(`${escaped}[A-Za-z0-9_-]+`));
  assert.ok(found, `a link ${path}… in ${message.data}`);
  return found[0];
}

async function fillLogin(page, identifier, password) {
  await page.getByLabel('Email or username').fill(identifier);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Log in' }).click()]);
  await page.waitForLoadState('load');
}

describe('recovery', () => {
  test('register → the verification email from the SMTP sink → click → log in', async () => {
    const email = fresh('verify');
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/register`);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForURL(/\/login\?registered=1$/), page.getByRole('button', { name: 'Create account' }).click()]);
    await page.getByRole('status').filter({ hasText: 'Open the link we sent' }).waitFor();

    // Before the link: the right password is refused, with a way to resend.
    await fillLogin(page, email, PASSWORD);
    assert.match(await page.getByRole('alert').innerText(), /Confirm your email address first/);
    assert.ok(!page.url().endsWith('/account'));
    await inspect(page, 'login-unverified');
    const first = await sink.next(email, /Subject: Confirm your email address/);
    await Promise.all([
      page.waitForURL(/\/email\/verify\/resend$/),
      page.getByRole('button', { name: 'Send the confirmation link again' }).click(),
    ]);
    await page.getByRole('status').filter({ hasText: 'a new link is on its way' }).waitFor();
    await inspect(page, 'verify-resent');
    const message = await sink.next(email, /Subject: Confirm your email address/);
    assert.match(message.data, /From: "Example ID" <no-reply@example\.com>/);
    assert.match(message.data, /\(24 hours after it was sent\)/);
    const link = linkIn(message, '/email/verify?token=');
    assert.notEqual(link, linkIn(first, '/email/verify?token='), 'a new link');

    // The link opens a page with a button; opening it changed nothing.
    await page.goto(link);
    await inspect(page, 'verify-confirm');
    const before = await api(server.url, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
    assert.equal(before.status, 403);
    assert.equal(before.body.error, 'email_not_verified');
    await Promise.all([
      page.waitForURL(/\/email\/verify$/),
      page.getByRole('button', { name: 'Confirm my email address' }).click(),
    ]);
    assert.match(await page.getByRole('status').innerText(), new RegExp(`${email.replace('.', '\\.')} is confirmed`));
    await inspect(page, 'verify-done');

    // Then the login goes through, and the account page shows the badge.
    await page.getByRole('link', { name: 'Log in' }).click();
    await page.waitForURL(/\/login$/);
    await Promise.all([page.waitForURL(/\/account$/), fillLogin(page, email, PASSWORD)]);
    assert.match(await page.locator('dl.facts').innerText(), /Verified/);
    // The first link was replaced by the second.
    await page.goto(linkIn(first, '/email/verify?token='));
    await page.getByRole('button', { name: 'Confirm my email address' }).click();
    await page.waitForURL(/\/email\/verify$/);
    assert.match(await page.getByRole('alert').innerText(), /invalid, has expired or was already used/);
    await context.close();
  });

  test('forgot → the reset email → a new password → the old sessions are dead', async () => {
    // An account with its address verified, logged in twice: in a browser
    // and through the API.
    const email = fresh('reset');
    const created = await api(server.url, 'POST', '/auth/register', { body: { email, password: PASSWORD } });
    assert.equal(created.status, 201);
    const verification = await sink.next(email, /Subject: Confirm your email address/);
    const token = new URL(linkIn(verification, '/email/verify?token=')).searchParams.get('token');
    assert.equal((await api(server.url, 'POST', '/auth/email/verify', { body: { token } })).status, 200);
    const apiLogin = await api(server.url, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
    assert.equal(apiLogin.status, 200);
    const old = await newContext(browser);
    const oldPage = await old.newPage();
    await oldPage.goto(`${server.url}/login`);
    await Promise.all([oldPage.waitForURL(/\/account$/), fillLogin(oldPage, email, PASSWORD)]);

    // Someone who forgot the password, in another browser.
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/login`);
    await Promise.all([page.waitForURL(/\/password\/forgot$/), page.getByRole('link', { name: 'Forgot password?' }).click()]);
    await inspect(page, 'forgot');
    await page.getByLabel('Email').fill(email);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Send the link' }).click()]);
    await page.getByRole('status').filter({ hasText: 'is on its way' }).waitFor();
    await inspect(page, 'forgot-sent');

    const message = await sink.next(email, /Subject: Reset your password/);
    await page.goto(linkIn(message, '/password/reset?token='));
    await inspect(page, 'reset');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Set the password' }).click()]);
    assert.match(await page.getByRole('status').innerText(), /every session of your account was ended/);
    await inspect(page, 'reset-done');

    // The old sessions are dead: the browser's and the API's.
    await oldPage.reload();
    await oldPage.waitForURL(/\/login/);
    assert.equal((await api(server.url, 'GET', '/me', { token: apiLogin.body.access_token })).status, 401);
    const refreshed = await api(server.url, 'POST', '/auth/refresh', { body: { refresh_token: apiLogin.body.refresh_token } });
    assert.equal(refreshed.status, 401);
    assert.equal(refreshed.body.error, 'invalid_grant');
    // The old password is refused, the new one logs in.
    assert.equal((await api(server.url, 'POST', '/auth/login', { body: { email, password: PASSWORD } })).status, 401);
    await page.getByRole('link', { name: 'Log in' }).click();
    await page.waitForURL(/\/login$/);
    await Promise.all([page.waitForURL(/\/account$/), fillLogin(page, email, NEW_PASSWORD)]);
    await old.close();
    await context.close();
  });
});
