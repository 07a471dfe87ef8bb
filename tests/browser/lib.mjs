// Helpers for Gouvernail's browser tests: start the server binary, drive headless Chromium
// (playwright-core, the system's /usr/bin/chromium: no browser download), check accessibility
// with axe-core, and a tiny sequential test runner whose closing line is
// `browser: N passed, M failed`.

import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

import { AxeBuilder } from '@axe-core/playwright';
import { chromium } from 'playwright-core';

export { default as assert } from 'node:assert/strict';

/** Where the Chromium binary lives; `GOUVERNAIL_CHROMIUM` overrides it. */
export const CHROMIUM_PATH = process.env.GOUVERNAIL_CHROMIUM || '/usr/bin/chromium';

const READY_TIMEOUT_MS = 120_000;
const READY_POLL_MS = 250;
const STOP_GRACE_MS = 10_000;
const DEFAULT_TEST_TIMEOUT_MS = 180_000;

// Resources opened while a test runs (servers, browsers, temp dirs), closed after it even when
// the test forgot to or threw first.
let openResources = [];
const liveChildren = new Set();

/**
 * Registers `close` to run after the current test (in reverse order of registration), and
 * returns a function that runs it now, once: other helpers (e.g. `oidc-provider.mjs`) use it for
 * what they open.
 *
 * @param {() => (void|Promise<void>)} close
 * @returns {() => Promise<void>}
 */
export function track(close) {
  const entry = { close, done: false };
  openResources.push(entry);
  return async () => {
    if (entry.done) return;
    entry.done = true;
    await close();
  };
}

async function closeOpenResources() {
  const pending = openResources.reverse();
  openResources = [];
  for (const entry of pending) {
    if (entry.done) continue;
    entry.done = true;
    try {
      await entry.close();
    } catch (err) {
      console.log(`# cleanup failed: ${err?.message ?? err}`);
    }
  }
}

// Last resort: never leave a server behind when node exits.
process.on('exit', () => {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A fresh temporary directory, removed after the current test. */
export function tempDir(prefix = 'gouvernail-browser-') {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  track(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function isReady(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000), redirect: 'manual' });
    await res.arrayBuffer().catch(() => {});
    return res.status === 200;
  } catch {
    return false;
  }
}

// The demo database, loaded once per run and copied for each test that starts `demo` on a new
// SQLite file: loading the demo (referential, 6,000 schools, every slice) takes 15 s or more in
// a debug build, while `demo` on a loaded copy only checks that everything is there. The
// template is loaded without SMTP settings, so its queued mails wait for the test's server, as
// they would on a fresh load. `GOUVERNAIL_BROWSER_FRESH_DEMO=1` loads the demo in every test.
let demoTemplate = null;

function newSqliteFile(args) {
  if (args[0] !== 'demo' || process.env.GOUVERNAIL_BROWSER_FRESH_DEMO === '1') return null;
  const at = args.indexOf('--database');
  const url = at >= 0 ? String(args[at + 1]) : '';
  if (!url.startsWith('sqlite://')) return null;
  const file = url.slice('sqlite://'.length);
  return existsSync(file) ? null : file;
}

async function loadDemoTemplate(bin) {
  const dir = mkdtempSync(path.join(tmpdir(), 'gouvernail-demo-template-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'demo.sqlite');
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GOUVERNAIL_SMTP_')));
  const child = spawn(bin, ['demo', '--database', `sqlite://${file}`, '--listen', `127.0.0.1:${port}`], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  liveChildren.add(child);
  let err = '';
  child.stderr.on('data', (b) => {
    err += b;
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await isReady(`http://127.0.0.1:${port}/readyz`))) {
    if (child.exitCode !== null || Date.now() >= deadline) {
      child.kill('SIGKILL');
      throw new Error(`the demo template did not load:\n${err}`);
    }
    await sleep(READY_POLL_MS);
  }
  child.kill('SIGTERM');
  await exited;
  liveChildren.delete(child);
  return file;
}

/** Copies the run's demo database (loaded on first use) to `file` (and its WAL, if any). */
async function copyDemoTemplate(bin, file) {
  demoTemplate ??= loadDemoTemplate(bin);
  const template = await demoTemplate;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(template + suffix)) copyFileSync(template + suffix, file + suffix);
  }
}

/**
 * Starts `$GOUVERNAIL_BIN args… --listen 127.0.0.1:PORT` (the `--listen` is added unless `args`
 * already has one) and waits until `GET /readyz` answers 200. PORT is `port` when given (a port
 * the caller picked with `freePort()` beforehand, e.g. to put it in a redirect URI), else a free
 * one.
 *
 * @param {{args?: string[], env?: Record<string,string>, port?: number, readyPath?: string, timeoutMs?: number}} [opts]
 * @returns {Promise<{baseUrl: string, port: number, output: () => string, stop: () => Promise<void>, kill: (signal?: string) => Promise<void>}>}
 */
export async function startServer({
  args = [],
  env = {},
  port: wantedPort,
  readyPath = '/readyz',
  timeoutMs = READY_TIMEOUT_MS,
} = {}) {
  const bin = process.env.GOUVERNAIL_BIN;
  if (!bin) throw new Error('GOUVERNAIL_BIN is not set (path of the gouvernail binary)');

  let port;
  let fullArgs = [...args];
  const listenAt = fullArgs.indexOf('--listen');
  if (listenAt >= 0) {
    port = Number(String(fullArgs[listenAt + 1]).split(':').pop());
  } else {
    port = wantedPort ?? (await freePort());
    fullArgs.push('--listen', `127.0.0.1:${port}`);
  }
  const baseUrl = `http://127.0.0.1:${port}`;

  const demoFile = newSqliteFile(fullArgs);
  if (demoFile) await copyDemoTemplate(bin, demoFile);

  const child = spawn(bin, fullArgs, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);

  const chunks = [];
  const collect = (buf) => {
    chunks.push(buf);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const output = () => Buffer.concat(chunks).toString('utf8');

  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      liveChildren.delete(child);
      resolve();
    });
  });
  let spawnError = null;
  child.on('error', (err) => {
    spawnError = err;
  });

  const stop = track(async () => {
    if (exitInfo === null && !spawnError) {
      child.kill('SIGTERM');
      const timer = sleep(STOP_GRACE_MS).then(() => 'timeout');
      if ((await Promise.race([exited.then(() => 'exited'), timer])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    }
  });

  const describe = () => `${bin} ${fullArgs.join(' ')}`;
  const fail = async (why) => {
    await stop();
    const out = output().trimEnd();
    console.log(`# server output (${describe()}):\n${out ? out.replace(/^/gm, '#   ') : '#   (none)'}`);
    throw new Error(`server did not become ready: ${why}`);
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) await fail(`cannot start ${bin}: ${spawnError.message}`);
    if (exitInfo) await fail(`exited early (code ${exitInfo.code}, signal ${exitInfo.signal})`);
    if (await isReady(baseUrl + readyPath)) break;
    if (Date.now() >= deadline) await fail(`no 200 from ${readyPath} within ${timeoutMs / 1000} s`);
    await sleep(READY_POLL_MS);
  }

  /** Sends `signal` (SIGKILL by default: a crash) and waits until the process has ended. */
  const kill = async (signal = 'SIGKILL') => {
    if (exitInfo === null && !spawnError) {
      child.kill(signal);
      await exited;
    }
  };

  return { baseUrl, port, output, stop, kill };
}

