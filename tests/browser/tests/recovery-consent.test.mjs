// The pages the other tests do not open, in Debian's Chromium against a
// real `authgate serve` with OpenID Connect on: "forgot your password?",
// the reset form a link opens (and its refusal of a bad link), and the
// consent page of a relying party (whose name, a script, shows as text;
// Deny goes back to the client with access_denied). Axe and screenshots of
// each. Waits are on navigation or elements, never sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  PASSWORD, api, axeViolations, launch, newContext, requirePrerequisites, screenshots, startServer,
} from '../lib/harness.mjs';

requirePrerequisites();

let server;
let browser;
const SCRIPT = '<script>alert(1)</script>';
const REDIRECT = 'http://127.0.0.1:9/callback';

before(async () => {
  server = await startServer({ AUTHGATE_OIDC__ENABLED: 'true' });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function inspect(page, name) {
  assert.deepEqual(await axeViolations(page), [], `axe on ${name}`);
  assert.deepEqual(page.context().violations, [], `CSP on ${name}`);
  await screenshots(page, name);
}

describe('recovery and consent pages', () => {
  test('forgot password and the reset form pass axe and say what happened', async () => {
    const page = await (await newContext(browser)).newPage();
    await page.goto(`${server.url}/password/forgot`);
    await inspect(page, 'password-forgot');
    await page.getByLabel('Email').fill('nobody@example.com');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Send the link' }).click()]);
    assert.equal(await page.getByLabel('Email').count(), 0, 'the form gave way to the answer');
    await inspect(page, 'password-forgot-sent');

    await page.goto(`${server.url}/password/reset?token=${'x'.repeat(43)}`);
    await inspect(page, 'password-reset');
    await page.locator('#new_password').fill('copper meadow orbit 92 saffron');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Set the password' }).click()]);
    await page.locator('[role=alert], .field-error').first().waitFor();
    await inspect(page, 'password-reset-error');
    await page.context().close();
  });

  test('the consent page shows the client by name as text, and Deny goes back with access_denied', async () => {
    const email = `consent${Date.now().toString(36)}@example.com`;
    const created = await api(server.url, 'POST', '/auth/register', { body: { email, password: PASSWORD } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const client = JSON.parse(server.cli([
      'oidc-client', 'add', `Photos ${SCRIPT}`, '--redirect-uri', REDIRECT, '--scope', 'profile', '--public', '--json',
    ]));
    const context = await newContext(browser);
    const page = await context.newPage();
    // The relying party is not running: answer its callback here.
    await page.route(`${REDIRECT}**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'callback' }));
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      scope: 'openid profile',
      state: 'st4te',
      nonce: 'n0nce',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    await page.goto(`${server.url}/oauth/authorize?${query}`);
    // Logged out: the login page first, then back to the request.
    await page.getByLabel('Email or username').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForURL(/\/oauth\/authorize/), page.getByRole('button', { name: 'Log in' }).click()]);
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    assert.ok(await page.getByText(SCRIPT, { exact: false }).first().isVisible(), 'the name shows as text');
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    await inspect(page, 'consent');
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(REDIRECT)),
      page.getByRole('button', { name: 'Deny' }).click(),
    ]);
    const back = new URL(page.url());
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), 'st4te');
    await context.close();
  });
});
