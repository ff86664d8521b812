// authgate's pages in Debian's Chromium against a real `authgate serve`.
// Elements are found by role and label; waits are on navigation, never sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  PASSWORD, api, axeViolations, launch, newContext, requirePrerequisites, screenshots, startServer,
} from '../lib/harness.mjs';

requirePrerequisites();

let server;
let browser;
let counter = 0;
const fresh = (prefix) => `${prefix}${Date.now().toString(36)}${++counter}@example.com`;

before(async () => {
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Checks axe and the CSP on the page, then takes its screenshots. */
async function inspect(page, name) {
  assert.deepEqual(await axeViolations(page), [], `axe on ${name}`);
  assert.deepEqual(page.context().violations, [], `CSP on ${name}`);
  await screenshots(page, name);
}

async function register(page, email, extra = {}) {
  await page.goto(`${server.url}/register`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  if (extra.name) await page.getByLabel('Name (optional)', { exact: true }).fill(extra.name);
  await page.getByLabel('Password').fill(extra.password ?? PASSWORD);
  await Promise.all([page.waitForURL(/\/(login|register)/), page.getByRole('button', { name: 'Create account' }).click()]);
}

async function login(page, identifier, password = PASSWORD) {
  await page.getByLabel('Email or username').fill(identifier);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Log in' }).click()]);
  await page.waitForLoadState('load');
}

async function loggedInPage(email) {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${server.url}/login`);
  await Promise.all([page.waitForURL(/\/account$/), login(page, email)]);
  return page;
}

async function apiUser(email, roles) {
  const created = await api(server.url, 'POST', '/auth/register', { body: { email, password: PASSWORD } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  if (roles) server.cli(['user', 'grant', email, roles]);
  const logged = await api(server.url, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
  assert.equal(logged.status, 200);
  return { id: created.body.user.id, token: logged.body.access_token };
}

describe('pages', () => {
  test('register → login → account → revoke another session → logout', async () => {
    const email = fresh('flow');
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/register`);
    await inspect(page, 'register');
    // A weak password: the message sits next to the field, the email stays.
    await register(page, email, { password: 'password1234' });
    assert.match(await page.locator('#password-error').innerText(), /too weak/);
    assert.equal(await page.getByLabel('Email', { exact: true }).inputValue(), email);
    assert.equal(await page.getByLabel('Password').inputValue(), '');
    await inspect(page, 'register-error');
    await register(page, email, { name: 'Flow Tester' });
    await page.waitForURL(/\/login\?registered=1$/);
    await page.getByRole('status').filter({ hasText: 'account was created' }).waitFor();
    await inspect(page, 'login');
    await Promise.all([page.waitForURL(/\/account$/), login(page, email)]);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    assert.match(await page.locator('.badge.good').innerText(), /Valid/);
    await inspect(page, 'account');

    const other = await loggedInPage(email);
    await page.reload();
    const revoke = page.getByRole('button', { name: /^Revoke the session/ });
    assert.equal(await revoke.count(), 1);
    await Promise.all([page.waitForURL(/done=revoked/), revoke.click()]);
    assert.equal(await page.getByRole('button', { name: /^Revoke the session/ }).count(), 0);
    await Promise.all([other.waitForURL(/\/login/), other.getByRole('link', { name: 'Flow Tester' }).click()]);
    await Promise.all([page.waitForURL(/\/login$/), page.getByRole('button', { name: 'Log out' }).first().click()]);
    await page.goto(`${server.url}/account`);
    assert.match(page.url(), /\/login\?return_to=%2Faccount$/);
    await other.context().close();
    await context.close();
  });

  test('the guard keeps return_to and refuses every open-redirect spelling', async () => {
    const email = fresh('guard');
    await apiUser(email);
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/account?from=guard`);
    assert.equal(page.url(), `${server.url}/login?return_to=%2Faccount%3Ffrom%3Dguard`);
    await Promise.all([page.waitForURL(/\/account\?from=guard$/), login(page, email)]);
    // Logged in, /login sends on.
    await page.goto(`${server.url}/login`);
    assert.equal(page.url(), `${server.url}/account`);
    await context.close();
    for (const bad of ['//evil.example', '///evil.example', '/\\evil.example', 'https://evil.example/',
      'javascript:alert(1)', '/\tevil', '/x\r\nLocation: https://evil.example']) {
      const c = await newContext(browser);
      const p = await c.newPage();
      await p.goto(`${server.url}/login?return_to=${encodeURIComponent(bad)}`);
      await Promise.all([p.waitForURL(/\/account$/), login(p, email)]);
      assert.equal(p.url(), `${server.url}/account`, JSON.stringify(bad));
      await c.close();
    }
  });

  test('a wrong password says so without telling whether the account exists', async () => {
    const email = fresh('wrong');
    await apiUser(email);
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/login`);
    await login(page, email, 'not the password');
    const wrong = await page.getByRole('alert').innerText();
    assert.equal(await page.getByLabel('Email or username').inputValue(), email);
    assert.equal(await page.getByLabel('Password').inputValue(), '');
    await inspect(page, 'login-error');
    await login(page, 'nobody-here@example.com', 'not the password');
    assert.equal(await page.getByRole('alert').innerText(), wrong);
    await context.close();
  });

  test('keyboard only: Tab to the fields, Enter logs in', async () => {
    const email = fresh('keys');
    await apiUser(email);
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/login`);
    for (let i = 0; i < 10; i += 1) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement?.id) === 'identifier') break;
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'identifier');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
    await page.keyboard.type(PASSWORD);
    await Promise.all([page.waitForURL(/\/account$/), page.keyboard.press('Enter')]);
    await context.close();
  });

  test('the session cookie as the browser sees it', async () => {
    const email = fresh('cookie');
    await apiUser(email);
    const page = await loggedInPage(email);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'authgate_session');
    assert.ok(session, JSON.stringify(cookies));
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    assert.equal(session.secure, false, 'plain http on localhost');
    assert.equal(session.path, '/');
    assert.equal(session.value.length, 43);
    assert.ok(!session.value.includes('.'), 'not a JWT');
    assert.equal(await page.evaluate(() => document.cookie.includes('authgate_session')), false);
    await page.context().close();
  });

  test('a missing or wrong form token is 403 and changes nothing', async () => {
    const email = fresh('csrf');
    const user = await apiUser(email);
    const page = await loggedInPage(email);
    const before = (await api(server.url, 'GET', '/auth/sessions', { token: user.token })).body.sessions.length;
    for (const tamper of ['remove', 'wrong']) {
      await page.goto(`${server.url}/account`);
      await page.evaluate((how) => {
        const input = document.querySelector('form[action="/account/logout-everywhere"] input[name=csrf]');
        if (how === 'remove') input.remove(); else input.value = 'x'.repeat(43);
      }, tamper);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/account/logout-everywhere')),
        page.getByRole('button', { name: 'Log out everywhere' }).click(),
      ]);
      assert.equal(response.status(), 403, tamper);
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
      if (tamper === 'wrong') await inspect(page, 'error-403');
    }
    const afterCount = (await api(server.url, 'GET', '/auth/sessions', { token: user.token })).body.sessions.length;
    assert.equal(afterCount, before);
    await page.goto(`${server.url}/account`);
    assert.equal(page.url(), `${server.url}/account`, 'still logged in');
    await page.context().close();
  });

  test('a cross-origin POST is refused even with the right token', async () => {
    const email = fresh('cross');
    await apiUser(email);
    const page = await loggedInPage(email);
    const token = await page.locator('form[action="/account/logout-everywhere"] input[name=csrf]').inputValue();
    const evil = http.createServer((req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><title>evil</title><form method="post" action="${server.url}/account/logout-everywhere">
        <input type="hidden" name="csrf" value="${token}"><button>Win a prize</button></form>`);
    });
    await new Promise((r) => evil.listen(0, '127.0.0.1', r));
    await page.goto(`http://127.0.0.1:${evil.address().port}/`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/account/logout-everywhere')),
      page.getByRole('button', { name: 'Win a prize' }).click(),
    ]);
    assert.equal(response.status(), 403);
    evil.close();
    await page.goto(`${server.url}/account`);
    assert.equal(page.url(), `${server.url}/account`, 'still logged in');
    await page.context().close();
  });

  test('an admin grants a role: the next page shows it; disabling logs the open browser out', async () => {
    const admin = await apiUser(fresh('admin'), 'admin');
    const email = fresh('member');
    const user = await apiUser(email);
    const page = await loggedInPage(email);
    assert.equal(await page.getByTestId('roles').getByText('admin', { exact: true }).count(), 0);
    const granted = await api(server.url, 'PUT', `/admin/users/${user.id}/roles`, {
      token: admin.token, body: { roles: ['user', 'admin'] },
    });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    await page.reload();
    await page.getByTestId('roles').getByText('admin', { exact: true }).waitFor();
    const disabled = await api(server.url, 'POST', `/admin/users/${user.id}/disable`, { token: admin.token });
    assert.equal(disabled.status, 200);
    await Promise.all([page.waitForURL(/\/login/), page.getByRole('link', { name: email }).click()]);
    await page.context().close();
  });

  test('the 404 page', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const response = await page.goto(`${server.url}/no/such/page`);
    assert.equal(response.status(), 404);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await inspect(page, 'error-404');
    await context.close();
  });
});

describe('rate limits', () => {
  let limited;
  before(async () => { limited = await startServer({ AUTHGATE_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE: '3' }); });
  after(async () => { await limited?.stop(); });

  test('a rate-limited login says when to try again', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${limited.url}/login`);
    let text = '';
    for (let i = 0; i < 6 && !/Try again in/.test(text); i += 1) {
      await login(page, 'someone@example.com', 'not the password');
      text = await page.getByRole('alert').innerText();
    }
    assert.match(text, /Too many attempts\. Try again in \d+/);
    await inspect(page, 'login-429');
    await context.close();
  });
});
