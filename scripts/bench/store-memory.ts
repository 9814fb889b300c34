// Usage: node --expose-gc --import tsx scripts/bench/store-memory.ts [--count N]
// Fills one in-process Store with N entries (default 1,000,000) the way the daemon does for
// POST /post-local: the form is parsed by readWriteForm, the entry made by makeEntry with a
// fresh clock version and kept with putPrimary. Prints heapUsed, RSS and external after a
// forced GC, against the raw key+value bytes. Exit codes: 0 measured, 2 usage.
import { makeEntry } from '../../cluster/entry.js';
import { Store } from '../../cluster/store.js';
import { HybridClock } from '../../cluster/version.js';
import { keyHash } from '../../cluster/wire.js';
import { readWriteForm } from '../../server/form.js';

const USAGE = 'usage: node --expose-gc --import tsx scripts/bench/store-memory.ts [--count N]';
const LIMITS = { maxKeyBytes: 1024, maxValueBytes: 1024 * 1024 };
const VALUE = 'v'.repeat(100);
const MiB = 1024 * 1024;

function parseCount(argv: string[]): number {
  if (argv.length === 0) return 1_000_000;
  const count = Number(argv[1]);
  if (argv[0] !== '--count' || argv.length !== 2 || !Number.isInteger(count) || count < 1) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  return count;
}

/** Memory after a full collection (run twice: the first may leave finalizable garbage). */
function settled(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    process.stderr.write(`store-memory: run node with --expose-gc\n${USAGE}\n`);
    process.exit(2);
  }
  gc();
  gc();
  return process.memoryUsage();
}

const count = parseCount(process.argv.slice(2));
const store = new Store({
  cacheTtlSeconds: 60,
  cacheMaxKeys: 0,
  cacheMaxBytes: 0,
  tombstoneTtlSeconds: 3600,
  hashKey: (key) => keyHash('bench', key),
  now: Date.now,
});
const clock = new HybridClock('bench-node');
const before = settled();
const started = performance.now();
let raw = 0;
for (let i = 0; i < count; i++) {
  const key = `k${String(i).padStart(7, '0')}`;
  const request = new Request('http://127.0.0.1/post-local', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `key=${key}&value=${VALUE}`,
  });
  const form = await readWriteForm(request, LIMITS);
  store.putPrimary(form.key, makeEntry(form.value, form.type, clock.next()));
  raw += Buffer.byteLength(key) + form.value.length;
}
const seconds = (performance.now() - started) / 1000;
const after = settled();
if (store.primaryCount !== count) throw new Error(`${count} written, ${store.primaryCount} held`);

const row = (name: string, bytes: number) =>
  `${name.padEnd(10)} ${(bytes / MiB).toFixed(1).padStart(8)} MiB  ${(bytes / raw).toFixed(2).padStart(5)}× raw  ${(bytes / count).toFixed(0).padStart(5)} B/entry`;
process.stdout.write(
  [
    `${count} entries in ${seconds.toFixed(1)} s; raw key+value ${(raw / MiB).toFixed(1)} MiB`,
    `empty store: rss ${(before.rss / MiB).toFixed(1)} MiB, heapUsed ${(before.heapUsed / MiB).toFixed(1)} MiB`,
    row('rss', after.rss),
    row('heapTotal', after.heapTotal),
    row('heapUsed', after.heapUsed),
    row('external', after.external),
    row('Δrss', after.rss - before.rss),
    '',
  ].join('\n'),
);
store.close();
