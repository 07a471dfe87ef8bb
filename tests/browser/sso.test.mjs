// Single sign-on through ProConnect (OpenID Connect), against a real OpenID provider
// (`oidc-provider`, started by each test, see oidc-provider.mjs) shaped like ProConnect:
// authorization code + PKCE S256, state, nonce, acr_values=eidas1, client_secret_post, RS256 ID
// token, RS256-signed UserInfo (the identity claims are in UserInfo only, as at ProConnect).
//
// Each test has its own database (the referential, Marie Dupont created by the CLI with the DAN
// role on the académie de Rennes), its own provider and its own server, on a port picked before
// the provider so that the client's redirect URI can name it.

import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { assert, assertAccessible, freePort, launchBrowser, startServer, tempDir, test } from './lib.mjs';
import { ACCOUNTS, SCOPES, loginAtProvider, startProvider } from './oidc-provider.mjs';

const CALLBACK_PATH = '/connexion/proconnect/retour';
const SESSION_COOKIE = '__Host-gouvernail_session';
const MARIE = 'marie.dupont@ac-rennes.fr';
const NEWCOMER = 'nouveau.venu@ille-et-vilaine.fr';

/** `promise`, marked as handled: if the test fails before awaiting it, its later rejection
 * (when the browser closes) must not crash the runner. */
function pending(promise) {
  promise.catch(() => {});
  return promise;
}

function cli(args) {
  const bin = process.env.GOUVERNAIL_BIN;
  if (!bin) throw new Error('GOUVERNAIL_BIN is not set (path of the gouvernail binary)');
  try {
    return execFileSync(bin, args, { stdio: 'pipe', encoding: 'utf8' });
  } catch (err) {
    throw new Error(`gouvernail ${args.join(' ')} failed (${err.status}):\n${err.stderr || err.stdout || err.message}`);
  }
}

/**
 * A database with Marie Dupont (DAN, académie 14), a provider, Gouvernail configured for it, and
 * a browser.
 */
async function setUp(providerOptions = {}) {
  const database = `sqlite://${path.join(tempDir(), 'g.sqlite')}`;
  cli(['import', 'referential', '--database', database]);
  cli(['user', 'create', '--email', MARIE, '--name', 'Marie Dupont', '--database', database]);
  cli(['role', 'grant', '--email', MARIE, '--role', 'dan', '--perimeter', 'academie:14', '--database', database]);

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const op = await startProvider({
    redirectUri: `${baseUrl}${CALLBACK_PATH}`,
    // Where Gouvernail may ask the provider to send the browser back after signing out there.
    postLogoutRedirectUri: [`${baseUrl}/`, `${baseUrl}/connexion`],
    ...providerOptions,
  });
  const server = await startServer({
    port,
    args: ['serve', '--database', database],
    env: {
      GOUVERNAIL_PUBLIC_URL: baseUrl,
      GOUVERNAIL_OIDC_ISSUER: op.issuer,
      GOUVERNAIL_OIDC_CLIENT_ID: op.clientId,
      GOUVERNAIL_OIDC_CLIENT_SECRET: op.clientSecret,
    },
  });
  assert.equal(server.baseUrl, baseUrl);
  const browser = await launchBrowser();
  return { baseUrl, op, server, browser };
}

/** A page in a fresh browser context (no cookies) that reaches nothing but this machine. */
async function freshPage(browser) {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    return hostname === '127.0.0.1' || hostname === 'localhost' ? route.continue() : route.abort();
  });
  return context.newPage();
}

/** `GET /api/v1/me` from inside the page (its cookies, its origin): `{status, body}`. */
async function me(page, baseUrl) {
  if (new URL(page.url()).origin !== baseUrl) await page.goto(`${baseUrl}/`);
  return page.evaluate(async () => {
    const res = await fetch('/api/v1/me', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    const text = await res.text();
    let body = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text for the assertion message
    }
    return { status: res.status, body };
  });
}

async function bodyText(page) {
  return page.locator('body').innerText();
}

/**
 * From `/connexion`, follows `#proconnect-login` to the provider, checks the authorization
 * request, signs in there as `login`, and returns once the browser has left the provider.
 * `holdCallback`: the provider does not send the browser back to Gouvernail (it shows the
 * callback URL instead), so that the test can tamper with it.
 *
 * @returns {Promise<{authorization: URL, callbackUrl: string, callbackResponse?: import('playwright-core').Response}>}
 */
