// The weekly digest of convention alerts, end to end: the demo's server queues, at start, one
// digest per DAN and collectivité representative who has alerts, and its mail worker delivers
// them through a real SMTP server (smtp-sink.mjs); asking again the same week queues none.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { assert, startServer, tempDir, test } from './lib.mjs';
import { startSink } from './smtp-sink.mjs';

const FROM = 'ne-pas-repondre@gouvernail.test';

function cli(args, env = {}) {
  const bin = process.env.GOUVERNAIL_BIN;
  if (!bin) throw new Error('GOUVERNAIL_BIN is not set (path of the gouvernail binary)');
  return execFileSync(bin, args, { stdio: 'pipe', encoding: 'utf8', env: { ...process.env, ...env } });
}

test('the demo sends each DAN and representative a digest of their convention alerts, once a week', async () => {
  const sink = await startSink({});
  const url = `sqlite://${path.join(tempDir('gouvernail-alertes-'), 'g.sqlite')}`;
  const env = {
    GOUVERNAIL_SMTP_HOST: '127.0.0.1',
    GOUVERNAIL_SMTP_PORT: String(sink.port),
    GOUVERNAIL_SMTP_TLS: 'aucun',
    GOUVERNAIL_SMTP_USER: '',
    GOUVERNAIL_SMTP_PASSWORD: '',
    GOUVERNAIL_SMTP_FROM: `Gouvernail <${FROM}>`,
  };
  const server = await startServer({ args: ['demo', '--database', url], env });

  // The demo also mails its campaign: only the digests (subject « Conventions : … ») count.
  const digests = () => sink.messages.filter((m) => /^Conventions : /.test(m.parsed.subject || ''));
  for (let i = 0; i < 240; i++) {
    const to = new Set(digests().map((m) => m.envelope.rcptTo.join(',')));
    if (to.has('dan.rennes@demo.gouvernail.fr') && to.has('cd35@demo.gouvernail.fr')) break;
    await sleep(250);
  }
  const byRecipient = new Map(digests().map((m) => [m.envelope.rcptTo.join(','), m.parsed]));
  const dan = byRecipient.get('dan.rennes@demo.gouvernail.fr');
  assert.ok(dan, `a digest for the DAN of Rennes (got ${[...byRecipient.keys()]})`);
  assert.match(dan.subject, /^Conventions : \d+ alerte\(s\), dont \d+ engagement\(s\) en retard$/);
  assert.match(dan.text, /Engagement en retard/);
  assert.match(dan.text, /Former 300 enseignants de collège/);
  assert.ok(!dan.text.includes('%GOUVERNAIL_URL%'), 'links carry the public address');
  assert.match(dan.text, /https?:\/\/[^\s]+\/conventions\/[0-9a-f-]{36}/);
  assert.match(dan.html || '', /<h2>Engagement en retard \(\d+\)<\/h2>/);

  // The Département's representative is told about the Département's commitments only.
  const cd35 = byRecipient.get('cd35@demo.gouvernail.fr');
  assert.ok(cd35, 'a digest for the Département d’Ille-et-Vilaine');
  assert.match(cd35.text, /Ille-et-Vilaine/);
  assert.doesNotMatch(cd35.text, /Former 300 enseignants/, 'not the académie’s commitments');
  // Nobody without alerts (the DAN of Aix has no convention) gets a mail.
  assert.ok(!byRecipient.has('dan.aix@demo.gouvernail.fr'));

  // Asked again the same week, nothing more is queued.
  const again = cli(['mail', 'alertes', '--database', url]);
  assert.match(again, /0 résumé\(s\) mis en file/);
  assert.match(server.output(), /résumés mis en file/);
}, { timeout: 240_000 });
