import path from 'node:path';

import { assert, assertAccessible, launchBrowser, startServer, tempDir, test } from './lib.mjs';

test('the demo: French home page, a demo banner, and fictitious schools labelled as such', async () => {
  const dir = tempDir();
  const server = await startServer({
    args: ['demo', '--database', `sqlite://${path.join(dir, 'gouvernail.sqlite')}`],
  });
  const browser = await launchBrowser();
  const page = await browser.newPage();

  const response = await page.goto(`${server.baseUrl}/`, { waitUntil: 'load' });
  assert.equal(response?.status(), 200, 'GET / answers 200');
  assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
  assert.ok((await page.locator('h1').count()) === 1, 'the page has one <h1>');
  assert.match(await page.locator('.fr-notice').innerText(), /fictifs/);
  // The whole referential is there: 30 académies.
  assert.match(await page.locator('#chiffres + ul').innerText(), /30\s+académies/);

  await page.goto(`${server.baseUrl}/etablissements?codeDepartement=35`);
  const first = page.locator('table tbody tr').first();
  assert.match(await first.innerText(), /fictif/i);
  await first.locator('a').first().click();
  await page.waitForURL('**/etablissements/**');
  assert.match(await page.locator('main').innerText(), /inventé pour la démonstration/);
  await assertAccessible(page);

  // The published national strategy is public: axes, objectives and national projects.
  await page.goto(`${server.baseUrl}/strategie`);
  await page.getByRole('link', { name: 'Stratégie du numérique pour l’éducation 2023-2027'.replace('’', "'") }).click();
  await page.waitForURL('**/strategie/2023-2027');
  assert.equal((await page.locator('main h2').count()), 4, 'four axes');
  await page.getByRole('link', { name: 'Socle numérique dans les écoles élémentaires' }).click();
  await page.waitForURL('**/projets-nationaux/PN-SNEE');
  assert.match(await page.locator('main').innerText(), /115\s000\s000 €/);
  await assertAccessible(page);
});