async function signInThroughProConnect(page, { baseUrl, op }, login, { holdCallback = false } = {}) {
  const connexion = await page.goto(`${baseUrl}/connexion`);
  assert.equal(connexion?.status(), 200, 'GET /connexion answers 200');
  const button = page.locator('#proconnect-login');
  assert.ok(await button.isVisible(), '/connexion shows #proconnect-login');

  const issuer = new URL(op.issuer);
  const authorizationRequest = pending(
    page.waitForRequest(
      (req) => {
        const url = new URL(req.url());
        return url.origin === issuer.origin && url.pathname === '/auth';
      },
      { timeout: 30_000 },
    ),
  );
  const callbackUrls = [];
  const onRequest = (req) => {
    if (req.url().startsWith(`${baseUrl}${CALLBACK_PATH}`)) callbackUrls.push(req.url());
  };
  page.on('request', onRequest);
  op.holdCallbacks(holdCallback);
  const callbackResponse = holdCallback
    ? undefined
    : pending(page.waitForResponse((res) => res.url().startsWith(`${baseUrl}${CALLBACK_PATH}`), { timeout: 60_000 }));

  await button.click();
  const authorization = new URL((await authorizationRequest).url());
  checkAuthorizationRequest(authorization, { baseUrl, op });

  const left = await loginAtProvider(page, login);
  const response = await callbackResponse;
  page.off('request', onRequest);
  await page.waitForLoadState('load');
  if (holdCallback) {
    op.holdCallbacks(false);
    callbackUrls.push(left);
  }

  assert.equal(callbackUrls.length, 1, `the browser came back once to ${CALLBACK_PATH} (${callbackUrls.join(', ')})`);
  const callbackUrl = callbackUrls[0];
  const params = new URL(callbackUrl).searchParams;
  assert.equal(params.get('state'), authorization.searchParams.get('state'), 'the provider sent the state back');
  assert.ok(params.get('code') || params.get('error'), `the callback carries a code or an error: ${callbackUrl}`);
  return { authorization, callbackUrl, callbackResponse: response };
}

/** The authorization request is ProConnect's: code flow, PKCE S256, state, nonce, eidas1. */
function checkAuthorizationRequest(url, { baseUrl, op }) {
  const q = url.searchParams;
  const shown = url.href;
  assert.equal(q.get('response_type'), 'code', `response_type=code in ${shown}`);
  assert.equal(q.get('client_id'), op.clientId, `client_id in ${shown}`);
  assert.equal(q.get('redirect_uri'), `${baseUrl}${CALLBACK_PATH}`, `redirect_uri in ${shown}`);
  const scopes = (q.get('scope') ?? '').split(' ');
  for (const scope of SCOPES) assert.ok(scopes.includes(scope), `scope ${scope} asked in ${shown}`);
  assert.equal(q.get('acr_values'), 'eidas1', `acr_values=eidas1 in ${shown}`);
  assert.ok((q.get('state') ?? '').length >= 16, `a state of at least 16 characters in ${shown}`);
  assert.ok((q.get('nonce') ?? '').length >= 16, `a nonce of at least 16 characters in ${shown}`);
  assert.equal(q.get('code_challenge_method'), 'S256', `code_challenge_method=S256 in ${shown}`);
  assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/, `a S256 code_challenge in ${shown}`);
}

async function assertSignedOut(page, baseUrl, why) {
  const { status, body } = await me(page, baseUrl);
  assert.equal(status, 401, `${why}: GET /api/v1/me answers 401, not ${status} ${JSON.stringify(body)}`);
}

test('ProConnect: a known person signs in, gets her roles and a safe session cookie, then signs out', async () => {
  const env = await setUp();
  const { baseUrl } = env;
  const page = await freshPage(env.browser);

  await page.goto(`${baseUrl}/connexion`);
  await assertAccessible(page);

  const { callbackResponse } = await signInThroughProConnect(page, env, MARIE);
  assert.ok(
    [302, 303].includes(callbackResponse.status()),
    `the callback answers a redirection, not ${callbackResponse.status()}`,
  );
  await page.waitForURL(`${baseUrl}/`);
  const currentUser = page.locator('#current-user');
  assert.ok(await currentUser.isVisible(), 'the home page shows #current-user once signed in');
  assert.match(await currentUser.innerText(), /Marie Dupont/, '#current-user names Marie Dupont');

  const { status, body } = await me(page, baseUrl);
  assert.equal(status, 200, `GET /api/v1/me answers 200 once signed in, not ${status} ${JSON.stringify(body)}`);
  assert.equal(body.email, MARIE, `/api/v1/me: ${JSON.stringify(body)}`);
  assert.ok(Array.isArray(body.roles), `/api/v1/me has roles: ${JSON.stringify(body)}`);
  assert.ok(
    body.roles.some((r) => r.role === 'dan' && r.perimeter === 'academie:14'),
    `/api/v1/me lists the role dan on academie:14: ${JSON.stringify(body.roles)}`,
  );

  const cookies = await page.context().cookies(baseUrl);
  const session = cookies.find((c) => c.name === SESSION_COOKIE);
  assert.ok(session, `a ${SESSION_COOKIE} cookie is set (cookies: ${cookies.map((c) => c.name).join(', ')})`);
  assert.equal(session.httpOnly, true, `${SESSION_COOKIE} is HttpOnly`);
  assert.equal(session.secure, true, `${SESSION_COOKIE} is Secure`);
  assert.equal(session.sameSite, 'Lax', `${SESSION_COOKIE} is SameSite=Lax`);
  assert.equal(session.path, '/', `${SESSION_COOKIE} has Path=/`);

  // Signing out: the form button in the header, POST /deconnexion.
  const logout = page.locator('#logout');
  assert.ok(await logout.isVisible(), 'a #logout button is shown when signed in');
  const posted = pending(
    page.waitForRequest((req) => req.url() === `${baseUrl}/deconnexion` && req.method() === 'POST', {
      timeout: 30_000,
    }),
  );
  // Gouvernail may send the browser through the provider's end_session endpoint: wait until a
  // page of Gouvernail's is shown again.
  const backHome = pending(
    page.waitForEvent('framenavigated', {
      predicate: (frame) => frame === page.mainFrame() && new URL(frame.url()).origin === baseUrl,
      timeout: 30_000,
    }),
  );
  await logout.click();
  await posted;
  await backHome;
  await page.waitForLoadState('load');
  await assertSignedOut(page, baseUrl, 'after POST /deconnexion');
  // The session is over on the server too, not only forgotten by this browser.
  const replayed = await fetch(`${baseUrl}/api/v1/me`, {
    headers: { cookie: `${SESSION_COOKIE}=${session.value}`, accept: 'application/json' },
  });
  await replayed.arrayBuffer();
  assert.equal(replayed.status, 401, `the former session cookie no longer opens a session (${replayed.status})`);
  await page.goto(`${baseUrl}/`);
  assert.equal(await page.locator('#current-user').count(), 0, 'no #current-user once signed out');
});

