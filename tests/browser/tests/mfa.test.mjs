// Two-factor authentication in Debian's Chromium against a real
// `authgate serve`: enrol an authenticator app from /account (the QR code
// drawn, the key read off the page), log out, log in with the password and
// a code, and a recovery code that works once. Codes are computed here with
// node's HMAC (RFC 6238), independently of the server. axe, the CSP and
// screenshots on every new page. Waits are on navigation or elements.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
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

/** RFC 4648 base32 (spaces ignored) to bytes. */
function base32Bytes(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/\s+/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    assert.ok(v >= 0, `base32 character ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The RFC 6238 code (HMAC-SHA-1, 6 digits, 30 s) of `key` at unix `seconds`. */
function totp(key, seconds) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const word = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(word % 1_000_000).padStart(6, '0');
}

test('the node TOTP matches RFC 6238\'s SHA-1 test vectors', () => {
  const key = Buffer.from('12345678901234567890');
  assert.equal(totp(key, 59), '287082');
  assert.equal(totp(key, 1111111109), '081804');
  assert.equal(totp(key, 1234567890), '005924');
  assert.equal(totp(key, 20000000000), '353130');
});

const now = () => Date.now() / 1000;

/** Checks axe and the CSP on the page, then takes its screenshots. */
async function inspect(page, name) {
  assert.deepEqual(await axeViolations(page), [], `axe on ${name}`);
  assert.deepEqual(page.context().violations, [], `CSP on ${name}`);
  await screenshots(page, name);
}

async function submitPassword(page, email) {
  await page.getByLabel('Email or username').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Log in' }).click()]);
}

async function newUser() {
  const email = fresh('mfa');
  const created = await api(server.url, 'POST', '/auth/register', { body: { email, password: PASSWORD } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return email;
}

/**
 * Logs `email` in, turns on two-factor authentication from the account page
 * and returns { page, key, codes }. `shots` takes the screenshots.
 */
async function enrol(email, shots = false) {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${server.url}/login`);
  await Promise.all([page.waitForURL(/\/account$/), submitPassword(page, email)]);
  await page.getByTestId('mfa-summary').getByText('Off').waitFor();
  await Promise.all([
    page.waitForURL(/\/account\/mfa$/),
    page.getByRole('link', { name: 'Set up two-factor authentication' }).click(),
  ]);
  if (shots) await inspect(page, 'mfa-off');
  await Promise.all([
    page.waitForURL(/\/account\/mfa$/),
    page.getByRole('button', { name: 'Set up an authenticator app' }).click(),
  ]);
  const qr = page.getByRole('img', { name: /QR code/ });
  await qr.waitFor();
  const drawn = await qr.evaluate((img) => img.complete && img.naturalWidth > 0);
  assert.ok(drawn, 'the QR code renders under the CSP');
  const key = base32Bytes(await page.getByTestId('totp-key').textContent());
  assert.equal(key.length, 20, '160-bit secret');
  // A wrong code first: said next to the field, the QR code still there.
  const right = totp(key, now());
  await page.getByLabel('Code from the app').fill(right === '000000' ? '111111' : '000000');
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Turn on' }).click()]);
  await page.locator('#confirm-error').waitFor();
  await qr.waitFor();
  if (shots) await inspect(page, 'mfa-enrol-error');
  await page.getByLabel('Code from the app').fill(totp(key, now()));
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Turn on' }).click()]);
  const list = page.getByTestId('recovery-codes');
  await list.waitFor();
  const codes = (await list.locator('code').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  for (const code of codes) assert.match(code, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
  if (shots) await inspect(page, 'mfa-recovery-codes');
  await Promise.all([page.waitForURL(/\/account\/mfa$/), page.getByRole('link', { name: 'I have saved them' }).click()]);
  await page.getByTestId('mfa-state').getByText('On').waitFor();
  assert.equal((await page.getByTestId('recovery-left').textContent()).trim(), '10 of 10');
  assert.equal(await page.getByTestId('recovery-codes').count(), 0, 'the codes are shown once');
  if (shots) await inspect(page, 'mfa-on');
  return { page, key, codes };
}

async function logOut(page) {
  await Promise.all([page.waitForURL(/\/login$/), page.getByRole('button', { name: 'Log out', exact: true }).click()]);
}

describe('two-factor authentication', () => {
  test('enrol an app, log out, log in with the password and a code, return_to kept', async () => {
    const email = await newUser();
    const { page, key } = await enrol(email, true);
    await logOut(page);
    await page.goto(`${server.url}/login?return_to=%2Faccount%2Fmfa`);
    await submitPassword(page, email);
    const field = page.getByLabel('Authentication code');
    await field.waitFor();
    assert.equal(await page.getByTestId('mfa-summary').count(), 0, 'not logged in yet');
    await inspect(page, 'login-mfa');
    // The code of the next step (the server takes one step either side):
    // the enrolment used this step's.
    await field.fill(totp(key, now() + 30));
    await Promise.all([page.waitForURL(/\/account\/mfa$/), page.getByRole('button', { name: 'Verify' }).click()]);
    await page.getByTestId('mfa-state').getByText('On').waitFor();
    await page.goto(`${server.url}/account`);
    await page.getByTestId('mfa-summary').getByText('10 of 10 recovery codes left.').waitFor();
    await page.context().close();
  });

  test('a recovery code logs in once, and a wrong code is said next to the field', async () => {
    const email = await newUser();
    const { page, codes } = await enrol(email);
    await logOut(page);
    await submitPassword(page, email);
    await page.getByLabel('Authentication code').fill('12345');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Verify' }).click()]);
    await page.locator('#code-error').getByText('This code is not right').waitFor();
    await inspect(page, 'login-mfa-error');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Use a recovery code' }).click()]);
    const field = page.getByLabel('Recovery code');
    await field.waitFor();
    await inspect(page, 'login-mfa-recovery');
    await field.fill(codes[0].toLowerCase());
    await Promise.all([page.waitForURL(/\/account$/), page.getByRole('button', { name: 'Verify' }).click()]);
    await page.getByTestId('mfa-summary').getByText('9 of 10 recovery codes left.').waitFor();
    await logOut(page);

    await submitPassword(page, email);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Use a recovery code' }).click()]);
    await page.getByLabel('Recovery code').fill(codes[0]);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Verify' }).click()]);
    await page.locator('#code-error').getByText('was used already').waitFor();
    assert.match(page.url(), /\/login\/mfa$/, 'still not logged in');
    await page.getByLabel('Recovery code').fill(codes[1]);
    await Promise.all([page.waitForURL(/\/account$/), page.getByRole('button', { name: 'Verify' }).click()]);
    await page.context().close();
  });

  test('an admin sees the factor on the user page and resets it; turning it off takes the password', async () => {
    const email = await newUser();
    const { page } = await enrol(email);
    // Turning off with a wrong password is refused next to the fields.
    await page.getByLabel('Or your password').fill('not my password 1');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Turn off two-factor authentication' }).click()]);
    await page.locator('#disable-error').waitFor();
    await inspect(page, 'mfa-disable-error');

    const adminEmail = await newUser();
    server.cli(['user', 'grant', adminEmail, 'admin']);
    const context = await newContext(browser);
    const admin = await context.newPage();
    await admin.goto(`${server.url}/login`);
    await Promise.all([admin.waitForURL(/\/account$/), submitPassword(admin, adminEmail)]);
    const users = await api(server.url, 'POST', '/auth/login', { body: { email: adminEmail, password: PASSWORD } });
    const listed = await api(server.url, 'GET', `/admin/users?q=${encodeURIComponent(email)}`, { token: users.body.access_token });
    const id = listed.body.users[0].id;
    await admin.goto(`${server.url}/admin/console/users/${id}`);
    await admin.getByTestId('mfa').getByText('On').waitFor();
    await inspect(admin, 'admin-user-mfa');
    await Promise.all([
      admin.waitForURL(/done=mfa/),
      admin.getByRole('button', { name: 'Reset two-factor authentication' }).click(),
    ]);
    await admin.getByTestId('mfa').getByText('Off').waitFor();
    // The user's browser session ended with the reset.
    await Promise.all([page.waitForURL(/\/login/), page.goto(`${server.url}/account`)]);
    await Promise.all([page.waitForURL(/\/account$/), submitPassword(page, email)]);
    await context.close();
    await page.context().close();
  });
});
