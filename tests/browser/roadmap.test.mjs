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
  assert.equal(await page.locator('svg.gv-map rect.gv-tile').count(), 30, 'one tile per académie');
  const rows = page.locator('#national-states tbody tr');
  assert.equal(await rows.count(), 30);
  assert.match(await rows.filter({ hasText: 'Rennes' }).innerText(), /Version locale/);
  assert.match(await rows.filter({ hasText: 'Aix-Marseille' }).innerText(), /À revoir/);
  assert.match(await rows.filter({ hasText: 'Lille' }).innerText(), /Non décliné/);
  await assertAccessible(page);
});

test("a DAN plans an action, gets her typing errors named, meets a concurrent edit and finds it in her actions", async () => {
  const server = await startServer({ args: ['demo', '--database', `sqlite://${path.join(tempDir(), 'g.sqlite')}`] });
  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/connexion`);
  const password = (await page.locator('#demo-password').innerText()).trim();
  await page.locator('#login-email').fill('dan.rennes@demo.gouvernail.fr');
  await page.locator('#login-password').fill(password);
  await page.locator('#login-form button[type=submit]').click();
  await page.waitForURL(`${server.baseUrl}/`);

  // The roadmap shows its actions on a timeline with today's line, and in a table.
  await page.goto(`${server.baseUrl}/academies/14/feuille-de-route`);
  assert.ok((await page.locator('svg.gv-timeline rect').count()) >= 7, 'one bar per dated action');
  assert.match(await page.locator('svg.gv-timeline').innerHTML(), /Aujourd'hui/);
  assert.match(await page.locator('#actions-table').innerText(), /Équiper les écoles rurales d'Ille-et-Vilaine/);

  // She adds an action under a declined project.
  const pix = await page.locator('#n-parent option', { hasText: 'PN-PIX' }).getAttribute('value');
  await page.locator('#n-parent').selectOption(pix);
  await page.locator('#n-titre').fill('Certifier Pix les élèves de ULIS');
  await page.locator('#n-pilote').fill('dan.rennes@demo.gouvernail.fr');
  await page.locator('#n-debut').fill('2025-09-01');
  await page.locator('#n-fin').fill('2027-06-30');
  await page.locator('#add-action-form button').click();
  await page.waitForURL('**/actions/*');
  const actionUrl = page.url();
  assert.match(await page.locator('h1').innerText(), /A08 — Certifier Pix les élèves de ULIS/);
  await assertAccessible(page);

  // A budget line she cannot type right is named by its line; what she typed is kept.
  await page.locator('#a-budget').fill("2025 ; etat ; État ; 12 000,50\n2026 ; collectivite ; Région Bretagne ; douze mille");
  await page.locator('#a-jalons').fill('2026-01-15 ; Inscriptions ouvertes');
  await page.locator('#action-form button[type=submit]').click();
  assert.match(await page.locator('#form-error').innerText(), /budget, ligne 2/);
  assert.match(await page.locator('#a-budget').inputValue(), /douze mille/);
  await assertAccessible(page);
  await page.locator('#a-budget').fill("2025 ; etat ; État ; 12 000,50\n2026 ; collectivite ; Région Bretagne ; 8 000");
  await page.locator('#action-form button[type=submit]').click();
  await page.waitForURL(actionUrl);
  assert.match(await page.locator('#action-budget').innerText(), /20\s000,50\s€/);
  // The milestone of January passed without being reached: the action is late.
  assert.match(await page.locator('#action-status').innerText(), /en retard/i);

  // Two tabs, two saves from the same version: the second is refused, not applied.
  const other = await page.context().newPage();
  await other.goto(actionUrl);
  await page.locator('#a-avancement').fill('40');
  await page.locator('#action-form button[type=submit]').click();
  await page.waitForURL(actionUrl);
  await other.locator('#a-titre').fill('Titre écrit dans un autre onglet');
  const [response] = await Promise.all([
    other.waitForResponse((r) => r.request().method() === 'POST'),
    other.locator('#action-form button[type=submit]').click(),
  ]);
  assert.equal(response.status(), 409);
  assert.match(await other.locator('#form-error').innerText(), /modifiée entre-temps/);
  assert.match(await other.locator('#action-status').innerText(), /40 %/, 'the current state is shown');
  await page.reload();
  assert.match(await page.locator('h1').innerText(), /Certifier Pix les élèves de ULIS/);

  // Her actions, filtered to the late ones, with a spreadsheet export.
  await page.locator('#nav-actions').click();
  await page.locator('#f-mes').check({ force: true });
  await page.locator('#f-retard').check({ force: true });
  await page.locator('#actions-filters button').click();
  const table = await page.locator('#actions-table').innerText();
  assert.match(table, /Certifier Pix les élèves de ULIS/);
  assert.doesNotMatch(table, /Publier le tableau de bord/, 'done actions are not late');
  await assertAccessible(page);
  const csv = await page.request.get(`${server.baseUrl}/api/v1/actions?mes=true&enRetard=true&format=csv`);
  assert.equal(csv.status(), 200);
  assert.match(await csv.text(), /Certifier Pix les élèves de ULIS/);

  // The roadmap as a PDF for the comité de pilotage, from its page.
  await page.goto(`${server.baseUrl}/academies/14/feuille-de-route`);
  const href = await page.locator('#roadmap-pdf').getAttribute('href');
  const pdf = await page.request.get(`${server.baseUrl}${href}`);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');
});
