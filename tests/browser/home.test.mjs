import path from 'node:path';

import { assert, launchBrowser, startServer, tempDir, test } from './lib.mjs';

test('home page: French, with a level-1 heading', async () => {
  const dir = tempDir();
  const server = await startServer({
    args: ['demo', '--database', `sqlite://${path.join(dir, 'gouvernail.sqlite')}`],
  });
  const browser = await launchBrowser();
  const page = await browser.newPage();

  const response = await page.goto(`${server.baseUrl}/`, { waitUntil: 'load' });
  assert.equal(response?.status(), 200, 'GET / answers 200');
  assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
  assert.ok((await page.locator('h1').count()) >= 1, 'the page has an <h1>');

  await browser.close();
  await server.stop();
});
