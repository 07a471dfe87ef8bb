// Meeting invitations end to end: a body's organiser plans a meeting over the API, sends the
// invitations, moves the meeting, then cancels it; every member receives, at a real SMTP
// server (the sink of smtp-sink.mjs), a mail whose calendar file a calendar client parses
// (ical.js): REQUEST, then an update with the next SEQUENCE, then CANCEL. No browser here.

import { execFileSync } from 'node:child_process';
import path from 'node:path';

import ICAL from 'ical.js';

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

/** The calendar of a received mail, parsed as a calendar client does. */
function calendarOf(message) {
  const part = message.parsed.attachments.find((a) => a.filename?.endsWith('.ics'));
  assert.ok(part, `an .ics attachment in « ${message.parsed.subject} »`);
  return new ICAL.Component(ICAL.parse(part.content.toString('utf8')));
}

test('members receive the invitation, its update and its cancellation with calendar files', async () => {
  const sink = await startSink();
  const url = `sqlite://${path.join(tempDir('gouvernail-invitations-'), 'g.sqlite')}`;
  cli(['migrate', '--database', url]);
  cli(['user', 'create', '--email', 'secretariat@dne.test', '--name', 'Secrétariat DNE', '--database', url]);
  cli(['role', 'grant', '--email', 'secretariat@dne.test', '--role', 'administrateur-national', '--perimeter', 'national', '--database', url]);
  const token = cli(['token', 'create', '--email', 'secretariat@dne.test', '--database', url]).trim();
  const server = await startServer({
    args: ['serve', '--database', url],
    env: {
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
    assert.ok(res.ok, `${method} ${uri}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  const body = await api('POST', '/api/v1/instances', {
    type: 'comite-des-partenaires',
    nom: 'Comité national des partenaires',
    perimetre: 'national',
  });
  const members = [
    ['Marie Dupont', 'marie.dupont@region.test', 'president'],
    ['Karim Benali', 'karim.benali@canope.test', 'secretaire'],
    ['Lina Martin', 'lina.martin@cned.test', 'membre'],
  ];
  for (const [nom, email, fonction] of members) {
    await api('POST', `/api/v1/instances/${body.id}/membres`, { nom, email, fonction, debut: '2025-01-01' });
  }
  const meeting = await api('POST', `/api/v1/instances/${body.id}/reunions`, {
    titre: 'Comité des partenaires — printemps',
    debut: '2027-03-11T14:00',
    fin: '2027-03-11T16:30',
    lieu: 'Ministère, salle Jean Zay',
  });

  // The invitations.
  const sent = await api('POST', `/api/v1/reunions/${meeting.id}/invitations`);
  assert.equal(sent.envoyees, 3);
  const invitations = await sink.waitFor(3, 30_000);
  assert.deepEqual(
    invitations.map((m) => m.envelope.rcptTo[0]).sort(),
    members.map(([, email]) => email).sort(),
  );
  for (const message of invitations) {
    assert.match(message.parsed.subject, /^Invitation : Comité des partenaires — printemps$/);
    assert.match(message.parsed.text, /11\/03\/2027 de 14 h 00 à 16 h 30 \(heure de Paris\)/);
    assert.match(message.parsed.text, new RegExp(`${server.baseUrl}/reunions/${meeting.id}`), 'the link carries the public address');
    const calendar = calendarOf(message);
    assert.equal(calendar.getFirstPropertyValue('method'), 'REQUEST');
    const event = new ICAL.Event(calendar.getFirstSubcomponent('vevent'));
    assert.equal(event.uid, `reunion-${meeting.id}@gouvernail`);
    assert.equal(event.sequence, 0);
    assert.equal(event.summary, 'Comité des partenaires — printemps');
    // 14:00 in Paris in March 2027 (winter time) is 13:00 UTC.
    assert.equal(event.startDate.toJSDate().toISOString(), '2027-03-11T13:00:00.000Z');
    assert.equal(event.endDate.toJSDate().toISOString(), '2027-03-11T15:30:00.000Z');
    assert.equal(event.location, 'Ministère, salle Jean Zay');
    assert.equal(event.organizer, 'mailto:karim.benali@canope.test', 'the secretary organises');
    assert.equal(event.attendees.length, 3);
  }
  // Sending again queues nothing new.
  assert.equal((await api('POST', `/api/v1/reunions/${meeting.id}/invitations`)).envoyees, 0);

  // Moved by a day: an update with the next sequence.
  const current = await api('GET', `/api/v1/reunions/${meeting.id}`);
  const moved = await api('PATCH', `/api/v1/reunions/${meeting.id}`, {
    version: current.version,
    debut: '2027-03-12T14:00',
    fin: '2027-03-12T16:30',
  });
  assert.equal(moved.sequence, 1);
  const afterUpdate = await sink.waitFor(6, 30_000);
  for (const message of afterUpdate.slice(3)) {
    assert.match(message.parsed.subject, /^Modification : /);
    const event = new ICAL.Event(calendarOf(message).getFirstSubcomponent('vevent'));
    assert.equal(event.uid, `reunion-${meeting.id}@gouvernail`);
    assert.equal(event.sequence, 1);
    assert.equal(event.startDate.toJSDate().toISOString(), '2027-03-12T13:00:00.000Z');
  }

  // Cancelled: CANCEL with the sequence after.
  await api('POST', `/api/v1/reunions/${meeting.id}/annulation`, { version: moved.version });
  const all = await sink.waitFor(9, 30_000);
  for (const message of all.slice(6)) {
    assert.match(message.parsed.subject, /^Annulation : /);
    const calendar = calendarOf(message);
    assert.equal(calendar.getFirstPropertyValue('method'), 'CANCEL');
    const vevent = calendar.getFirstSubcomponent('vevent');
    assert.equal(vevent.getFirstPropertyValue('status'), 'CANCELLED');
    assert.equal(new ICAL.Event(vevent).sequence, 2);
  }
  const ids = all.map((m) => m.parsed.messageId);
  assert.equal(new Set(ids).size, 9, 'no mail twice');
  await server.stop();
});
