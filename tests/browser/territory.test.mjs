// A person browsing the real referential: France → académie → département → school, the search
// box, the language switch, with axe checking each page. The server runs on a database loaded by
// the CLI with the bundled referential and the real Ille-et-Vilaine annuaire extract.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { assert, assertAccessible, launchBrowser, startServer, tempDir, test } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const sharedData = process.env.GOUVERNAIL_SHARED_DATA || path.resolve(here, '../../../shared/data');
const annuaire = path.join(sharedData, 'annuaire_education_35_extrait_2023-06.csv');
const shots = process.env.GOUVERNAIL_SCREENSHOTS;

async function serverWithAnnuaire() {
  assert.ok(existsSync(annuaire), `${annuaire} is needed by the browser tests`);
  const database = `sqlite://${path.join(tempDir(), 'gouvernail.sqlite')}`;
  const bin = process.env.GOUVERNAIL_BIN;
  execFileSync(bin, ['import', 'referential', '--database', database], { stdio: 'pipe' });
  execFileSync(bin, ['import', 'annuaire', annuaire, '--database', database], { stdio: 'pipe' });
  return startServer({ args: ['serve', '--database', database] });
}

async function shot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: false });
}

test('browse from the home page to an académie, a département and a school', async () => {
  const server = await serverWithAnnuaire();
  const browser = await launchBrowser();
  const page = await browser.newPage();

  await page.goto(`${server.baseUrl}/`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
  assert.equal(await page.locator('h1').innerText(), 'Le territoire de l’éducation nationale'.replace('’', "'"));
  assert.ok(await page.getByText('Gouvernail', { exact: true }).first().isVisible());
  await shot(page, 'home');
  await assertAccessible(page);

  // The table of régions académiques links to every académie.
  await page.getByRole('link', { name: 'Rennes', exact: true }).click();
  await page.waitForURL('**/academies/14');
  assert.equal(await page.locator('h1').innerText(), 'Académie de Rennes');
  const departements = page.locator('table').filter({ hasText: 'Ille-et-Vilaine' });
  assert.ok(await departements.isVisible(), 'the académie lists Ille-et-Vilaine');
  await shot(page, 'academie');
  await assertAccessible(page);

  await page.getByRole('link', { name: 'Ille-et-Vilaine', exact: true }).click();
  await page.waitForURL('**/departements/35');
  assert.ok(await page.getByRole('link', { name: 'Département d’Ille-et-Vilaine' }).isVisible());
  assert.ok(await page.getByRole('link', { name: 'Région Bretagne' }).isVisible());

  // A collège of Ille-et-Vilaine names the Département as its competent collectivité.
  await page.goto(`${server.baseUrl}/etablissements?codeDepartement=35&nature=college&statut=public`);
  await page.locator('table tbody tr a').first().click();
  await page.waitForURL('**/etablissements/**');
  const competent = await page.locator('#collectivite-competente').innerText();
  assert.match(competent, /Département d’Ille-et-Vilaine/);
  assert.match(competent, /223500018/);
  await shot(page, 'college');
  await assertAccessible(page);

  // An école names its commune.
  await page.goto(`${server.baseUrl}/etablissements/0350122T`);
  assert.equal(await page.locator('h1').innerText(), 'Ecole primaire publique les Lucioles');
  assert.match(await page.locator('#collectivite-competente').innerText(), /Baulon/);
});

test('the search box finds a school by UAI and a commune by name', async () => {
  const server = await serverWithAnnuaire();
  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/`);
  await page.locator('#home-search-input').fill('0350122T');
  await page.locator('#recherche-accueil button[type=submit]').click();
  await page.waitForURL('**/etablissements/0350122T');
  assert.equal(await page.locator('h1').innerText(), 'Ecole primaire publique les Lucioles');

  await page.goto(`${server.baseUrl}/`);
  await page.locator('#home-search-input').fill('saint malo');
  await page.locator('#recherche-accueil button[type=submit]').click();
  await page.waitForURL('**/recherche?q=**');
  await page.locator('a[href="/communes/35288"]').first().click();
  await page.waitForURL('**/communes/35288');
  assert.equal(await page.locator('h1').innerText(), 'Saint-Malo');
  await assertAccessible(page);
});

test('the language switch shows the same page in English, and back', async () => {
  const server = await serverWithAnnuaire();
  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/academies/70`);
  assert.equal(await page.locator('h1').innerText(), 'Académie de Normandie');
  await page.locator('#switch-language').click();
  await page.waitForURL('**/academies/70');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.equal(await page.locator('h1').innerText(), 'Académie of Normandie');
  await shot(page, 'academie-en');
  await assertAccessible(page);
  // The choice is remembered on the next page.
  await page.goto(`${server.baseUrl}/`);
  assert.equal(await page.locator('h1').innerText(), 'The territory of national education');
  await page.locator('#switch-language').click();
  await page.waitForURL(`${server.baseUrl}/`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
});
