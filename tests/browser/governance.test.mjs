// The secretary's path through a governance body, on the demo: the DAN of Rennes creates a
// comité and names its secretary (a demo account); the secretary plans a meeting, writes its
// agenda, takes the attendance, writes the minutes in Markdown, records a decision and approves
// the minutes; the open decision is then followed on the next meeting's agenda.

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

test('a secretary runs a meeting from its agenda to approved minutes, and its decision is followed next time', async () => {
  const server = await startServer({ args: ['demo', '--database', `sqlite://${path.join(tempDir(), 'g.sqlite')}`] });
  const browser = await launchBrowser();
  const page = await browser.newPage();
  const base = server.baseUrl;

  // The DAN creates the body (the demo's own bodies, if any, are not relied upon).
  await signIn(page, base, 'dan.rennes@demo.gouvernail.fr');
  await page.locator('#nav-instances').click();
  await page.waitForURL('**/instances');
  await assertAccessible(page);
  await page.locator('#b-type').selectOption('comite-pilotage-academique');
  await page.locator('#b-nom').fill('Comité de pilotage du numérique éducatif (essai)');
  await page.locator('#b-perimetre').fill('academie:14');
  await page.locator('#b-mandat').fill('Suivre la feuille de route numérique de l’académie.');
  await submit(page, page.locator('#body-form button[type=submit]'));
  await page.waitForURL('**/instances/*');
  const bodyUrl = page.url();
  assert.match(await page.locator('h1').innerText(), /Comité de pilotage du numérique éducatif \(essai\)/);
  assert.match(await page.locator('.gv-facts').innerText(), /Académie de Rennes/);

  // Its secretary, a demo account without any right on the body, and its president.
  for (const [name, email, position] of [
    ['Chloé Chargée-de-mission', 'dane.rennes@demo.gouvernail.fr', 'secretaire'],
    ['Rose Rectrice', 'recteur.rennes@demo.gouvernail.fr', 'president'],
  ]) {
    await page.locator('#m-nom').fill(name);
    await page.locator('#m-email').fill(email);
    await page.locator('#m-organisation').fill('Rectorat de Rennes');
    await page.locator('#m-fonction').selectOption(position);
    await submit(page, page.locator('#member-form button[type=submit]'));
    await page.waitForURL(`${bodyUrl}#composition`);
  }
  const members = await page.locator('#members-table').innerText();
  assert.match(members, /Chloé Chargée-de-mission/);
  assert.match(members, /Secrétaire/);
  await assertAccessible(page);
  // The composition on a day before their mandates is empty.
  await page.locator('#c-date').fill('2020-01-01');
  await submit(page, page.locator('#composition-date button'));
  await page.waitForURL('**/instances/*?date=2020-01-01*');
  assert.match(await page.locator('#members-table caption').innerText(), /1 janvier 2020/);
  assert.equal(await page.locator('#members-table tbody tr').count(), 0);
  await assertAccessible(page);
  await submit(page, page.locator('#logout'));

  // The secretary plans the first meeting.
  await signIn(page, base, 'dane.rennes@demo.gouvernail.fr');
  await page.locator('#nav-instances').click();
  await page.locator('a', { hasText: 'Comité de pilotage du numérique éducatif (essai)' }).click();
  await page.waitForURL(bodyUrl);
  await page.locator('#r-debut').fill('2030-01-15T14:00');
  await page.locator('#r-fin').fill('2030-01-15T16:30');
  await page.locator('#r-lieu').fill('Rectorat de Rennes, salle du conseil');
  await submit(page, page.locator('#meeting-form button[type=submit]'));
  await page.waitForURL('**/reunions/*');
  const firstUrl = page.url();
  assert.match(await page.locator('h1').innerText(), /réunion n° 1/);
  assert.match(await page.locator('#meeting-when').innerText(), /15 janvier 2030 à 14 h 00 → 16 h 30/);
  assert.match(await page.locator('#meeting-status').innerText(), /Prévue/i);
  assert.match(await page.locator('#minutes-none').innerText(), /Pas encore de compte rendu/);
  await assertAccessible(page);

  // The agenda: a line without a title is named, and what was typed kept.
  await page.locator('#a-ordre').fill('Ouverture de la séance\n | projet:PN-PIX');
  await submit(page, page.locator('#agenda-form button[type=submit]'));
  assert.match(await page.locator('#form-error').innerText(), /ordre du jour, ligne 2/);
  assert.match(await page.locator('#a-ordre-error').innerText(), /ligne 2/);
  assert.match(await page.locator('#a-ordre').inputValue(), /\| projet:PN-PIX/);
  await assertAccessible(page);
  await page.locator('#a-ordre').fill('Ouverture de la séance\nFeuille de route numérique | | présentée par la DANE\nQuestions diverses');
  await submit(page, page.locator('#agenda-form button[type=submit]'));
  await page.waitForURL(`${firstUrl}#ordre-du-jour`);
  const agenda = page.locator('#agenda-items li');
  assert.equal(await agenda.count(), 3);
  assert.match(await agenda.nth(1).innerText(), /Feuille de route numérique \(présentée par la DANE\)/);

  // The attendance: the meeting is held.
  const rows = page.locator('#attendance-table tbody tr');
  assert.equal(await rows.count(), 2);
  await rows.filter({ hasText: 'Chloé' }).locator('select').selectOption('present');
  await rows.filter({ hasText: 'Rose Rectrice' }).locator('select').selectOption('represente');
  await rows.filter({ hasText: 'Rose Rectrice' }).locator('input[name^=represente]').fill('Le secrétaire général');
  await submit(page, page.locator('#attendance-form button[type=submit]'));
  await page.waitForURL(`${firstUrl}#presences`);
  assert.match(await page.locator('#meeting-status').innerText(), /Tenue/i);
  assert.equal(await rows.filter({ hasText: 'Rose Rectrice' }).locator('select').inputValue(), 'represente');

  // The minutes, in Markdown; HTML typed in them is shown as text.
  await page.locator('#cr-texte').fill(
    "# Relevé de conclusions\n\n- Le comité valide le calendrier\n- Les écoles rurales sont prioritaires\n\n<script>alert('x')</script>",
  );
  await submit(page, page.locator('#minutes-form button[type=submit]'));
  await page.waitForURL(`${firstUrl}#compte-rendu`);
  const minutes = page.locator('#minutes-text');
  assert.equal(await minutes.locator('h3').innerText(), 'Relevé de conclusions');
  assert.equal(await minutes.locator('li').count(), 2);
  assert.equal(await minutes.locator('script').count(), 0);
  assert.match(await minutes.innerText(), /<script>alert\('x'\)<\/script>/);
  assert.match(await page.locator('#minutes-status').innerText(), /Brouillon/i);
  await assertAccessible(page);

  // A decision, owned by the president.
  await page.locator('#d-titre').fill('Recenser les écoles sans ENT');
  await page.locator('#d-responsable').fill('recteur.rennes@demo.gouvernail.fr');
  await page.locator('#d-echeance').fill('2030-02-28');
  await submit(page, page.locator('#decision-form button[type=submit]'));
  await page.waitForURL(`${firstUrl}#decisions`);
  const decision = await page.locator('#decisions-table').innerText();
  assert.match(decision, /D-1/);
  assert.match(decision, /Recenser les écoles sans ENT/);
  assert.match(decision, /Rose Rectrice/);

  // Approved, the minutes are frozen: no editor, a correction instead.
  await submit(page, page.locator('#approve-form button'));
  await page.waitForURL(`${firstUrl}#compte-rendu`);
  assert.match(await page.locator('#minutes-status').innerText(), /Approuvé/i);
  assert.equal(await page.locator('#minutes-form').count(), 0);
  assert.equal(await page.locator('#correction-form').count(), 1);
  await assertAccessible(page);

  // The next meeting follows the open decision up.
  await page.goto(bodyUrl);
  await page.locator('#r-debut').fill('2030-03-12T14:00');
  await page.locator('#r-lieu').fill('Visioconférence');
  await page.locator('#r-visio').fill('https://webconf.example.fr/comite');
  await submit(page, page.locator('#meeting-form button[type=submit]'));
  await page.waitForURL('**/reunions/*');
  assert.notEqual(page.url(), firstUrl);
  assert.match(await page.locator('h1').innerText(), /réunion n° 2/);
  const followUps = page.locator('#follow-ups');
  const followed = await followUps.innerText();
  assert.match(followed, /D-1/);
  assert.match(followed, /Recenser les écoles sans ENT/);
  assert.match(followed, /Ouverte/i);
  await assertAccessible(page);

  // The register of the body lists it, with a link back to its meeting.
  await page.goto(bodyUrl);
  await page.locator('#body-register').click();
  await page.waitForURL('**/decisions?instance=*');
  const register = page.locator('#register-table');
  assert.match(await register.innerText(), /Recenser les écoles sans ENT/);
  await assertAccessible(page);
  const csv = await page.request.get(`${base}${await page.locator('#register-csv').getAttribute('href')}`);
  assert.equal(csv.status(), 200);
  assert.match(await csv.text(), /Recenser les écoles sans ENT/);
  await register.locator('a', { hasText: 'Réunion n° 1' }).click();
  await page.waitForURL(`${firstUrl}#decisions`);
  await assertAccessible(page);

  // Her private calendar: its address is shown once and lists the meetings she sits on.
  await page.goto(`${base}/compte`);
  await submit(page, page.locator('#feed-create button'));
  const feedUrl = await page.locator('#feed-url').inputValue();
  assert.match(feedUrl, /\/agenda\/gvc_[^/]+\.ics$/);
  await assertAccessible(page);
  const feed = await page.request.get(`${base}${new URL(feedUrl).pathname}`);
  assert.equal(feed.status(), 200);
  const ics = await feed.text();
  assert.match(ics, /BEGIN:VCALENDAR/);
  // Both meetings of this body at least (the demo may seat her on others).
  assert.ok((ics.match(/BEGIN:VEVENT/g)?.length ?? 0) >= 2, 'both meetings');
  await page.goto(`${base}/compte`);
  assert.equal(await page.locator('#feed-url').count(), 0, 'the address is not shown again');
  assert.equal(await page.locator('#feed-revoke').count(), 1);
});
