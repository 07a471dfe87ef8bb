// Reporting campaigns end to end: the national level creates an indicator and opens a
// campaign over the API; the DAN of each académie of the campaign receives its mail at a real
// SMTP server (the sink of smtp-sink.mjs), once, with the campaign's link; reminders asked twice
// the same day are queued once; closing the campaign locks its period. No browser here.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { assert, startServer, tempDir, test } from './lib.mjs';
import { startSink } from './smtp-sink.mjs';

function cli(args) {
  const bin = process.env.GOUVERNAIL_BIN;
  if (!bin) throw new Error('GOUVERNAIL_BIN is not set (path of the gouvernail binary)');
  try {
    return execFileSync(bin, args, { stdio: 'pipe', encoding: 'utf8' });
  } catch (err) {
    throw new Error(`gouvernail ${args.join(' ')} failed (${err.status}):\n${err.stderr || err.stdout || err.message}`);
  }
}

test('a campaign opened over the API mails the DAN of each of its académies', async () => {
  const sink = await startSink();
  const url = `sqlite://${path.join(tempDir('gouvernail-campaign-'), 'g.sqlite')}`;
  cli(['migrate', '--database', url]);
  cli(['import', 'referential', '--database', url]);
  cli(['user', 'create', '--email', 'pilotage@dne.test', '--name', 'Pilotage DNE', '--database', url]);
  cli(['role', 'grant', '--email', 'pilotage@dne.test', '--role', 'administrateur-national', '--perimeter', 'national', '--database', url]);
  const dans = [
    ['dan@ac-rennes.test', 'DAN de Rennes', '14'],
    ['dan@ac-aix-marseille.test', "DAN d'Aix-Marseille", '02'],
    ['dan@ac-lyon.test', 'DAN de Lyon', '10'],
  ];
  for (const [email, name, academie] of dans) {
    cli(['user', 'create', '--email', email, '--name', name, '--database', url]);
    cli(['role', 'grant', '--email', email, '--role', 'dan', '--perimeter', `academie:${academie}`, '--database', url]);
  }
  const token = cli(['token', 'create', '--email', 'pilotage@dne.test', '--database', url]).trim();
  const server = await startServer({
    args: ['serve', '--database', url],
    env: {
      GOUVERNAIL_PUBLIC_URL: 'https://gouvernail.test',
      GOUVERNAIL_SMTP_HOST: '127.0.0.1',
      GOUVERNAIL_SMTP_PORT: String(sink.port),
      GOUVERNAIL_SMTP_TLS: 'aucun',
      GOUVERNAIL_SMTP_USER: '',
      GOUVERNAIL_SMTP_PASSWORD: '',
      GOUVERNAIL_SMTP_FROM: 'Gouvernail <ne-pas-repondre@gouvernail.test>',
    },
  });
  const api = async (method, uri, body) => {
    const res = await fetch(`${server.baseUrl}${uri}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => null);
    return { status: res.status, json };
  };
  const ok = async (method, uri, body) => {
    const { status, json } = await api(method, uri, body);
    assert.ok(status >= 200 && status < 300, `${method} ${uri}: ${status} ${JSON.stringify(json)}`);
    return json;
  };

  await ok('POST', '/api/v1/indicateurs', {
    code: 'ENS-FORMES',
    libelle: 'Enseignants formés au numérique',
    sens: 'hausse',
    type: 'nombre',
    agregation: 'somme',
    periodicite: 'annee',
    niveauSaisie: 'academie',
  });
  const today = new Date();
  const close = new Date(today.getTime() + 5 * 86_400_000).toISOString().slice(0, 10);
  const campaign = await ok('POST', '/api/v1/campagnes', {
    titre: 'Formation 2026',
    indicateurs: ['ENS-FORMES'],
    academies: ['14', '02'],
    periode: '2026',
    cloture: close,
    delaiGrace: 3,
  });
  assert.equal(campaign.courrielsEnFile, 2);

  const received = await sink.waitFor(2, 30_000);
  const to = received.map((m) => m.envelope.rcptTo[0]).sort();
  assert.deepEqual(to, ['dan@ac-aix-marseille.test', 'dan@ac-rennes.test'], 'Lyon is not in the campaign');
  for (const m of received) {
    assert.equal(m.parsed.subject, 'Campagne ouverte : Formation 2026 (2026)');
    assert.match(m.parsed.text, /Enseignants formés au numérique \(ENS-FORMES\)/);
    assert.match(m.parsed.text, new RegExp(`https://gouvernail\\.test/campagnes/${campaign.id}`));
  }

  // Rennes answers; the reminder (asked twice) goes to Aix-Marseille once.
  await ok('POST', '/api/v1/valeurs', { indicateur: 'ENS-FORMES', perimetre: 'academie:14', periode: '2026', valeur: '420' });
  assert.equal((await ok('POST', `/api/v1/campagnes/${campaign.id}/relances`)).courrielsEnFile, 1);
  assert.equal((await ok('POST', `/api/v1/campagnes/${campaign.id}/relances`)).courrielsEnFile, 0);
  const all = await sink.waitFor(3, 30_000);
  const reminder = all.find((m) => m.parsed.subject.startsWith('Rappel'));
  assert.deepEqual(reminder.envelope.rcptTo, ['dan@ac-aix-marseille.test']);
  await sleep(1500);
  assert.equal(sink.messages.length, 3, 'no duplicate');

  // Closing locks the period.
  const closed = await ok('POST', `/api/v1/campagnes/${campaign.id}/cloture`, { version: campaign.version });
  assert.equal(closed.statut, 'close');
  const refused = await api('POST', '/api/v1/valeurs', { indicateur: 'ENS-FORMES', perimetre: 'academie:02', periode: '2026', valeur: '10' });
  assert.equal(refused.status, 422);
  assert.equal(refused.json.error.fields[0].field, 'periode');
});
