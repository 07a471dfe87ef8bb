// Indicators on the demo: the national project lead opens the national dashboard, one
// indicator's dashboard with its maps, a campaign's completeness heatmap, and downloads the
// report pack; the DAN of Rennes enters a value for the académie (a mistake first, kept in
// the form) and validates it. Every page passes axe.

import path from 'node:path';

import { assert, assertAccessible, launchBrowser, startServer, tempDir, test } from './lib.mjs';

const PASSWORD = 'gouvernail-demo-2026';

async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), button.click()]);
}

async function signIn(page, baseUrl, email) {
  await page.goto(`${baseUrl}/connexion`);
  await page.locator('input[name=email]').fill(email);
  await page.locator('input[name=mot_de_passe]').fill(PASSWORD);
  await submit(page, page.locator('#login-form button[type=submit]'));
  await page.waitForURL(`${baseUrl}/`);
}

test('the national dashboard, maps, campaign heatmap and report pack; a DAN enters and validates a value', async () => {
  const server = await startServer({ args: ['demo', '--database', `sqlite://${path.join(tempDir(), 'g.sqlite')}`] });
  const browser = await launchBrowser();
  const base = server.baseUrl;

  // The national project lead.
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, base, 'pilote@demo.gouvernail.fr');
  await page.locator('#nav-indicateurs').click();
  await page.waitForURL('**/indicateurs');
  assert.match(await page.locator('#dictionary-table').innerText(), /TERM-100-ELEVES/);
  await assertAccessible(page);

  await page.locator('#link-dashboard').click();
  await page.waitForURL('**/indicateurs/tableau-de-bord');
  const keys = await page.locator('#key-figures').innerText();
  assert.match(keys, /Terminaux/);
  assert.match(keys, /sur \d+ académies/);
  await assertAccessible(page);

  // The report pack.
  const href = await page.locator('#report-pack').getAttribute('href');
  const pdf = await context.request.get(`${base}${href}`);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.equal((await pdf.body()).subarray(0, 4).toString(), '%PDF');

  // One indicator: series, comparison, both maps with their tables.
  await page.goto(`${base}/indicateurs/TERM-100-ELEVES/tableau-de-bord`);
  for (const selector of ['svg.gv-series', 'svg.gv-bars', 'svg.gv-map-aca', 'svg.gv-map-dep']) {
    assert.equal(await page.locator(selector).count(), 1, selector);
  }
  assert.ok((await page.locator('.gv-chart-table').count()) >= 4, 'a table per chart');
  assert.match(await page.locator('#completeness').innerText(), /académies/);
  await assertAccessible(page);
  await page.locator('#drill-link').click();
  await page.waitForURL('**/indicateurs/TERM-100-ELEVES/detail**');
  assert.ok((await page.locator('#drill-table tbody tr').count()) > 0);
  await assertAccessible(page);

  // The campaign in progress and its heatmap.
  await page.goto(`${base}/campagnes`);
  await assertAccessible(page);
  await submit(page, page.locator('#campaigns-table a').first());
  assert.equal(await page.locator('svg.gv-heatmap').count(), 1);
  assert.match(await page.locator('#campaign-window').innerText(), /→/);
  await assertAccessible(page);
  await context.close();

  // The DAN of Rennes enters the académie's trained teachers of the year being collected.
  const dan = await browser.newContext();
  const p2 = await dan.newPage();
  await signIn(p2, base, 'dan.rennes@demo.gouvernail.fr');
  // The demo's current school year (it starts on 1 September).
  const now = new Date();
  const start = now.getUTCMonth() >= 8 ? now.getUTCFullYear() : now.getUTCFullYear() - 1;
  await p2.goto(`${base}/indicateurs/ENS-FORMES/saisie?perimetre=academie:14&periode=${start}-${start + 1}`);
  await assertAccessible(p2);
  await p2.locator('#f-valeur').fill('mille deux cents');
  await submit(p2, p2.locator('#entry-submit'));
  assert.match(await p2.locator('#form-error').innerText(), /valeur/);
  assert.equal(await p2.locator('#f-valeur').inputValue(), 'mille deux cents');
  await assertAccessible(p2);
  await p2.locator('#f-valeur').fill('1 240');
  await p2.locator('#f-commentaire').fill('Chiffre M@gistère au 30 juin');
  await submit(p2, p2.locator('#entry-submit'));
  await p2.waitForURL('**/valeurs/*');
  assert.match(await p2.locator('#value-status').innerText(), /Saisie/);
  await assertAccessible(p2);
  await submit(p2, p2.locator('#validate-submit'));
  assert.match(await p2.locator('#value-status').innerText(), /Validée/);
  await assertAccessible(p2);

  // An indicator computed from the collectivités' inventories says so.
  await p2.goto(`${base}/indicateurs/INV-TERM-100`);
  assert.match(await p2.locator('#indicator-formula').innerText(), /Terminaux pour 100 élèves/);
  await assertAccessible(p2);
  await dan.close();
  await browser.close();
});
