// Runs every tests/browser/*.test.mjs (in name order), or only the files whose name contains
// one of the command-line arguments: `node tests/browser/run.mjs home`.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { run } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => filters.length === 0 || filters.some((want) => f.includes(want)))
  .sort();

for (const file of files) {
  await import(pathToFileURL(path.join(here, file)).href);
}

await run();
// A test that timed out may still hold timers or sockets: do not wait for them.
process.exit(process.exitCode ?? 0);
