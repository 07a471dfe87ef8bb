// The DAN's path through the roadmap on the demo: a national change waits for review,
// she keeps her académie's version with a reason, then declines another national project.

import path from 'node:path';

import { assert, assertAccessible, launchBrowser, startServer, tempDir, test } from './lib.mjs';

test("a DAN reviews a national change and declines a project in her académie's roadmap", async () => {
  const server = await startServer({ args: ['demo', '--database', `sqlite://${path.join(tempDir(), 'g.sqlite')}`] });
  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/connexion`);
  const password = (await page.locator('#demo-password').innerText()).trim();
  await page.locator('#login-email').fill('dan.rennes@demo.gouvernail.fr');
  await page.locator('#login-password').fill(password);
  await page.locator('#login-form button[type=submit]').click();
  await page.waitForURL(`${server.baseUrl}/`);

  await page.goto(`${server.baseUrl}/academies/14`);
  await page.locator('#roadmap-link').click();
  await page.waitForURL('**/academies/14/feuille-de-route');
  const snee = page.locator('#declinaison-PN-SNEE');
  assert.equal(await snee.locator('.a-revoir').count(), 1, 'the national change is to review');
  assert.match(await snee.innerText(), /DANE de Rennes/, 'the local adaptation is kept');
  await assertAccessible(page);

  await snee.locator('input[name=motif]').fill('Calendrier académique déjà engagé avec les communes');
  await snee.locator('form:has(input[value=conserver]) button').click();
  await page.waitForURL('**/academies/14/feuille-de-route');
  const after = await page.locator('#declinaison-PN-SNEE').innerText();
  assert.doesNotMatch(after, /à revoir/i);
  assert.match(after, /version académique conservée/i);
  assert.doesNotMatch(after, /priorité aux communes rurales/, 'the kept version shows the goals it had');
  assert.match(after, /Calendrier académique déjà engagé avec les communes/);

  await page.locator('#decline-project').selectOption('PN-GOUV');
  await page.locator('#decline-form button').click();
  await page.waitForURL('**/academies/14/feuille-de-route');
  assert.equal(await page.locator('#declinaison-PN-GOUV').count(), 1);

  // The Département's comment of the consultation gets a partial answer.
  const comment = page.locator('.gv-comment').first();
  assert.match(await comment.innerText(), /Département souhaite être associé/);
  await comment.locator('select[name=statut]').selectOption('partielle');
  await comment.locator('input[name=texte]').fill('Associé au comité de suivi de la convention');
  await comment.locator('button').click();
  await page.waitForURL('**/academies/14/feuille-de-route');
  assert.match(await page.locator('.gv-comment').first().innerText(), /acceptée en partie — Associé au comité de suivi/i);
  await assertAccessible(page);

  // Another académie's roadmap is none of her business.
  const other = await page.goto(`${server.baseUrl}/academies/02/feuille-de-route`);
  assert.equal(other?.status(), 404);

  // The recteur validates: version 1, on the date of the comité de pilotage.
  await page.goto(`${server.baseUrl}/`);
  await page.locator('#logout').click();
  await page.goto(`${server.baseUrl}/connexion`);
  await page.locator('#login-email').fill('recteur.rennes@demo.gouvernail.fr');
  await page.locator('#login-password').fill(password);
  await page.locator('#login-form button[type=submit]').click();
  await page.waitForURL(`${server.baseUrl}/`);
  await page.goto(`${server.baseUrl}/academies/14/feuille-de-route`);
  await page.locator('#date-comite').fill('2026-12-10');
  await page.locator('#validate-form button').click();
  await page.waitForURL('**/academies/14/feuille-de-route');
  assert.match(await page.locator('#versions-list').innerText(), /v1 — Comité de pilotage du 10 décembre 2026/);

  // The national level sees every académie at once, on a map and in a table.
  await page.locator('#logout').click();
  await page.goto(`${server.baseUrl}/connexion`);
  await page.locator('#login-email').fill('pilote@demo.gouvernail.fr');
  await page.locator('#login-password').fill(password);
  await page.locator('#login-form button[type=submit]').click();
  await page.waitForURL(`${server.baseUrl}/`);
  await page.goto(`${server.baseUrl}/projets-nationaux/PN-SNEE`);
  await page.locator('#national-view-link').click();
  await page.waitForURL('**/projets-nationaux/PN-SNEE/declinaisons');
  assert.equal(await page.locator('svg.gv-map rect').count(), 30, 'one tile per académie');
  const rows = page.locator('#national-states tbody tr');
  assert.equal(await rows.count(), 30);
  assert.match(await rows.filter({ hasText: 'Rennes' }).innerText(), /Version locale/);
  assert.match(await rows.filter({ hasText: 'Aix-Marseille' }).innerText(), /À revoir/);
  assert.match(await rows.filter({ hasText: 'Lille' }).innerText(), /Non décliné/);
  await assertAccessible(page);
});
