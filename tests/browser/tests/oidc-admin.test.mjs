// The admin console's relying parties page in Debian's Chromium against a
// real `authgate serve` with [oidc] enabled: a refused registration, a
// confidential client whose secret is shown once, a public client without
// one, deletion; axe, the CSP and screenshots of each state. Waits are on
// navigation or elements, never sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PASSWORD, api, axeViolations, launch, newContext, requirePrerequisites, screenshots, startServer,
} from '../lib/harness.mjs';

requirePrerequisites();

let server;
let browser;

before(async () => {
  server = await startServer({ AUTHGATE_OIDC__ENABLED: 'true' });
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

async function adminPage() {
  const email = `rp-admin${Date.now().toString(36)}@example.com`;
  const created = await api(server.url, 'POST', '/auth/register', {
    body: { email, password: PASSWORD, name: '<script>alert(1)</script>' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  server.cli(['user', 'grant', email, 'admin']);
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${server.url}/login`);
  await page.getByLabel('Email or username').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(/\/account$/), page.getByRole('button', { name: 'Log in' }).click()]);
  return page;
}

describe('relying parties in the admin console', () => {
  test('an admin registers a confidential and a public client, sees the secret once, and deletes one', async () => {
    const page = await adminPage();
    await page.goto(`${server.url}/admin`);
    await Promise.all([
      page.waitForURL(/\/admin\/console\/relying-parties$/),
      page.getByRole('link', { name: 'Relying parties' }).first().click(),
    ]);
    await inspect(page, 'admin-relying-parties');

    // A plain-http redirect URI is refused next to its field; the form is kept.
    await page.getByLabel('Name', { exact: true }).fill('Team <b>Wiki</b>');
    await page.getByLabel('Redirect URIs', { exact: true }).fill('http://wiki.example/cb');
    await page.getByRole('checkbox', { name: 'email' }).check();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Register' }).click()]);
    await page.locator('#redirect-error').waitFor();
    assert.equal(await page.getByLabel('Redirect URIs', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByRole('checkbox', { name: 'email' }).isChecked(), true);
    await inspect(page, 'admin-relying-parties-error');

    await page.getByLabel('Redirect URIs', { exact: true }).fill('https://wiki.example/cb\nhttp://127.0.0.1/native');
    await page.getByLabel('Post-logout redirect URIs').fill('https://wiki.example/bye');
    await page.getByRole('checkbox', { name: 'offline_access' }).check();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Register' }).click()]);
    const secret = (await page.getByTestId('rp-secret').textContent()).trim();
    assert.equal(secret.length, 43);
    const id = (await page.getByTestId('rp-id').textContent()).trim();
    await page.getByText('Relying party “Team <b>Wiki</b>” registered').waitFor();
    await inspect(page, 'admin-relying-parties-created');

    await page.goto(`${server.url}/admin/console/relying-parties`);
    assert.equal(await page.getByText(secret).count(), 0, 'the secret is shown once');
    await page.getByText('https://wiki.example/bye').waitFor();

    await page.getByLabel('Name', { exact: true }).fill('Phone app');
    await page.getByLabel('Redirect URIs', { exact: true }).fill('http://127.0.0.1/callback');
    await page.getByRole('checkbox', { name: /Public client/ }).check();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Register' }).click()]);
    await page.getByTestId('rp-id').waitFor();
    assert.equal(await page.getByTestId('rp-secret').count(), 0, 'a public client has no secret');
    await inspect(page, 'admin-relying-parties-public');

    await Promise.all([
      page.waitForURL(/done=deleted/),
      page.getByRole('button', { name: `Delete the relying party Team <b>Wiki</b> (${id})` }).click(),
    ]);
    assert.equal(await page.getByText(id).count(), 0);
    await page.getByText('The relying party was deleted.').waitFor();
    await inspect(page, 'admin-relying-parties-deleted');
    await page.context().close();
  });
});