test('ProConnect: a person without an account is held for an administrator’s approval', async () => {
  const env = await setUp();
  const { baseUrl } = env;
  const page = await freshPage(env.browser);

  const { callbackResponse } = await signInThroughProConnect(page, env, NEWCOMER);
  assert.ok(callbackResponse.status() < 500, `the callback does not fail (${callbackResponse.status()})`);
  const pending = page.locator('#pending-approval');
  await pending.waitFor({ timeout: 30_000 }).catch(async () => {
    throw new Error(`no #pending-approval at ${page.url()}:\n${await bodyText(page)}`);
  });
  await assertAccessible(page);
  await assertSignedOut(page, baseUrl, `${NEWCOMER} (${ACCOUNTS[NEWCOMER].given_name}) awaiting approval`);
});

test('ProConnect: a callback whose state was tampered with is refused and opens no session', async () => {
  const env = await setUp();
  const { baseUrl } = env;
  const page = await freshPage(env.browser);

  // The provider's answer is held in the browser, then sent with another state.
  const { callbackUrl } = await signInThroughProConnect(page, env, MARIE, { holdCallback: true });
  const forged = new URL(callbackUrl);
  assert.ok(forged.searchParams.get('code'), `the provider gave a code: ${callbackUrl}`);
  forged.searchParams.set('state', `${forged.searchParams.get('state')}x`);

  const response = await page.goto(forged.href);
  assert.equal(response?.status(), 400, `a callback with a forged state answers 400, not ${response?.status()}`);
  assert.match(await bodyText(page), /state/i, 'the error page says that the state is wrong');
  await assertSignedOut(page, baseUrl, 'after a forged state');
});

test('ProConnect: a callback replayed in another browser is refused and opens no session', async () => {
  const env = await setUp();
  const { baseUrl } = env;
  const page = await freshPage(env.browser);

  const { callbackUrl } = await signInThroughProConnect(page, env, MARIE);
  await page.waitForURL(`${baseUrl}/`);
  assert.equal((await me(page, baseUrl)).status, 200, 'the first use of the callback signed Marie in');

  // Someone who got hold of the callback URL (code and state) opens it elsewhere.
  const other = await freshPage(env.browser);
  const response = await other.goto(callbackUrl);
  assert.equal(response?.status(), 400, `the replayed callback answers 400, not ${response?.status()}`);
  await assertSignedOut(other, baseUrl, 'in the browser that replayed the callback');
});

test('ProConnect: an expired ID token is refused and opens no session', async () => {
  // The ID token is minted at the token endpoint, when Gouvernail exchanges the code: the
  // provider hands out ID tokens issued 5 minutes ago that lived 1 second, i.e. expired whatever
  // clock skew Gouvernail tolerates (up to 5 minutes).
  const env = await setUp({ idTokenTtlSeconds: 1, idTokenIssuedSecondsAgo: 300 });
  const { baseUrl } = env;
  const page = await freshPage(env.browser);

  const { callbackResponse } = await signInThroughProConnect(page, env, MARIE);
  assert.equal(callbackResponse.status(), 400, `an expired ID token answers 400, not ${callbackResponse.status()}`);
  assert.match(await bodyText(page), /expir/i, 'the error page says that the ID token expired');
  await assertSignedOut(page, baseUrl, 'after an expired ID token');
});
