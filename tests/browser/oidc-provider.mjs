// A real OpenID Connect provider for the browser tests of Gouvernail's single sign-on, shaped like
// ProConnect (the French State's federation): authorization code flow with PKCE (S256 only),
// `state`, `nonce`, `acr_values=eidas1`, the scopes `openid email given_name usual_name uid siret`,
// `client_secret_post`, an RS256-signed ID token and an RS256-signed UserInfo response
// (`application/jwt`).
//
// It is the npm package `oidc-provider` (v9, the certified implementation by panva), run in the
// test's own node process on 127.0.0.1 over plain http, with its development login and consent
// pages (`devInteractions`): the login typed there is the account id, any password does.
//
// As at ProConnect, the identity claims (email, given_name, usual_name, uid, siret) come in the
// signed UserInfo response only; the ID token carries sub, acr (`eidas1`), amr, nonce, auth_time
// (`claimsInIdToken: true` puts the identity claims in the ID token as well).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort, track } from './lib.mjs';

export const CLIENT_ID = 'gouvernail-test';

/** ProConnect's scopes that Gouvernail asks for. */
export const SCOPES = ['openid', 'email', 'given_name', 'usual_name', 'uid', 'siret'];

/**
 * The people the provider knows, by the login typed in its login form (their email). As at
 * ProConnect, `sub` is an opaque identifier (not the email): it is the provider's account id, and
 * what the ID token and UserInfo carry as `sub`.
 */
export const ACCOUNTS = Object.freeze({
  'marie.dupont@ac-rennes.fr': Object.freeze({
    sub: '3f1e1f4c-6a0e-4d7b-9a53-1d2f0b6c8e01',
    email: 'marie.dupont@ac-rennes.fr',
    email_verified: true,
    given_name: 'Marie',
    usual_name: 'Dupont',
    uid: 'mdupont',
    siret: '13002802100014',
  }),
  'nouveau.venu@ille-et-vilaine.fr': Object.freeze({
    sub: '9b7c2d1a-40f3-4c55-8e2b-6a1f7d3c9e02',
    email: 'nouveau.venu@ille-et-vilaine.fr',
    email_verified: true,
    given_name: 'Nouveau',
    usual_name: 'Venu',
    uid: 'nvenu',
    siret: '22350001800013',
  }),
});

// oidc-provider warns on every start that devInteractions and its in-memory storage are for
// development only, and on import that Node 20 is not a runtime it supports (it runs fine on
// 20.20: nothing it uses is missing there). These are expected here: keep them, and only them,
// out of the test output.
const EXPECTED_WARNINGS = [/Unsupported runtime/, /devInteractions is enabled/, /in-memory adapter/];