/**
 * Headless Chromium (the system's, no download); closed after the current test.
 *
 * Its `newPage()` opens each page in a context of its own (`browser.newContext()` then
 * `context.newPage()`), since axe needs a context that can open a helper page, which a page from
 * Playwright's plain `browser.newPage()` cannot.
 */
export async function launchBrowser(options = {}) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
    ...options,
  });
  track(() => browser.close());
  browser.newPage = async (contextOptions = {}) => {
    const context = await browser.newContext(contextOptions);
    const page = await context.newPage();
    page.once('close', () => {
      context.close().catch(() => {});
    });
    return page;
  };
  return browser;
}

/** Formats axe violations for a human. */
export function formatViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .slice(0, 10)
        .map((n) => `      - ${n.target.join(' ')}\n        ${(n.failureSummary ?? '').replace(/\n/g, '\n        ')}`)
        .join('\n');
      const more = v.nodes.length > 10 ? `\n      … and ${v.nodes.length - 10} more` : '';
      return `  [${v.impact ?? 'n/a'}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n${nodes}${more}`;
    })
    .join('\n');
}

/**
 * Runs axe (WCAG 2.0/2.1 A and AA rules) on the page and returns its violations, printing them.
 *
 * @param {import('playwright-core').Page} page
 * @param {{include?: string|string[], exclude?: string|string[], disableRules?: string[], quiet?: boolean}} [opts]
 */
export async function checkA11y(page, { include, exclude, disableRules, quiet = false } = {}) {
  let builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']);
  if (include) builder = builder.include(include);
  if (exclude) builder = builder.exclude(exclude);
  if (disableRules?.length) builder = builder.disableRules(disableRules);
  const { violations } = await builder.analyze();
  if (violations.length && !quiet) {
    console.log(`# axe: ${violations.length} violation(s) on ${page.url()}`);
    console.log(formatViolations(violations).replace(/^/gm, '# '));
  }
  return violations;
}

/** Fails when axe finds any WCAG 2.1 A/AA violation on the page. */
export async function assertAccessible(page, opts = {}) {
  const violations = await checkA11y(page, { ...opts, quiet: true });
  if (violations.length) {
    throw new Error(`${violations.length} accessibility violation(s) on ${page.url()}:\n${formatViolations(violations)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Test runner

const tests = [];

/**
 * Registers a test. `fn` may use `startServer`, `launchBrowser`, `tempDir`: whatever it opened
 * is closed once it ends.
 *
 * @param {string} name
 * @param {() => Promise<void>} fn
 * @param {{timeout?: number}} [opts] timeout in ms (default 180 s)
 */
export function test(name, fn, { timeout = DEFAULT_TEST_TIMEOUT_MS } = {}) {
  tests.push({ name, fn, timeout });
}

async function withTimeout(promise, ms, name) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test "${name}" timed out after ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

function formatError(err) {
  const text = err instanceof Error ? (err.stack ?? err.message) : inspect(err);
  return text.replace(/^/gm, '#   ');
}

/** Runs the registered tests one after another; prints `browser: N passed, M failed`. */
export async function run() {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    const started = Date.now();
    try {
      await withTimeout(Promise.resolve().then(t.fn), t.timeout, t.name);
      await closeOpenResources();
      passed += 1;
      console.log(`ok - ${t.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (err) {
      await closeOpenResources();
      failed += 1;
      console.log(`not ok - ${t.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      console.log(formatError(err));
    }
  }
  if (tests.length === 0) console.log('# no test was registered');
  console.log(`browser: ${passed} passed, ${failed} failed`);
  if (failed > 0 || tests.length === 0) process.exitCode = 1;
  return { passed, failed };
}
