import { readFileSync } from 'node:fs';

/** What this process's memory is made of, in bytes (see /status and /metrics). */
export interface ProcessMemory {
  rss: number;
  /**
   * Resident memory no file backs (the heap, Buffers, lmdb's write buffers): what the kernel
   * cannot drop under pressure, unlike the data dir's mapped pages. Linux only.
   */
  anon: number | undefined;
  heapUsed: number;
  /** Memory of Buffers and other objects outside the JS heap. */
  external: number;
}

export function processMemory(): ProcessMemory {
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, anon: rssAnon(), heapUsed, external };
}

/** RssAnon from /proc/self/status, undefined where there is no such file. */
function rssAnon(): number | undefined {
  try {
    const match = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
