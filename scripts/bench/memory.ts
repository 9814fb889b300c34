import { setTimeout as sleep } from 'node:timers/promises';
import { BenchFleet, type BenchNode } from './fleet.js';
import { loadKeys } from './loader.js';
import type { Settings } from './settings.js';
import { VALUE } from './throughput.js';

/** One node's memory while it holds `entries` entries of `rawBytes` key and value bytes. */
export interface Memory {
  node: string;
  role: string;
  entries: number;
  rawBytes: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Memory outside the JS heap (Buffers: the values). */
  externalBytes: number;
}

/** Key and value bytes of `count` keys named by `key`, each with a 100-byte value. */
export function rawBytes(count: number, key: (i: number) => string): number {
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += Buffer.byteLength(key(i)) + VALUE.length;
  return bytes;
}

/** Reads a node's memory from its /metrics, after a pause for in-flight work to settle. */
export async function memoryOf(node: BenchNode, raw: number): Promise<Memory> {
  await sleep(2000);
  const metrics = await node.metrics();
  const status = await node.status();
  return {
    node: node.id,
    role: status.node.role,
    entries: status.store.primary + status.store.cached,
    rawBytes: raw,
    rssBytes: metrics.get('process_resident_memory_bytes') ?? 0,
    heapUsedBytes: metrics.get('nodejs_heap_size_used_bytes') ?? 0,
    externalBytes: metrics.get('nodejs_external_memory_bytes') ?? 0,
  };
}

export interface LoadedMemory {
  keys: number;
  loadSeconds: number;
  memory: Memory;
}

/** A single node loaded with `settings.memoryKeys` keys through POST /post-local. */
export async function loadedNodeMemory(settings: Settings): Promise<LoadedMemory> {
  const keys = settings.memoryKeys;
  const key = (i: number) => `m-${i}`;
  const fleet = await BenchFleet.start(1);
  try {
    const node = fleet.node(0);
    const { seconds } = await loadKeys({
      port: node.port,
      path: '/post-local',
      count: keys,
      key,
      value: VALUE,
      concurrency: settings.loadConcurrency,
      deadlineMs: 30 * 60_000,
    });
    const memory = await memoryOf(node, rawBytes(keys, key));
    if (memory.entries !== keys) throw new Error(`${keys} keys loaded, ${memory.entries} held`);
    return { keys, loadSeconds: seconds, memory };
  } finally {
    await fleet.close();
  }
}
