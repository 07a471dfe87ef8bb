// The DAN's path through a convention, on the demo: the DAN of Rennes creates a convention with
// the Département d'Ille-et-Vilaine and its commitments, has both parties sign it (it is then in
// force), reports on a commitment, applies an amendment, compares the two versions, opens the
// PDF, and finds the late commitment in the late list, the cross-view and the table by
// département. Every page is checked with axe.

import path from 'node:path';

import { assert, assertAccessible, launchBrowser, startServer, tempDir, test } from './lib.mjs';

/** Clicks a form's button and waits for the page it leads to. */
async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), button.click()]);
}

async function signIn(page, baseUrl, email) {
  await page.goto(`${baseUrl}/connexion`);
  const password = (await page.locator('#demo-password').innerText()).trim();
  await page.locator('#login-email').fill(email);
  await page.locator('#login-password').fill(password);
  await submit(page, page.locator('#login-form button[type=submit]'));
  await page.waitForURL(`${baseUrl}/`);
}

/** Yesterday, as a date input takes it (signatures may not be dated in the future). */
function yesterday() {
  return new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 10);
}

test('a DAN creates, signs, follows, amends and prints a convention', async () => {
  const server = await startServer({ args: ['demo', '--database', `sqlite://${path.join(tempDir(), 'g.sqlite')}`] });
  const browser = await launchBrowser();
  const page = await browser.newPage();
  const base = server.baseUrl;

  await signIn(page, base, 'dan.rennes@demo.gouvernail.fr');
  await page.locator('#nav-conventions').click();
  await page.waitForURL('**/conventions');
  await assertAccessible(page);

  // A new convention with its parties and commitments (a draft: nobody has signed yet).
  await submit(page, page.locator('#convention-new'));
  await page.waitForURL('**/conventions/nouvelle');
  await assertAccessible(page);
  await page.locator('#f-type').selectOption('bipartite');
  await page.locator('#f-titre').fill('Convention des collèges connectés (essai)');
  await page.locator('#f-objet').fill('Équiper et connecter les collèges d’Ille-et-Vilaine.');
  await page.locator('#f-visas').fill('Code de l’éducation, art. L213-2');
  await page.locator('#f-perimetre').fill('departement:35');
  await page.locator('#f-dateFin').fill('2029-08-31');
  await page.locator('#f-parties-0-reference').fill('academie:14');
  await page.locator('#f-parties-0-representant').fill('Rose Rectrice');
  await page.locator('#f-parties-0-qualite').fill('Rectrice de l’académie');
  await page.locator('#f-parties-1-reference').fill('collectivite:223500018');
  await page.locator('#f-parties-1-representant').fill('Paul Président');
  await page.locator('#f-parties-1-qualite').fill('Président du Département');
  await page.locator('#f-engagements-0-partie').fill('collectivite:223500018');
  await page.locator('#f-engagements-0-categorie').selectOption('equipement');
  await page.locator('#f-engagements-0-description').fill('Équiper 40 collèges en écrans');
  await page.locator('#f-engagements-0-quantite').fill('40');
  await page.locator('#f-engagements-0-echeance').fill('2025-09-01');
  await page.locator('#f-engagements-1-partie').fill('academie:14');
  await page.locator('#f-engagements-1-categorie').selectOption('formation');
  await page.locator('#f-engagements-1-description').fill('Former les référents numériques');
  await page.locator('#f-engagements-1-echeance').fill('2099-06-30');
  await page.locator('#f-annexe-0-annee').fill('2026');
  await page.locator('#f-annexe-0-partie').fill('collectivite:223500018');
  await page.locator('#f-annexe-0-montant').fill('12 000,50');
  await submit(page, page.locator('#convention-submit'));
  await page.waitForURL(/\/conventions\/[^/]+$/);
  const conventionUrl = page.url();
  assert.match(await page.locator('h1').innerText(), /Convention des collèges connectés \(essai\)/);
  assert.match(await page.locator('#convention-status').innerText(), /projet/i);
  assert.match(await page.locator('#status-reason').innerText(), /Signature attendue/);
  await assertAccessible(page);

  // Both parties sign: the convention is in force from the last signature.
  await submit(page, page.locator('#convention-edit'));
  await assertAccessible(page);
  await page.locator('#f-parties-0-dateSignature').fill(yesterday());
  await page.locator('#f-parties-1-dateSignature').fill(yesterday());
  await submit(page, page.locator('#convention-submit'));
  await page.waitForURL(conventionUrl);
  assert.match(await page.locator('#convention-status').innerText(), /en vigueur/i);
  assert.match(await page.locator('#engagement-E1').innerText(), /en retard/i);
  assert.match(await page.locator('#annex-total').innerText(), /12\u202f000,50/);
  await assertAccessible(page);

  // The DAN reports on the académie's commitment.
  await page.locator('#engagement-E2 a').first().click();
  await page.waitForURL('**/engagements/*');
  await assertAccessible(page);
  await page.locator('#f-statut').selectOption('tenu');
  await page.locator('#f-note').fill('Douze référents formés en octobre.');
  await submit(page, page.locator('#report-submit'));
  await page.waitForURL(`${conventionUrl}#engagements`);
  assert.match(await page.locator('#engagement-E2').innerText(), /tenu/i);
  assert.match(await page.locator('#engagement-E2').innerText(), /Douze référents/);

  // An amendment: sixty collèges, and a larger amount.
  await submit(page, page.locator('#convention-amend'));
  await assertAccessible(page);
  await page.locator('#f-avenant-objet').fill('Soixante collèges équipés');
  await page.locator('#f-engagements-0-quantite').fill('60');
  await page.locator('#f-annexe-0-montant').fill('18 000,75');
  await submit(page, page.locator('#convention-submit'));
  await page.waitForURL(`${conventionUrl}#versions`);
  assert.match(await page.locator('#amendments-list').innerText(), /Soixante collèges équipés/);
  assert.match(await page.locator('#annex-total').innerText(), /18\u202f000,75/);
  assert.match(await page.locator('#history-list').innerText(), /avenant/);

  // The two versions compared: exactly the quantity and the amount.
  await submit(page, page.locator('#compare-link'));
  await page.waitForURL('**/versions?a=0&b=1');
  const changes = await page.locator('#changes-table').innerText();
  assert.match(changes, /engagement E1/);
  assert.match(changes, /quantite/);
  assert.match(changes, /12000\.50/);
  assert.match(changes, /18000\.75/);
  assert.equal(await page.locator('#changes-table tbody tr').count(), 2);
  await assertAccessible(page);

  // The PDF, from the convention's page.
  await page.goto(conventionUrl);
  const pdf = await page.request.get(`${base}${await page.locator('#convention-pdf').getAttribute('href')}`);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');

  // The late commitment, in the DAN's late list and in the Département's cross-view.
  await page.goto(`${base}/conventions/retards`);
  assert.match(await page.locator('#commitments-table').innerText(), /Équiper 40 collèges en écrans/);
  await assertAccessible(page);
  await page.goto(`${base}/conventions/engagements`);
  await page.locator('#f-partie').fill('collectivite:223500018');
  await submit(page, page.locator('#cross-view-form button[type=submit]'));
  // The late ones first (the demo's own commitments of the Département may come before).
  const cross = await page.locator('#commitments-table').innerText();
  assert.match(cross, /Équiper 40 collèges en écrans/);
  assert.match(await page.locator('#commitments-table tbody tr').first().innerText(), /en retard/i);
  await assertAccessible(page);

  // The register and its table by département.
  await page.goto(`${base}/conventions`);
  assert.match(await page.locator('#conventions-table').innerText(), /Convention des collèges connectés \(essai\)/);
  assert.match(await page.locator('#departements-table').innerText(), /Ille-et-Vilaine/);
  await assertAccessible(page);
});
