// Identity in the browser, on the demo: a DAN signs in with a local account, sees her roles,
// appoints a member of her team; a wrong password says nothing about the account; an
// administrator approves an account and reads the audit trail.

import path from 'node:path';

import { assert, assertAccessible, launchBrowser, startServer, tempDir, test } from './lib.mjs';

async function demo() {
  return startServer({ args: ['demo', '--database', `sqlite://${path.join(tempDir(), 'gouvernail.sqlite')}`] });
}

async function signIn(page, baseUrl, email, password) {
  await page.goto(`${baseUrl}/connexion`);
  await page.locator('#login-email').fill(email);
  await page.locator('#login-password').fill(password);
  await page.locator('#login-form button[type=submit]').click();
}

test('a DAN signs in, sees her roles and appoints a member of her team', async () => {
  const server = await demo();
  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/connexion`);
  const password = (await page.locator('#demo-password').innerText()).trim();
  await assertAccessible(page);

  // A wrong password and an unknown account get the same message.
  await signIn(page, server.baseUrl, 'dan.rennes@demo.gouvernail.fr', 'pas le bon mot de passe');
  const wrong = await page.locator('#login-error').innerText();
  await signIn(page, server.baseUrl, 'personne@demo.gouvernail.fr', 'pas le bon mot de passe');
  assert.equal(await page.locator('#login-error').innerText(), wrong);

  await signIn(page, server.baseUrl, 'dan.rennes@demo.gouvernail.fr', password);
  await page.waitForURL(`${server.baseUrl}/`);
  assert.match(await page.locator('#current-user').innerText(), /Damien Dan/);
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === '__Host-gouvernail_session');
  assert.ok(session && session.httpOnly && session.secure && session.sameSite === 'Lax', 'a safe session cookie');

  await page.locator('#current-user').click();
  await page.waitForURL('**/compte');
  assert.match(await page.locator('main').innerText(), /academie:14/);

  await page.goto(`${server.baseUrl}/academies/14`);
  await page.locator('#team-link').click();
  await page.waitForURL('**/academies/14/equipe');
  await page.locator('#appoint-email').fill('observateur@demo.gouvernail.fr');
  await page.locator('#appoint-role').selectOption('membre-dane');
  await page.locator('#appoint-form button[type=submit]').click();
  await page.waitForURL('**/academies/14/equipe');
  const team = await page.locator('#team').innerText();
  assert.match(team, /Odile Observatrice\s+Membre de la DANE/);
  await assertAccessible(page);

  // Another académie's team is not hers: the same page as for nothing at all.
  const other = await page.goto(`${server.baseUrl}/academies/02/equipe`);
  assert.equal(other?.status(), 404);

  await page.locator('#logout').click();
  await page.waitForURL(`${server.baseUrl}/`);
  assert.equal(await page.locator('#login-link').count(), 1);
  const after = await page.goto(`${server.baseUrl}/compte`);
  assert.match(page.url(), /\/connexion\?retour=/, `signed out, /compte sends to the sign-in page (${after?.status()})`);
});

test('an administrator creates an account, disables it and reads its history', async () => {
  const server = await demo();
  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/connexion`);
  const password = (await page.locator('#demo-password').innerText()).trim();
  await signIn(page, server.baseUrl, 'admin@demo.gouvernail.fr', password);
  await page.waitForURL(`${server.baseUrl}/`);
  await page.goto(`${server.baseUrl}/admin/utilisateurs`);
  await page.locator('#new-email').fill('nouvelle@ac-rennes.fr');
  await page.locator('#new-name').fill('Nouvelle Personne');
  await page.locator('form[action="/admin/utilisateurs"] button').click();
  await page.waitForURL('**/admin/utilisateurs/**');
  await page.locator('#disable').click();
  await page.waitForURL('**/admin/utilisateurs/**');
  assert.match(await page.locator('#user-status').innerText(), /Désactivé/);
  const history = await page.locator('#historique + div table').innerText();
  assert.match(history, /desactiver/);
  assert.match(history, /creer/);
  await assertAccessible(page);
  await page.goto(`${server.baseUrl}/admin/journal`);
  assert.match(await page.locator('main').innerText(), /nouvelle@ac-rennes.fr/);
});
