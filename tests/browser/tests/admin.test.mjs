// The admin console and the change-password form in Debian's Chromium
// against a real `authgate serve`: roles and disable through the console,
// service clients created, disabled, enabled and deleted,
// a password change ending the other sessions, axe and screenshots of every
// new page. Waits are on navigation or elements, never sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PASSWORD, api, axeViolations, launch, newContext, requirePrerequisites, screenshots, startServer,
} from '../lib/harness.mjs';

requirePrerequisites();

let server;
let browser;
let counter = 0;
const fresh = (prefix) => `${prefix}${Date.now().toString(36)}${++counter}@example.com`;
const NEW_PASSWORD = 'copper meadow orbit 92 saffron';

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

async function login(page, identifier, password = PASSWORD) {
  await page.getByLabel('Email or username').fill(identifier);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Log in' }).click()]);
  await page.waitForLoadState('load');
}

async function loggedInPage(email, options = {}) {
  const context = await newContext(browser, options);
  const page = await context.newPage();
  await page.goto(`${server.url}/login`);
  await Promise.all([page.waitForURL(/\/account$/), login(page, email)]);
  return page;
}

async function apiUser(email, roles, name) {
  const body = { email, password: PASSWORD };
  if (name) body.name = name;
  const created = await api(server.url, 'POST', '/auth/register', { body });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  if (roles) server.cli(['user', 'grant', email, roles]);
  return { id: created.body.user.id, email };
}

/** Opens the console's page of `user` from the users list, by searching. */
async function openUser(page, user) {
  await page.goto(`${server.url}/admin/console/users`);
  await page.getByLabel('Email or username starts with').fill(user.email);
  await Promise.all([page.waitForURL(/q=/), page.getByRole('button', { name: 'Search' }).click()]);
  await Promise.all([
    page.waitForURL(new RegExp(`/admin/console/users/${user.id}$`)),
    page.getByRole('link', { name: user.email }).click(),
  ]);
}

