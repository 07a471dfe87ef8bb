// Equipment on the demo's Ille-et-Vilaine: the Département declares the equipment of one of
// its collèges from the gap analysis and sees it on the school's page; the DAN of Rennes opens
// the gap analysis of département 35 and finds both lists, the readiness map with its table,
// and the per-collectivité summary. The Département also sends an inventory file from the
// imports page. Every page passes axe.

import path from 'node:path';

import { assert, assertAccessible, launchBrowser, startServer, tempDir, test } from './lib.mjs';

/** Clicks a form's button and waits for the page it leads to. */
async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), button.click()]);
}

async function signIn(page, baseUrl, email) {
  await page.goto(`${baseUrl}/connexion`);
  await page.locator('#login-email').fill(email);
  await page.locator('#login-password').fill('gouvernail-demo-2026');
  await submit(page, page.locator('#login-form button[type=submit]'));
  await page.waitForURL(`${baseUrl}/`);
}

test('a collectivité declares a collège and the DAN reads the gap analysis of département 35', async () => {
  const server = await startServer({ args: ['demo', '--database', `sqlite://${path.join(tempDir(), 'g.sqlite')}`] });
  const browser = await launchBrowser();
  const base = server.baseUrl;

  // The Département d'Ille-et-Vilaine: its gap analysis, then one of its targeted collèges.
  const cd35 = await (await browser.newContext()).newPage();
  await signIn(cd35, base, 'cd35@demo.gouvernail.fr');
  await cd35.locator('#nav-equipement').click();
  await cd35.waitForURL('**/ecarts');
  await assertAccessible(cd35);
  const college = cd35.locator('#liste-cible-sans-equipement tbody a[href^="/equipements/"]').first();
  await Promise.all([cd35.waitForNavigation(), college.click()]);
  await cd35.waitForURL('**/equipements/*');
  await assertAccessible(cd35);
  const collegeUai = new URL(cd35.url()).pathname.split('/').pop();

  // A refused declaration keeps what was typed and names the field.
  await cd35.locator('#f-source').fill('Recensement du navigateur');
  await cd35.locator('#f-q-classe-mobile').fill('-1');
  await submit(cd35, cd35.locator('#declare-submit'));
  assert.match(await cd35.locator('#form-error').innerText(), /Classes mobiles/);
  assert.equal(await cd35.locator('#f-q-classe-mobile').inputValue(), '-1');
  assert.equal(await cd35.locator('#f-source').inputValue(), 'Recensement du navigateur');
  await assertAccessible(cd35);

  // Corrected, it is saved and shown with its source.
  await cd35.locator('#f-q-classe-mobile').fill('2');
  await cd35.locator('#f-old-classe-mobile').fill('0');
  await submit(cd35, cd35.locator('#declare-submit'));
  const inventory = await cd35.locator('#inventory-table').innerText();
  assert.match(inventory, /Classes mobiles\s+2/);
  assert.match(inventory, /Recensement du navigateur/);

  // Its plans and the imports.
  await cd35.goto(`${base}/plans-equipement`);
  await assertAccessible(cd35);
  await cd35.locator('#plans-table a').first().click();
  await cd35.waitForURL('**/plans-equipement/*');
  assert.match(await cd35.locator('#plan-totals').innerText(), /€/);
  await assertAccessible(cd35);
  await cd35.goto(`${base}/equipements/imports`);
  await assertAccessible(cd35);
  // An inventory file sent from the page (multipart, same origin): the good line is kept,
  // the bad one named with its line and column.
  await cd35.locator('#f-inventaire-fichier').setInputFiles({
    name: 'inventaire.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(`uai;categorie;quantite\r\n${collegeUai};tablette;9\r\n${collegeUai};tablette;-1\r\n`),
  });
  await submit(cd35, cd35.locator('#itemised-form button[type=submit]'));
  assert.equal(await cd35.locator('#report-accepted').innerText(), '1');
  assert.match(await cd35.locator('#report-errors').innerText(), /ligne 3 : quantite/);
  await assertAccessible(cd35);
  await cd35.goto(`${base}/equipements/${collegeUai}`);
  assert.match(await cd35.locator('#inventory-table').innerText(), /Tablettes\s+9/);

  // The DAN of Rennes: the gap analysis of département 35.
  const dan = await (await browser.newContext()).newPage();
  await signIn(dan, base, 'dan.rennes@demo.gouvernail.fr');
  await dan.goto(`${base}/ecarts`);
  await dan.locator('#f-perimetre').fill('departement:35');
  await submit(dan, dan.locator('#gap-form button[type=submit]'));
  assert.match(await dan.locator('h1').innerText(), /Ille-et-Vilaine/);
  const targeted = await dan.locator('#liste-cible-sans-equipement tbody tr').count();
  const withoutProject = await dan.locator('#liste-equipe-sans-projet tbody tr').count();
  assert.ok(targeted > 0, 'schools targeted without equipment');
  assert.ok(withoutProject > 0, 'schools equipped without project');
  assert.ok(await dan.locator('#gap-map svg[role=img]').isVisible(), 'the map');
  assert.match(await dan.locator('#gap-map svg title').first().textContent(), /Ille-et-Vilaine/);
  assert.ok((await dan.locator('#collectivite-summary tbody tr').count()) > 1, 'the per-collectivité summary and its total');
  assert.match(await dan.locator('#export-csv').getAttribute('href'), /format=csv/);
  await assertAccessible(dan);
  await dan.goto(`${base}/besoins`);
  await assertAccessible(dan);
});
