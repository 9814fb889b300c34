import { waitFor } from '../../test/support/wait-for.js';
import { BenchFleet } from './fleet.js';
import { loadKeys } from './loader.js';
import { type Memory, memoryOf, rawBytes } from './memory.js';
import type { Settings } from './settings.js';
import { VALUE } from './throughput.js';

export interface SyncResult {
  keys: number;
  /** Writing the keys through POST /post on one of two masters. */
  loadSeconds: number;
  /** diststore_sync_seconds and diststore_sync_entries_total of the new master. */
  seconds: number;
  entries: number;
  entriesPerSecond: number;
  /** From the SIGTERM of a master until the new master is seen ready (polled every 25 ms). */
  readyAfterSeconds: number;
  /** Both old masters before the SIGTERM, then the new master after its sync. */
  memory: Memory[];
}

/**
 * Two masters holding `settings.syncKeys` keys; a third node joins, one master is stopped
 * with SIGTERM, the newcomer is elected and streams every key from the surviving master.
 */
export async function syncNewMaster(settings: Settings): Promise<SyncResult> {
  const keys = settings.syncKeys;
  const key = (i: number) => `sync-${i}`;
  const raw = rawBytes(keys, key);
  const fleet = await BenchFleet.start(2);
  try {
    const [victim, survivor] = [fleet.node(0), fleet.node(1)];
    const { seconds: loadSeconds } = await loadKeys({
      port: victim.port,
      path: '/post',
      count: keys,
      key,
      value: VALUE,
      concurrency: settings.loadConcurrency,
      deadlineMs: 10 * 60_000,
    });
    const memory = [await memoryOf(victim, raw), await memoryOf(survivor, raw)];
    if (memory.some((m) => m.entries !== keys)) {
      throw new Error(`masters hold ${memory.map((m) => m.entries)} entries, not ${keys}`);
    }
    const newcomer = await fleet.add();
    await fleet.settled();
    const stopped = performance.now();
    victim.child.process.kill('SIGTERM');
    await waitFor(
      async () =>
        (await newcomer.metric('diststore_sync_seconds_count')) >= 1 &&
        (await newcomer.status()).node.state === 'ready',
      'the new master to finish its sync',
      120_000,
    );
    const readyAfterSeconds = (performance.now() - stopped) / 1000;
    await victim.child.exited;
    const seconds = await newcomer.metric('diststore_sync_seconds_sum');
    const entries = await newcomer.metric('diststore_sync_entries_total');
    memory.push(await memoryOf(newcomer, raw));
    return {
      keys,
      loadSeconds,
      seconds,
      entries,
      entriesPerSecond: entries / seconds,
      readyAfterSeconds,
      memory,
    };
  } finally {
    await fleet.close();
  }
}