describe('admin console', () => {
  test('an admin grants a role in the console and the user\'s next page shows it', async () => {
    const admin = await apiUser(fresh('admin'), 'admin', 'Ada Admin');
    const member = await apiUser(fresh('member'));
    const theirs = await loggedInPage(member.email);
    assert.equal(await theirs.getByRole('link', { name: 'Admin', exact: true }).count(), 0, 'no console link yet');
    const page = await loggedInPage(admin.email);
    await Promise.all([page.waitForURL(/\/admin$/), page.getByRole('link', { name: 'Admin', exact: true }).click()]);
    await inspect(page, 'admin-home');
    await openUser(page, member);
    await inspect(page, 'admin-user');
    await page.getByRole('checkbox', { name: 'admin' }).check();
    await Promise.all([page.waitForURL(/done=roles/), page.getByRole('button', { name: 'Save roles' }).click()]);
    await page.getByRole('status').getByText('The roles were changed.').waitFor();
    await theirs.reload();
    await theirs.getByTestId('roles').getByText('admin', { exact: true }).waitFor();
    await theirs.getByRole('link', { name: 'Admin', exact: true }).waitFor();
    await theirs.context().close();
    await page.context().close();
  });

  test('an admin disables a user and that user\'s open browser is logged out on its next click', async () => {
    const admin = await apiUser(fresh('admin'), 'admin');
    const member = await apiUser(fresh('member'));
    const theirs = await loggedInPage(member.email);
    const page = await loggedInPage(admin.email);
    await openUser(page, member);
    await Promise.all([page.waitForURL(/done=disabled/), page.getByRole('button', { name: 'Disable account' }).click()]);
    await page.getByTestId('state').getByText('Disabled').waitFor();
    await Promise.all([theirs.waitForURL(/\/login/), theirs.getByRole('link', { name: member.email }).click()]);
    await theirs.context().close();
    await page.context().close();
  });

  test('every console section passes axe and works: users, keys, clients, audit', async () => {
    const admin = await apiUser(fresh('admin'), 'admin', '<script>alert(1)</script>');
    const page = await loggedInPage(admin.email);
    // The users list, then the page of the admin themself: no disable button.
    await page.goto(`${server.url}/admin/console/users`);
    await inspect(page, 'admin-users');
    await page.goto(`${server.url}/admin/console/users/${admin.id}`);
    assert.equal(await page.getByRole('button', { name: 'Disable account' }).count(), 0);

    await page.goto(`${server.url}/admin/console/keys`);
    await inspect(page, 'admin-keys');
    await Promise.all([page.waitForURL(/done=rotated/), page.getByRole('button', { name: 'Rotate keys' }).click()]);
    await page.getByRole('cell', { name: 'retired' }).first().waitFor();

    await page.goto(`${server.url}/admin/console/clients`);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Create client' }).click()]);
    await page.locator('#name-error').waitFor();
    await inspect(page, 'admin-clients-error');
    await page.getByLabel('Name', { exact: true }).fill('billing service');
    await page.getByRole('checkbox', { name: 'user' }).check();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Create client' }).click()]);
    const secret = (await page.getByTestId('client-secret').textContent()).trim();
    assert.equal(secret.length, 43);
    await page.getByRole('button', { name: 'Copy' }).waitFor();
    await inspect(page, 'admin-clients-created');
    const clientId = (await page.getByTestId('client-id').textContent()).trim();
    const clientToken = () => fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    assert.equal((await clientToken()).status, 200, 'the secret shown works');
    await page.goto(`${server.url}/admin/console/clients`);
    assert.equal(await page.getByText(secret).count(), 0, 'the secret is shown once');
    // Disable: the list says so, the secret is refused; enable: it works again.
    const row = page.locator('li.session', { hasText: clientId });
    assert.equal((await row.getByTestId('client-state').textContent()).trim(), 'Active');
    await Promise.all([
      page.waitForURL(/done=disabled/),
      page.getByRole('button', { name: `Disable the client billing service (${clientId})` }).click(),
    ]);
    assert.equal((await row.getByTestId('client-state').textContent()).trim(), 'Disabled');
    await inspect(page, 'admin-clients-disabled');
    assert.equal((await clientToken()).status, 401, 'a disabled client gets no token');
    await Promise.all([
      page.waitForURL(/done=enabled/),
      page.getByRole('button', { name: `Enable the client billing service (${clientId})` }).click(),
    ]);
    assert.equal((await row.getByTestId('client-state').textContent()).trim(), 'Active');
    assert.equal((await clientToken()).status, 200, 'enabled again, it gets tokens');
    await Promise.all([
      page.waitForURL(/done=deleted/),
      page.getByRole('button', { name: `Delete the client billing service (${clientId})` }).click(),
    ]);

    await page.goto(`${server.url}/admin/console/audit?kind=client.deleted`);
    await page.getByRole('cell', { name: 'client.deleted' }).first().waitFor();
    await inspect(page, 'admin-audit');
    await page.getByLabel('From (UTC)').fill('2020-01-01T00:00');
    await page.getByLabel('User (id, email or username)').fill('nobody@example.com');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Show events' }).click()]);
    await page.locator('#user-error').waitFor();
    assert.equal(await page.getByLabel('User (id, email or username)').inputValue(), 'nobody@example.com');
    await inspect(page, 'admin-audit-error');
    await page.context().close();
  });

  test('a user without a console permission gets the 403 page, and no link', async () => {
    const member = await apiUser(fresh('member'));
    const page = await loggedInPage(member.email);
    assert.equal(await page.getByRole('link', { name: 'Admin', exact: true }).count(), 0);
    const response = await page.goto(`${server.url}/admin/console/users`);
    assert.equal(response.status(), 403);
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await page.context().close();
  });
});

describe('change password', () => {
  test('changing the password ends the other sessions and keeps this one', async () => {
    const member = await apiUser(fresh('member'));
    const other = await loggedInPage(member.email);
    const page = await loggedInPage(member.email);
    await page.getByLabel('Current password').fill('not my password 1');
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Change password' }).click()]);
    await page.locator('#current-error').waitFor();
    assert.equal(await page.getByLabel('New password').inputValue(), '', 'passwords are not kept');
    await inspect(page, 'password-error');
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await Promise.all([page.waitForURL(/done=password/), page.getByRole('button', { name: 'Change password' }).click()]);
    await page.getByText('Your password was changed').waitFor();
    await inspect(page, 'account-password-changed');
    // The other browser is logged out on its next click; this one stays.
    await Promise.all([other.waitForURL(/\/login/), other.getByRole('link', { name: member.email }).click()]);
    await page.reload();
    assert.match(page.url(), /\/account/);
    const old = await api(server.url, 'POST', '/auth/login', { body: { email: member.email, password: PASSWORD } });
    assert.equal(old.status, 401);
    const fresh_ = await api(server.url, 'POST', '/auth/login', { body: { email: member.email, password: NEW_PASSWORD } });
    assert.equal(fresh_.status, 200);
    await other.context().close();
    await page.context().close();
  });
});
