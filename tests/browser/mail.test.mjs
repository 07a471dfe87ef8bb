// Mail sending end to end: mails queued by the command line (`gouvernail mail test`) in the
// database a running server uses are sent by its worker through a real SMTP server (the sink
// of smtp-sink.mjs, with authentication), with their calendar file; an SMTP outage followed by a
// crash of the server (SIGKILL) loses no mail and sends none twice. No browser here: the mails
// are read as a mail client would (mailparser, ical.js).

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import ICAL from 'ical.js';

import { assert, startServer, tempDir, test } from './lib.mjs';
import { startSink } from './smtp-sink.mjs';

const SMTP_USER = 'gouvernail';
const SMTP_PASSWORD = 'mot de passe de test';
const FROM = 'ne-pas-repondre@gouvernail.test';

function cli(args, env = {}) {
  const bin = process.env.GOUVERNAIL_BIN;
  if (!bin) throw new Error('GOUVERNAIL_BIN is not set (path of the gouvernail binary)');
  try {
    return execFileSync(bin, args, { stdio: 'pipe', encoding: 'utf8', env: { ...process.env, ...env } });
  } catch (err) {
    throw new Error(`gouvernail ${args.join(' ')} failed (${err.status}):\n${err.stderr || err.stdout || err.message}`);
  }
}

/** The SMTP settings of a server that sends through the sink on `port`. */
function smtpEnv(port) {
  return {
    GOUVERNAIL_SMTP_HOST: '127.0.0.1',
    GOUVERNAIL_SMTP_PORT: String(port),
    GOUVERNAIL_SMTP_TLS: 'aucun',
    GOUVERNAIL_SMTP_USER: SMTP_USER,
    GOUVERNAIL_SMTP_PASSWORD: SMTP_PASSWORD,
    GOUVERNAIL_SMTP_FROM: `Gouvernail <${FROM}>`,
  };
}

/** No SMTP settings at all, whatever the shell running the tests has. */
const NO_SMTP = Object.fromEntries(Object.keys(smtpEnv(25)).map((k) => [k, '']));

/** A fresh SQLite database with the schema. */
function database() {
  const url = `sqlite://${path.join(tempDir('gouvernail-mail-'), 'g.sqlite')}`;
  cli(['migrate', '--database', url]);
  return url;
}

/** The counts of `gouvernail mail file`. */
function queue(url) {
  const text = cli(['mail', 'file', '--database', url]);
  const count = (re) => {
    const m = re.exec(text);
    if (!m) throw new Error(`unexpected output of gouvernail mail file:\n${text}`);
    return Number(m[1]);
  };
  return {
    pending: count(/^en attente : (\d+)/m),
    retrying: count(/^en attente : \d+ \(dont (\d+) après un échec\)/m),
    running: count(/^en cours : (\d+)/m),
    done: count(/^terminées : (\d+)/m),
    dead: count(/^abandonnées : (\d+)/m),
    text,
  };
}

