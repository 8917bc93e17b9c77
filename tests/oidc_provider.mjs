// A real OpenID Connect provider for the single sign-on tests: the certified `oidc-provider`
// package, with one confidential client, a few accounts and a scripted login page.
//
// Started by tests/oidc_provider.py, which passes its listening socket (file descriptor `fd`)
// (its port is known before this starts) and the set-up as JSON in ZONES_TEST_OIDC:
//   { fd, issuer, client: {client_id, client_secret, redirect_uris}, jwks: {keys: [...]},
//     accounts: {login: {claims}}, cookie_keys: [...] }
// It prints "ready" once it accepts connections.
//
// The login page is one form (login name only: the accounts are test data); consent is given
// at once, as a force's identity provider does for its own first-party services.
import Provider, { errors } from 'oidc-provider';

const setup = JSON.parse(process.env.ZONES_TEST_OIDC);
const accounts = setup.accounts;

const provider = new Provider(setup.issuer, {
  clients: [
    {
      ...setup.client,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: setup.jwks,
  cookies: { keys: setup.cookie_keys },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
  },
  // Claims asked for through scopes go to the userinfo endpoint, not the ID token (the
  // specification's default): the service must read them there.
  conformIdTokenClaims: true,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Interaction: 600, Session: 600, Grant: 600 },
  async findAccount(ctx, sub) {
    const account = accounts[sub];
    if (!account) return undefined;
    return { accountId: sub, async claims() { return { sub, ...account }; } };
  },
});

const page = (uid, message) => `<!doctype html>
<html lang="en"><head><title>Test identity provider</title></head><body>
<h1>Test identity provider</h1>
${message ? `<p role="alert">${message}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label for="login">Login</label> <input id="login" name="login" autocomplete="off">
<button type="submit">Sign in</button>
</form></body></html>`;

async function formOf(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function consent(details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  return { consent: { grantId: await grant.save() } };
}

provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(ctx.path);
  if (!match) return next();
  ctx.set('cache-control', 'no-store');
  try {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (ctx.method === 'GET' && details.prompt.name === 'consent') {
      return provider.interactionFinished(ctx.req, ctx.res, await consent(details), {
        mergeWithLastSubmission: true,
      });
    }
    if (ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = page(details.uid);
      return undefined;
    }
    if (ctx.method === 'POST' && match[2]) {
      const login = (await formOf(ctx.req)).get('login');
      if (!Object.hasOwn(accounts, login)) {
        ctx.type = 'html';
        ctx.body = page(details.uid, 'unknown login');
        return undefined;
      }
      return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: login } }, {
        mergeWithLastSubmission: false,
      });
    }
    return next();
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      ctx.status = 400;
      ctx.body = 'interaction expired';
      return undefined;
    }
    throw err;
  }
});

const server = provider.listen({ fd: setup.fd }, () => {
  process.stdout.write('ready\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
