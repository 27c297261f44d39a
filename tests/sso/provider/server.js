// A real OpenID Provider (panva/oidc-provider, OpenID Certified) for the SSO tests and the demo.
//
//   node server.js CONFIG.json     (PORT, default 4000; the issuer is http://127.0.0.1:PORT)
//
// CONFIG.json lists the clients (client_id, client_secret, redirect_uris,
// post_logout_redirect_uris) and the accounts: { "<login>": { "email", "name", "groups" } }.
// Sign-in uses the provider's own development pages: type an account's login and any password,
// then "Continue" on the consent page. The signing key is made at start and never stored.
//
// With OIDC_TEST_HOOKS=1 (the tests only) POST /__test/mode takes JSON {"id_token": "tamper" |
// "expire" | "normal"} to change the next id_tokens the token endpoint returns (a changed claim
// under the old signature; a correctly signed token that expired ten minutes ago), and
// {"disable": "<login>"} deactivates an account: its session at the IdP no longer counts.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, decodeJwt } from 'jose';
import Provider, { interactionPolicy } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2] || new URL('./demo.json', import.meta.url), 'utf8'));
const port = Number(process.env.PORT || 4000);
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };

const disabled = new Set();
let idTokenMode = 'normal';

// A deactivated account's session no longer counts: the login prompt is required again, so a
// silent re-check (prompt=none) gets login_required, as from an enterprise IdP.
const policy = interactionPolicy.base();
policy.get('login').checks.add(new interactionPolicy.Check(
  'account_disabled', 'the account was deactivated',
  (ctx) => disabled.has(ctx.oidc.session.accountId),
));

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  // The claims go into the id_token itself (not only /userinfo), as most enterprise IdPs do.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  interactions: { policy },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, sub) {
    const account = config.accounts[sub];
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: account.email, email_verified: true, name: account.name, groups: account.groups || [] };
      },
    };
  },
});

if (process.env.OIDC_TEST_HOOKS === '1') {
  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === '/__test/mode') {
      const chunks = [];
      for await (const chunk of ctx.req) chunks.push(chunk);
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      if (body.id_token) idTokenMode = body.id_token;
      if (body.disable) disabled.add(body.disable);
      ctx.body = { id_token: idTokenMode, disabled: [...disabled] };
      return;
    }
    await next();
    if (ctx.path === '/token' && ctx.body && ctx.body.id_token && idTokenMode !== 'normal') {
      const [header, payload, signature] = ctx.body.id_token.split('.');
      if (idTokenMode === 'tamper') {
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
        claims.email = 'someone.else@' + String(claims.email).split('@')[1];
        ctx.body.id_token = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
      } else if (idTokenMode === 'expire') {
        const claims = decodeJwt(ctx.body.id_token);
        const now = Math.floor(Date.now() / 1000);
        ctx.body.id_token = await new SignJWT({ ...claims, iat: now - 1200, exp: now - 600 })
          .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })
          .sign(privateKey);
      }
    }
  });
}

provider.listen(port, '127.0.0.1', () => {
  console.log(`OpenID Provider ready at ${issuer}/.well-known/openid-configuration`);
});