/** Polls `check` (every 250 ms) until it returns a truthy value; returns that value. */
async function until(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

function serve(url, env) {
  return startServer({ args: ['serve', '--database', url], env });
}

test('a queued mail reaches the SMTP server with a calendar file that clients read', async () => {
  const sink = await startSink({ user: SMTP_USER, password: SMTP_PASSWORD });
  const url = database();
  const server = await serve(url, smtpEnv(sink.port));

  const queued = cli(['mail', 'test', '--to', 'marie.dupont@ac-rennes.fr', '--database', url], smtpEnv(sink.port));
  assert.match(queued, /courriel d'essai mis en file pour marie\.dupont@ac-rennes\.fr/);

  const [received] = await sink.waitFor(1, 30_000);
  const mail = received.parsed;
  assert.equal(received.user, SMTP_USER, 'the server authenticated');
  assert.equal(received.envelope.mailFrom, FROM);
  assert.deepEqual(received.envelope.rcptTo, ['marie.dupont@ac-rennes.fr']);
  assert.equal(mail.subject, "Gouvernail : courriel d'essai");
  assert.equal(mail.from.value[0].address, FROM);
  assert.equal(mail.from.value[0].name, 'Gouvernail');
  assert.equal(mail.to.value[0].address, 'marie.dupont@ac-rennes.fr');
  assert.match(mail.messageId ?? '', /^<[0-9a-f]{32}@gouvernail>$/);
  assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
  assert.match(mail.text, /courriel d'essai a été envoyé par Gouvernail/);
  assert.match(mail.html || '', /<code>gouvernail mail test<\/code>/);
  // The calendar is an alternative of the body (what Outlook and Gmail read)…
  assert.match(received.raw, /Content-Type: text\/calendar; method=PUBLISH; charset=UTF-8/i);

  // … and an .ics attachment, which a calendar client parses.
  const ics = mail.attachments.find((a) => a.filename === 'essai.ics');
  assert.ok(ics, `an essai.ics attachment (got ${mail.attachments.map((a) => `${a.filename}:${a.contentType}`)})`);
  assert.equal(ics.contentType, 'application/ics');
  const calendar = new ICAL.Component(ICAL.parse(ics.content.toString('utf8')));
  assert.equal(calendar.getFirstPropertyValue('method'), 'PUBLISH');
  assert.equal(calendar.getFirstPropertyValue('version'), '2.0');
  assert.equal(calendar.getFirstPropertyValue('prodid'), '-//Gouvernail//Gouvernail//FR');
  const vevents = calendar.getAllSubcomponents('vevent');
  assert.equal(vevents.length, 1);
  const event = new ICAL.Event(vevents[0]);
  assert.equal(event.summary, 'Essai de Gouvernail');
  assert.match(event.uid, /^essai-[0-9a-f-]{36}@gouvernail$/);
  assert.match(event.description, /rien à faire/);
  assert.equal(event.organizer, `mailto:${FROM}`);
  const tomorrow = new Date(Date.now() + 86_400_000);
  const start = event.startDate.toJSDate();
  assert.equal(event.startDate.zone.tzid, 'UTC');
  assert.equal(start.toISOString().slice(0, 10), tomorrow.toISOString().slice(0, 10));
  assert.equal(start.getUTCHours(), 9);
  assert.equal(event.endDate.toJSDate() - start, 3_600_000, 'one hour long');
  assert.equal(vevents[0].getFirstPropertyValue('status'), 'CONFIRMED');

  const stats = await until('the queue to say the mail is done', () => {
    const q = queue(url);
    return q.done === 1 ? q : null;
  }, 10_000);
  assert.equal(stats.pending + stats.running + stats.dead, 0);
  assert.match(server.output(), /courriel envoyé/);
});

test('without SMTP settings the server warns and the mails wait in the queue', async () => {
  const url = database();
  const server = await serve(url, NO_SMTP);
  cli(['mail', 'test', '--to', 'marie.dupont@ac-rennes.fr', '--database', url], NO_SMTP);
  await sleep(2_500);
  const q = queue(url);
  assert.equal(q.pending, 1, q.text);
  assert.equal(q.retrying, 0, 'no attempt was made');
  assert.match(server.output(), /GOUVERNAIL_SMTP_HOST absent : les courriels restent dans la file/);
});

test('an SMTP outage then a crash of the server lose no mail and send none twice', async () => {
  const COUNT = 20;
  // The sink's port is chosen, but nothing listens there yet: the SMTP server is down.
  const sink = await startSink({ user: SMTP_USER, password: SMTP_PASSWORD, listen: false });
  const url = database();
  const env = smtpEnv(sink.port);
  const first = await serve(url, env);

  const recipients = Array.from({ length: COUNT }, (_, i) => `personne.${i + 1}@example.test`);
  for (const to of recipients) cli(['mail', 'test', '--to', to, '--database', url], env);

  // The worker tries each mail, fails (connection refused) and schedules a retry.
  const failed = await until(`${COUNT} failed attempts`, () => {
    const q = queue(url);
    return q.retrying === COUNT && q.running === 0 ? q : null;
  }, 60_000);
  assert.equal(failed.pending, COUNT);
  assert.equal(failed.done + failed.dead, 0);
  assert.match(first.output(), /envoi échoué, nouvel essai plus tard/);
  assert.equal(sink.messages.length, 0);

  // The server crashes; the SMTP server comes back; the server restarts on the same database.
  await first.kill('SIGKILL');
  await sink.start();
  const second = await serve(url, env);

  // Retries wait for their backoff (10 s after the first failure).
  await sink.waitFor(COUNT, 150_000);
  const done = await until(`${COUNT} mails done`, () => {
    const q = queue(url);
    return q.done === COUNT ? q : null;
  }, 20_000);
  assert.equal(done.pending + done.running + done.dead, 0, done.text);
  // Nothing more arrives afterwards.
  await sleep(3_000);
  assert.equal(sink.messages.length, COUNT, `exactly ${COUNT} mails`);

  const ids = new Set(sink.messages.map((m) => m.parsed.messageId));
  assert.equal(ids.size, COUNT, 'no Message-ID twice');
  const delivered = sink.messages.map((m) => m.envelope.rcptTo.join(',')).sort();
  assert.deepEqual(delivered, [...recipients].sort(), 'each recipient got their mail once');
  assert.match(second.output(), /courriel envoyé/);
}, { timeout: 300_000 });
