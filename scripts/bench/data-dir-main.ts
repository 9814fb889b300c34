// Usage: node --import tsx scripts/bench/data-dir-main.ts [KEYS]   (npm run bench:data-dir)
// The bench's data-dir step alone (default 10,000,000 entries; it needs the compiled daemon
// and about 1 KB of disk per entry, twice): a node started on a filled data dir, its memory,
// random reads and a new master's sync from it. Prints the rows, writes
// bench-data-dir.json. Exit codes: 0 measured, 1 a step failed, 2 usage.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dataDirNode } from './data-dir.js';
import { daemonBuilt } from './fleet.js';
import { childrenOutput, killAllOnExit, run } from './processes.js';
import { dataDirNodeRows, renderTable } from './report.js';

const USAGE = 'usage: node --import tsx scripts/bench/data-dir-main.ts [KEYS]';
const OUT = fileURLToPath(new URL('../../bench-data-dir.json', import.meta.url));

async function main(): Promise<void> {
  const [arg, ...rest] = process.argv.slice(2);
  const keys = arg === undefined ? 10_000_000 : Number(arg);
  if (rest.length > 0 || !Number.isInteger(keys) || keys < 1) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  killAllOnExit();
  if (!daemonBuilt()) throw new Error('dist/server/main.js is missing: run npm run build');
  const revision = (
    await run('git', ['describe', '--always', '--dirty'], { timeoutMs: 5000 })
  ).trim();
  const started = new Date().toISOString();
  const result = await dataDirNode(keys);
  process.stdout.write(
    `diststore data-dir step of ${revision}, ${started}\n\n${renderTable(dataDirNodeRows(result))}\n`,
  );
  writeFileSync(OUT, `${JSON.stringify({ revision, started, ...result }, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `\ndata-dir step failed: ${error instanceof Error ? error.message : error}\n`,
    );
    process.stderr.write(`${childrenOutput()}\n`);
    process.exit(1);
  },
);