async function withoutExpectedWarnings(fn) {
  const warn = console.warn;
  console.warn = (...args) => {
    // eslint-disable-next-line no-control-regex
    const text = typeof args[0] === 'string' ? args[0].replace(/\x1b\[[0-9;]*m/g, '') : '';
    if (text.startsWith('oidc-provider WARNING:') && EXPECTED_WARNINGS.some((re) => re.test(text))) return;
    warn(...args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

let providerClass;
async function loadProvider() {
  providerClass ??= await withoutExpectedWarnings(async () => (await import('oidc-provider')).default);
  return providerClass;
}

/** The account whose login (email) or `sub` is `id`, else undefined. */
export function accountFor(id) {
  if (typeof id !== 'string') return undefined;
  if (Object.hasOwn(ACCOUNTS, id)) return ACCOUNTS[id];
  return Object.values(ACCOUNTS).find((person) => person.sub === id);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main>${body}</main></body></html>`;
}

/**
 * Starts the provider on a free port of 127.0.0.1; it is stopped after the current test.
 *
 * @param {{
 *   redirectUri: string,
 *   postLogoutRedirectUri?: string|string[],
 *   idTokenTtlSeconds?: number,
 *   idTokenIssuedSecondsAgo?: number,
 *   claimsInIdToken?: boolean,
 * }} opts
 *   `idTokenIssuedSecondsAgo`: back-dates `iat` (and so `exp` = iat + ttl) of every ID token by
 *   that many seconds, to hand out ID tokens that are already expired when the client gets them
 *   (an ID token is minted at the token endpoint, so no delay on the browser's side can age it).
 * @returns {Promise<{issuer: string, clientId: string, clientSecret: string, port: number,
 *   provider: import('oidc-provider').default, holdCallbacks: (on?: boolean) => void,
 *   heldCallbacks: string[], stop: () => Promise<void>}>}
 */
export async function startProvider({
  redirectUri,
  postLogoutRedirectUri,
  idTokenTtlSeconds = 600,
  idTokenIssuedSecondsAgo = 0,
  claimsInIdToken = false,
} = {}) {
  if (!redirectUri) throw new Error('startProvider needs the redirectUri of the client');
  const Provider = await loadProvider();

  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientSecret = randomBytes(32).toString('base64url');

  // A fresh RS256 signing key for this provider.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = {
    ...privateKey.export({ format: 'jwk' }),
    kid: `test-${randomBytes(6).toString('hex')}`,
    alg: 'RS256',
    use: 'sig',
  };

  const client = {
    client_id: CLIENT_ID,
    client_secret: clientSecret,
    client_name: 'Gouvernail (tests)',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
    userinfo_signed_response_alg: 'RS256',
  };
  if (postLogoutRedirectUri) client.post_logout_redirect_uris = [postLogoutRedirectUri].flat();

  const configuration = {
    clients: [client],
    jwks: { keys: [signingKey] },
    // `id` is an account's `sub` (see the login below) or, for convenience, its login.
    async findAccount(_ctx, id) {
      const person = accountFor(id);
      if (!person) return undefined;
      return {
        accountId: person.sub,
        // The provider keeps, of these, what the granted scopes (and `claims`) allow.
        async claims() {
          return { ...person };
        },
      };
    },
    scopes: ['openid'],
    // Each key is a scope (ProConnect asks for its claims scope by scope), its claims the values.
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      given_name: ['given_name'],
      usual_name: ['usual_name'],
      uid: ['uid'],
      siret: ['siret'],
    },
    acrValues: ['eidas1'],
    // true (the default): in the code flow, the claims of scopes go to UserInfo only.
    conformIdTokenClaims: !claimsInIdToken,
    responseTypes: ['code'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      userinfo: { enabled: true },
      jwtUserinfo: { enabled: true },
      claimsParameter: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // Like ProConnect: no "do you want to sign out?" question, the form sends itself.
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = page(
            'Signing out',
            `<p>Signing out…</p>${form}<script>
              const f = document.getElementById('op.logoutForm');
              const yes = document.createElement('input');
              yes.type = 'hidden'; yes.name = 'logout'; yes.value = 'yes';
              f.appendChild(yes); f.submit();
            </script>`,
          );
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<p id="oidc-provider-signed-out">Signed out.</p>');
        },
      },
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 600,
      IdToken: idTokenTtlSeconds,
      Interaction: 3600,
      Session: 3600,
      Grant: 3600,
    },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
    },
    clientBasedCORS: () => false,
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page(
        'OpenID provider error',
        `<h1>OpenID provider error</h1><pre id="oidc-provider-error">${escapeHtml(
          Object.entries(out)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n'),
        )}</pre>`,
      );
    },
  };

  const provider = await withoutExpectedWarnings(async () => new Provider(issuer, configuration));

  // devInteractions log anyone in under the login they typed: here only ACCOUNTS may sign in
  // (anyone else is sent back to the client with `error=access_denied`), under their opaque
  // `sub`, at ProConnect's eIDAS "low" level (`acr` eidas1) with a password.
  const interactionResult = provider.interactionResult.bind(provider);
  provider.interactionResult = async (req, res, result, options) => {
    if (result?.login) {
      const login = result.login.accountId;
      const person = accountFor(login);
      result = person
        ? { ...result, login: { ...result.login, accountId: person.sub, acr: 'eidas1', amr: ['pwd'] } }
        : { error: 'access_denied', error_description: `unknown account ${login}` };
    }
    return interactionResult(req, res, result, options);
  };

  if (idTokenIssuedSecondsAgo > 0) {
    const { IdToken } = provider;
    const issue = IdToken.prototype.issue;
    IdToken.prototype.issue = function issueBackdated(options = {}) {
      if (options.use !== 'idtoken') return issue.call(this, options);
      const iat = Math.floor(Date.now() / 1000) - idTokenIssuedSecondsAgo;
      this.set('iat', iat);
      return issue.call(this, { ...options, expiresAt: iat + idTokenTtlSeconds });
    };
  }

  // While callbacks are held (see `holdCallbacks` below), the redirection of the browser to the
  // client's redirect URI is replaced by a page of the provider's that shows where it would go:
  // a browser cannot hold that request itself (Playwright's page.route() does not see requests
  // that come from a redirection).
  let holding = false;
  const heldCallbacks = [];
  const isCallback = (location) => typeof location === 'string' && location.startsWith(redirectUri);

  // Also: the built-in pages @import a web font from the Internet, out of reach here: drop it.
  provider.use(async (ctx, next) => {
    await next();
    if (holding && ctx.status >= 300 && ctx.status < 400 && isCallback(ctx.response.get('location'))) {
      const location = ctx.response.get('location');
      heldCallbacks.push(location);
      ctx.remove('location');
      ctx.status = 200;
      ctx.type = 'html';
      ctx.body = page(
        'Held callback',
        `<p>The browser would now go back to the client:</p><a id="oidc-provider-held-callback" href="${escapeHtml(location)}">${escapeHtml(location)}</a>`,
      );
      return;
    }
    if (typeof ctx.body === 'string' && ctx.body.includes('fonts.googleapis.com')) {
      ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
    }
  });

  const server = provider.listen(port, '127.0.0.1');
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });

  const stop = track(
    () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );

  return {
    issuer,
    clientId: CLIENT_ID,
    clientSecret,
    port,
    provider,
    /**
     * From now on (until `holdCallbacks(false)`), the provider does not send the browser back to
     * the client's redirect URI but shows a page with a link `#oidc-provider-held-callback` to
     * it; `loginAtProvider` then returns that URL. For tests that tamper with the callback.
     */
    holdCallbacks(on = true) {
      holding = on;
    },
    /** The callback URLs the provider held, oldest first. */
    heldCallbacks,
    stop,
  };
}

/**
 * On the provider's login page the browser has landed on (or is about to land on): types `login`
 * (and any password), signs in, confirms the consent page if it comes, and returns once the
 * browser has left the provider (its URL then, usually the client's redirect URI or beyond), or,
 * while the provider holds callbacks (`holdCallbacks()`), the callback URL it held.
 *
 * @param {import('playwright-core').Page} page
 * @param {string} login
 * @param {{timeoutMs?: number}} [opts]
 * @returns {Promise<string>}
 */
export async function loginAtProvider(page, login, { timeoutMs = 30_000 } = {}) {
  const loginForm = page.locator('form:has(input[name="prompt"][value="login"])');
  try {
    await loginForm.waitFor({ timeout: timeoutMs });
  } catch (err) {
    throw new Error(`no login form of the OpenID provider at ${page.url()}: ${err.message}`);
  }
  const origin = new URL(page.url()).origin;
  const atProvider = () => new URL(page.url()).origin === origin;

  const submit = async (form, what) => {
    const before = page.url();
    await form.locator('button[type="submit"]').first().click();
    await page.waitForURL((url) => url.href !== before, { waitUntil: 'commit', timeout: timeoutMs }).catch(() => {
      throw new Error(`the ${what} form of the OpenID provider led nowhere (still at ${page.url()})`);
    });
  };

  await loginForm.locator('input[name="login"]').fill(login);
  const password = loginForm.locator('input[name="password"]');
  if (await password.count()) await password.fill('any password will do');
  await submit(loginForm, 'login');

  const consentForm = page.locator('form:has(input[name="prompt"][value="consent"])');
  const error = page.locator('#oidc-provider-error');
  const held = page.locator('#oidc-provider-held-callback');
  const deadline = Date.now() + timeoutMs;
  while (atProvider()) {
    if (await held.count().catch(() => 0)) {
      return held.getAttribute('href');
    }
    if (await error.count().catch(() => 0)) {
      throw new Error(`the OpenID provider refused: ${await error.innerText()}`);
    }
    if (await consentForm.count().catch(() => 0)) {
      await submit(consentForm, 'consent');
      continue;
    }
    if (Date.now() > deadline) {
      const text = await page.locator('body').innerText().catch(() => '');
      throw new Error(`still at the OpenID provider after ${timeoutMs / 1000} s: ${page.url()}\n${text}`);
    }
    await sleep(100);
  }
  return page.url();
}
