// An SMTP server for the tests (smtp-server), on 127.0.0.1, that keeps every message it
// accepts, parsed by mailparser. It can be stopped and started again on the same port, to play
// an outage of the platform's SMTP server.

import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort, track } from './lib.mjs';

/**
 * A sink on `port` (a free one by default), closed after the current test.
 *
 * With `user` and `password`, clients must authenticate (PLAIN or LOGIN, over plain text: the
 * sink offers no STARTTLS); without them, no authentication is offered. With `listen: false`,
 * the port is chosen but nothing listens on it until `start()`.
 *
 * Each message is `{raw, parsed, envelope: {mailFrom, rcptTo}, user}`: `raw` the bytes as
 * received (a string), `parsed` mailparser's result, `user` the authenticated user.
 *
 * @param {{port?: number, user?: string, password?: string, listen?: boolean}} [opts]
 */
export async function startSink({ port, user, password, listen = true } = {}) {
  const sinkPort = port ?? (await freePort());
  const messages = [];
  let server = null;

  function makeServer() {
    return new SMTPServer({
      secure: false,
      name: 'sink.gouvernail.test',
      banner: 'Gouvernail test sink',
      disabledCommands: user ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      authOptional: !user,
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      // Stopping cuts the open connections at once (a pooled client holds one).
      closeTimeout: 100,
      onAuth(auth, _session, callback) {
        if (auth.username === user && auth.password === password) {
          callback(null, { user: auth.username });
        } else {
          callback(new Error('Invalid username or password'));
        }
      },
      onData(stream, session, callback) {
        const chunks = [];
        stream.on('data', (chunk) => chunks.push(chunk));
        stream.on('error', callback);
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw).then(
            (parsed) => {
              messages.push({
                raw: raw.toString('utf8'),
                parsed,
                envelope: {
                  mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
                  rcptTo: session.envelope.rcptTo.map((r) => r.address),
                },
                user: session.user ?? null,
              });
              callback();
            },
            (err) => callback(err),
          );
        });
      },
    });
  }

  /** Listens on the sink's port (again). */
  async function start() {
    if (server) return;
    const next = makeServer();
    await new Promise((resolve, reject) => {
      next.once('error', reject);
      next.listen(sinkPort, '127.0.0.1', () => {
        next.off('error', reject);
        resolve();
      });
    });
    // Errors of client connections are the client's business: keep listening.
    next.on('error', () => {});
    server = next;
  }

  /** Stops listening and cuts the open connections; the messages received are kept. */
  async function stop() {
    if (!server) return;
    const closing = server;
    server = null;
    await new Promise((resolve) => closing.close(resolve));
  }

  /** Waits until at least `count` messages have arrived; returns them. */
  async function waitFor(count, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (messages.length < count) {
      if (Date.now() >= deadline) {
        throw new Error(`SMTP sink: ${messages.length} message(s) after ${timeoutMs / 1000} s, ${count} expected`);
      }
      await sleep(100);
    }
    return messages;
  }

  if (listen) await start();
  track(stop);
  return { port: sinkPort, messages, start, stop, waitFor, listening: () => server !== null };
}
