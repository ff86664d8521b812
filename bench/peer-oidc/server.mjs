// The load bench's OpenID Connect peer (bench/oidc.sh): node's oidc-provider
// as its documentation sets it up for a resource server, with the in-memory
// adapter (its default), EdDSA JWT access tokens (RFC 9068) through
// resource indicators, refresh-token rotation on every use (as authgate
// rotates), one confidential client (client_secret_basic).
//
//   node server.mjs PORT CLIENT_SECRET
//
// Besides the provider's own routes, POST /bench/mint?kind=refresh|userinfo&n=N
// (set-up only, never measured) answers N tokens one a line: refresh tokens
// of a grant for the bench's user (offline_access, the `api` resource), or
// opaque access tokens with `openid email profile` for userinfo (the
// provider accepts only its own opaque tokens there). Everything listens on
// 127.0.0.1.
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, secret] = process.argv.slice(2);
if (!port || !secret) {
  console.error('usage: node server.mjs PORT CLIENT_SECRET');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const API = 'urn:authgate-bench:api';
const jwk = (type, options) => ({
  ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
  use: 'sig',
});

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'bench',
    client_secret: secret,
    grant_types: ['client_credentials', 'refresh_token', 'authorization_code'],
    response_types: ['code'],
    redirect_uris: ['https://rp.example/cb'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  // RS256 for ID tokens (OIDC's default), Ed25519 for the access tokens.
  jwks: { keys: [{ ...jwk('rsa', { modulusLength: 2048 }), alg: 'RS256' }, { ...jwk('ed25519'), alg: 'EdDSA' }] },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'api'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => API,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: API,
        accessTokenTTL: 900,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'EdDSA' } },
      }),
    },
  },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({
      sub: id, email: `${id}@example.com`, email_verified: false, name: 'Bench User', preferred_username: id,
    }),
  }),
  rotateRefreshToken: () => true,
});
provider.on('server_error', (_ctx, error) => console.error(error));

async function mint(kind, n) {
  const client = await provider.Client.find('bench');
  const grant = new provider.Grant({ accountId: 'bench-user', clientId: 'bench' });
  grant.addOIDCScope('openid offline_access email profile');
  grant.addResourceScope(API, 'api');
  const grantId = await grant.save();
  const out = [];
  for (let i = 0; i < n; i += 1) {
    const token = kind === 'refresh'
      ? new provider.RefreshToken({
        accountId: 'bench-user', client, grantId, gty: 'authorization_code', scope: 'offline_access api', resource: API,
      })
      : new provider.AccessToken({
        accountId: 'bench-user', client, grantId, gty: 'authorization_code', scope: 'openid email profile',
      });
    out.push(await token.save());
  }
  return out;
}

const callback = provider.callback();
http.createServer((req, res) => {
  const url = new URL(req.url, issuer);
  if (req.method === 'POST' && url.pathname === '/bench/mint') {
    const kind = url.searchParams.get('kind');
    const n = Number(url.searchParams.get('n') || '1');
    if (!['refresh', 'userinfo'].includes(kind) || !(n > 0 && n <= 1_000_000)) {
      res.writeHead(400).end('kind=refresh|userinfo, 0 < n <= 1000000\n');
      return;
    }
    mint(kind, n).then(
      (tokens) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${tokens.join('\n')}\n`),
      (error) => { console.error(error); res.writeHead(500).end('mint failed\n'); },
    );
    return;
  }
  callback(req, res);
}).listen(Number(port), '127.0.0.1', () => console.log(`peer-oidc listening on ${issuer}`));
