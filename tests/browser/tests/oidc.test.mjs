// authgate as an OpenID Connect provider, proven with a client nobody here
// wrote: openid-client (the certified JavaScript relying-party library) does
// discovery, PKCE + nonce, the code exchange and the ID token's validation
// (signature against the published JWKS included), userinfo and
// RP-initiated logout against a real `authgate serve`; Debian's Chromium logs
// in and consents on authgate's pages. The redirect URIs are a tiny HTTP
// listener on 127.0.0.1 (RFC 8252: any port matches a loopback URI).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import * as oidc from 'openid-client';
import {
  PASSWORD, api, launch, newContext, repo, requirePrerequisites, screenshots, startServer,
} from '../lib/harness.mjs';

/** The example relying party's binary (run.sh builds it). */
const RP_BIN = process.env.OIDC_RP_BIN || path.join(path.dirname(process.env.AUTHGATE_BIN || path.join(repo, 'target', 'debug', 'authgate')), 'oidc-rp');

requirePrerequisites();

let server;
let browser;
let rp;
let counter = 0;
const fresh = (prefix) => `${prefix}${Date.now().toString(36)}${++counter}@example.com`;

/** The relying party's side: a loopback listener that records each request. */
function startListener() {
  return new Promise((resolve, reject) => {
    const hits = [];
    const listener = http.createServer((request, response) => {
      hits.push(new URL(request.url, `http://127.0.0.1:${listener.address().port}`));
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><html lang="en"><title>Relying party</title><h1>Back at the relying party</h1></html>');
    });
    listener.listen(0, '127.0.0.1', () => {
      const base = `http://127.0.0.1:${listener.address().port}`;
      resolve({
        base,
        hits,
        close: () => new Promise((r) => listener.close(r)),
      });
    });
    listener.on('error', reject);
  });
}

/** Registers a relying party with the CLI, as an operator would. */
function registerClient({ name, confidential, redirect = '/cb', bye = '/bye' }) {
  const args = ['oidc-client', 'add', name, '--json',
    '--redirect-uri', `http://127.0.0.1${redirect}`,
    '--post-logout-redirect-uri', `http://127.0.0.1${bye}`,
    '--scope', 'profile', '--scope', 'email', '--scope', 'offline_access'];
  if (!confidential) args.push('--public');
  return JSON.parse(server.cli(args));
}

/** Discovery through openid-client, as the client `registered` (plain http is allowed for 127.0.0.1 only here). */
async function configure(registered, auth) {
  const config = await oidc.discovery(
    new URL(server.url), registered.client_id, undefined, auth,
    { execute: [oidc.allowInsecureRequests] },
  );
  // The ID token's signature is checked against the JWKS too, not only its claims.
  oidc.enableNonRepudiationChecks(config);
  return config;
}

/** A user with a name, registered through the API. */
async function newUser() {
  const email = fresh('rp');
  const created = await api(server.url, 'POST', '/auth/register', {
    body: { email, password: PASSWORD, name: 'Ada Lovelace' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { email, id: created.body.user.id };
}

/** An authorization request of `config` with PKCE (S256), state and nonce. */
async function authorizationRequest(config, extra = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${rp.base}/cb`,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/** Chromium follows `url`, logs `email` in and allows the consent; the callback URL. */
async function signInInBrowser(page, url, email, { consent = true, shots } = {}) {
  await page.goto(url.href);
  await page.waitForURL(/\/login\?/);
  await page.getByLabel('Email or username').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  const landing = consent ? /\/oauth\/authorize\?/ : /127\.0\.0\.1:\d+\/cb\?/;
  await Promise.all([page.waitForURL(landing), page.getByRole('button', { name: 'Log in' }).click()]);
  if (consent) {
    await page.getByRole('heading', { name: /^Allow .+\?$/ }).waitFor();
    if (shots) await screenshots(page, shots);
    await Promise.all([page.waitForURL(/127\.0\.0\.1:\d+\/cb\?/), page.getByRole('button', { name: 'Allow' }).click()]);
  }
  await page.getByRole('heading', { name: 'Back at the relying party' }).waitFor();
  return new URL(page.url());
}

before(async () => {
  // RP-initiated logout also ends the sessions the client got through the
  // browser session (the [oidc] setting), so the test can see the tokens die.
  server = await startServer({ AUTHGATE_OIDC__ENABLED: 'true', AUTHGATE_OIDC__LOGOUT_ENDS_CLIENT_SESSIONS: 'true' });
  browser = await launch();
  rp = await startListener();
});
after(async () => {
  await browser?.close();
  await rp?.close();
  await server?.stop();
});

describe('OpenID Connect with openid-client', () => {
  test('a public client: discovery, PKCE + nonce, login and consent in Chromium, ID token, userinfo, refresh, logout', async () => {
    const registered = registerClient({ name: 'Team Wiki', confidential: false });
    assert.equal(registered.client_secret, undefined, 'a public client has no secret');
    const config = await configure(registered, oidc.None());
    const metadata = config.serverMetadata();
    assert.equal(metadata.issuer, server.url);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);

    const user = await newUser();
    const request = await authorizationRequest(config, { scope: 'openid profile email offline_access' });
    const context = await newContext(browser);
    const page = await context.newPage();
    const callback = await signInInBrowser(page, request.url, user.email, { shots: 'oidc-consent' });
    assert.equal(callback.searchParams.get('iss'), server.url, 'RFC 9207: the issuer comes back');

    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    assert.equal(claims.iss, server.url);
    assert.equal(claims.sub, user.id);
    assert.equal(claims.aud, registered.client_id);
    assert.equal(claims.azp, registered.client_id);
    assert.equal(claims.nonce, request.nonce);
    assert.equal(claims.email, user.email);
    assert.equal(claims.name, 'Ada Lovelace');
    assert.ok(claims.auth_time <= claims.iat && claims.iat < claims.exp, JSON.stringify(claims));
    assert.ok(claims.sid, 'the browser session is named');
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.deepEqual(
      { sub: info.sub, email: info.email, name: info.name },
      { sub: user.id, email: user.email, name: 'Ada Lovelace' },
    );

    // Refresh (offline_access): a new access token and ID token for the same
    // sign-in, the refresh token rotated; the library validates the new ID token.
    assert.ok(tokens.refresh_token, 'offline_access granted: a refresh token');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
    assert.notEqual(refreshed.access_token, tokens.access_token);
    const again = refreshed.claims();
    assert.deepEqual(
      [again.sub, again.aud, again.sid, again.auth_time],
      [claims.sub, claims.aud, claims.sid, claims.auth_time],
    );
    assert.equal((await oidc.fetchUserInfo(config, refreshed.access_token, claims.sub)).email, user.email);

    // RP-initiated logout: back at the registered post-logout URI with the state, the session over.
    const logoutState = oidc.randomState();
    const logout = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: `${rp.base}/bye`,
      state: logoutState,
    });
    await page.goto(logout.href);
    const after = new URL(page.url());
    assert.equal(`${after.origin}${after.pathname}`, `${rp.base}/bye`, await page.content());
    assert.equal(after.searchParams.get('state'), logoutState);
    await page.goto(`${server.url}/account`);
    await page.waitForURL(/\/login/);
    // … and with it the client's own session: its tokens are dead too.
    await assert.rejects(oidc.fetchUserInfo(config, refreshed.access_token, claims.sub), (e) => e.status === 401);
    await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token), (e) => e.error === 'invalid_grant');
    await context.close();
  });

  test('a confidential client authenticates by Basic and by post; a code is single use and its reuse kills the first tokens', async () => {
    const registered = registerClient({ name: 'Billing', confidential: true });
    assert.match(registered.client_secret, /\S{40,}/);
    const user = await newUser();
    const context = await newContext(browser);
    const page = await context.newPage();
    const methods = [oidc.ClientSecretBasic(registered.client_secret), oidc.ClientSecretPost(registered.client_secret)];
    for (const [i, auth] of methods.entries()) {
      const config = await configure(registered, auth);
      const request = await authorizationRequest(config, { scope: 'openid email' });
      // The first sign-in consents; the second is remembered and comes straight back.
      let callback;
      if (i === 0) {
        callback = await signInInBrowser(page, request.url, user.email);
      } else {
        await Promise.all([page.waitForURL(/127\.0\.0\.1:\d+\/cb\?/), page.goto(request.url.href)]);
        callback = new URL(page.url());
      }
      const tokens = await oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce,
      });
      assert.equal(tokens.claims().sub, user.id);
      assert.equal(tokens.claims().name, undefined, 'no profile scope, no name');
      await oidc.fetchUserInfo(config, tokens.access_token, user.id);

      await assert.rejects(
        oidc.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce,
        }),
        (e) => e.error === 'invalid_grant',
        'a code is single use',
      );
      await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, user.id),
        (e) => e.status === 401, 'the reuse revoked the first exchange’s tokens');
    }
    await context.close();
  });

  test('openid-client refuses a mix-up, a wrong state and a wrong verifier; prompt=none without a session is login_required', async () => {
    const registered = registerClient({ name: 'Notes', confidential: false });
    const config = await configure(registered, oidc.None());
    const user = await newUser();
    const context = await newContext(browser);
    const page = await context.newPage();

    // prompt=none in a browser with no session: login_required, sent back with state and iss.
    const silent = await authorizationRequest(config, { prompt: 'none' });
    await Promise.all([page.waitForURL(/127\.0\.0\.1:\d+\/cb\?/), page.goto(silent.url.href)]);
    await assert.rejects(
      oidc.authorizationCodeGrant(config, new URL(page.url()), {
        pkceCodeVerifier: silent.verifier, expectedState: silent.state, expectedNonce: silent.nonce,
      }),
      (e) => e.error === 'login_required',
    );

    const request = await authorizationRequest(config);
    const callback = await signInInBrowser(page, request.url, user.email);
    const options = { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce };

    // Mix-up (RFC 9207): a response claiming another issuer is refused before any exchange.
    const mixedUp = new URL(callback);
    mixedUp.searchParams.set('iss', 'https://attacker.example');
    const aboutIss = (e) => /"iss"/.test(e.cause?.message);
    await assert.rejects(oidc.authorizationCodeGrant(config, mixedUp, options), aboutIss);
    const noIss = new URL(callback);
    noIss.searchParams.delete('iss');
    await assert.rejects(oidc.authorizationCodeGrant(config, noIss, options), aboutIss);
    await assert.rejects(
      oidc.authorizationCodeGrant(config, callback, { ...options, expectedState: 'other' }),
      (e) => /"state"/.test(e.cause?.message),
    );
    // A wrong verifier spends the code: the right one afterwards is refused too.
    await assert.rejects(
      oidc.authorizationCodeGrant(config, callback, { ...options, pkceCodeVerifier: oidc.randomPKCECodeVerifier() }),
      (e) => e.error === 'invalid_grant',
    );
    await assert.rejects(oidc.authorizationCodeGrant(config, callback, options), (e) => e.error === 'invalid_grant');
    await context.close();
  });
});

describe('OpenID Connect refusals over raw HTTP', () => {
  test('no parameter of the authorization or logout endpoints redirects anywhere unregistered', async () => {
    const registered = registerClient({ name: 'Open redirect probe', confidential: false });
    const evil = 'https://evil.example/x';
    const good = {
      response_type: 'code',
      client_id: registered.client_id,
      redirect_uri: `${rp.base}/cb`,
      scope: 'openid',
      state: 's',
      nonce: 'n',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    };
    const names = [...Object.keys(good), 'prompt', 'login_hint', 'max_age', 'response_mode',
      'request_uri', 'return_to', 'post_logout_redirect_uri', 'redirect_url', 'next', 'iss'];
    const safe = (location) => !location
      || location.startsWith('/')
        && !location.startsWith('//')
        && !location.startsWith('/\\')
      || location.startsWith(`${rp.base}/`);
    for (const name of names) {
      for (const value of [evil, '//evil.example/x', '/\\evil.example/x', `${rp.base}/cb/`, 'HTTP://127.0.0.1/CB']) {
        const params = new URLSearchParams({ ...good, [name]: value });
        for (const route of ['/oauth/authorize', '/login', '/oauth/logout']) {
          const response = await fetch(`${server.url}${route}?${params}`, { redirect: 'manual' });
          const location = response.headers.get('location');
          assert.ok(response.status < 500, `${route} ${name}=${value}: ${response.status}`);
          assert.ok(safe(location), `${route} ${name}=${value} → ${location}`);
          const body = await response.text();
          assert.ok(!/http-equiv="refresh"[^>]*evil\.example/i.test(body), `${route} ${name}=${value}: a continue page to evil`);
        }
      }
    }
    // Logout: a post-logout URI that is not registered exactly is an error page, never a redirect.
    for (const uri of [`${rp.base}/bye/`, `${rp.base}/BYE`, `${rp.base}/bye?x=1`, evil, `${rp.base}/cb`]) {
      const params = new URLSearchParams({ client_id: registered.client_id, post_logout_redirect_uri: uri });
      const response = await fetch(`${server.url}/oauth/logout?${params}`, { redirect: 'manual' });
      assert.equal(response.status, 400, uri);
      assert.equal(response.headers.get('location'), null, uri);
    }
    // The registered one (any loopback port) goes back with the state.
    const params = new URLSearchParams({
      client_id: registered.client_id, post_logout_redirect_uri: `${rp.base}/bye`, state: 'after',
    });
    const response = await fetch(`${server.url}/oauth/logout?${params}`, { redirect: 'manual' });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), `${rp.base}/bye?state=after`);
  });

  test('the token endpoint refuses a plain challenge, a missing verifier and a redirect URI that differs', async () => {
    const registered = registerClient({ name: 'Strict', confidential: false });
    const config = await configure(registered, oidc.None());
    // plain, or no challenge at all, never gets a code: the error goes back to the client.
    for (const extra of [{ code_challenge_method: 'plain' }, { code_challenge: undefined, code_challenge_method: undefined }]) {
      const params = new URLSearchParams({
        response_type: 'code', client_id: registered.client_id, redirect_uri: `${rp.base}/cb`,
        scope: 'openid', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
      for (const [k, v] of Object.entries(extra)) {
        if (v === undefined) params.delete(k); else params.set(k, v);
      }
      const response = await fetch(`${server.url}/oauth/authorize?${params}`, { redirect: 'manual' });
      assert.equal(response.status, 303);
      const location = new URL(response.headers.get('location'));
      assert.equal(location.searchParams.get('error'), 'invalid_request', JSON.stringify(extra));
      assert.equal(location.searchParams.get('iss'), server.url);
    }

    const user = await newUser();
    const context = await newContext(browser);
    const page = await context.newPage();
    let request = await authorizationRequest(config);
    let callback = await signInInBrowser(page, request.url, user.email);
    const exchange = (fields) => fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', client_id: registered.client_id,
        code: callback.searchParams.get('code'), redirect_uri: `${rp.base}/cb`, ...fields,
      }),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const missing = await exchange({});
    assert.equal(missing.body.error, 'invalid_grant', 'no code_verifier');
    for (const redirect of [`${rp.base}/cb/`, `${rp.base}/CB`, `${rp.base}/cb?extra=1`]) {
      request = await authorizationRequest(config);
      await Promise.all([page.waitForURL(/127\.0\.0\.1:\d+\/cb\?/), page.goto(request.url.href)]);
      callback = new URL(page.url());
      const differing = await exchange({ redirect_uri: redirect, code_verifier: request.verifier });
      assert.equal(differing.body.error, 'invalid_grant', redirect);
    }
    await context.close();
  });
});

describe('the example relying party (examples/oidc-rp)', () => {
  test('signs a user in through authgate, shows the verified claims, and signs out of both', async (t) => {
    assert.ok(existsSync(RP_BIN), `${RP_BIN} is missing: build it with \`cargo build -p oidc-rp\` (run.sh does)`);
    const registered = registerClient({ name: 'Example RP', confidential: true, redirect: '/callback', bye: '/' });
    const child = spawn(RP_BIN, ['--issuer', server.url, '--client-id', registered.client_id, '--listen', '127.0.0.1:0'], {
      env: { PATH: process.env.PATH, OIDC_RP_CLIENT_SECRET: registered.client_secret, RUST_LOG: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGTERM'));
    let log = '';
    child.stderr.on('data', (d) => { log += d; });
    const base = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const found = out.match(/oidc-rp listening on (\S+)/);
        if (found) resolve(found[1]);
      });
      child.once('exit', (code) => reject(new Error(`oidc-rp exited with ${code}: ${log}`)));
    });

    const user = await newUser();
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(base);
    await page.getByText('Nobody is signed in.').waitFor();
    await Promise.all([page.waitForURL(/\/login\?/), page.getByRole('link', { name: 'Sign in with authgate' }).click()]);
    await page.getByLabel('Email or username').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForURL(/\/oauth\/authorize\?/), page.getByRole('button', { name: 'Log in' }).click()]);
    await page.getByRole('heading', { name: 'Allow Example RP?' }).waitFor();
    await Promise.all([page.waitForURL(`${base}/`), page.getByRole('button', { name: 'Allow' }).click()]);
    await page.getByRole('status').filter({ hasText: 'Signed in as Ada Lovelace' }).waitFor();
    const claim = async (name) => page.getByRole('row', { name: new RegExp(`^${name}\\b`) }).getByRole('cell').innerText();
    assert.equal(await claim('iss'), server.url);
    assert.equal(await claim('sub'), user.id);
    assert.equal(await claim('aud'), registered.client_id);
    assert.equal(await claim('email'), user.email);
    await screenshots(page, 'oidc-rp-signed-in');

    await Promise.all([page.waitForURL(`${base}/`), page.getByRole('link', { name: 'Sign out' }).click()]);
    await page.getByText('Nobody is signed in.').waitFor();
    await page.goto(`${server.url}/account`);
    await page.waitForURL(/\/login/);
    await context.close();
  });
});
