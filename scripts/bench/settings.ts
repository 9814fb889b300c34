/** How much the bench measures: a full run, or the short smoke run CI executes. */
export interface Settings {
  mode: 'full' | 'quick';
  /** Rounds of every measurement but the 1 M memory step; the table shows their medians. */
  runs: number;
  /** Length of each measured wrk run, and of the unmeasured warm-up before it. */
  seconds: number;
  warmupSeconds: number;
  /** Keep-alive connections of the wrk runs. */
  connections: number;
  /** Distinct keys read one at a time from another node, after unmeasured warm-up reads. */
  remoteReads: number;
  warmupReads: number;
  /** Distinct keys nobody has, read one at a time. */
  absentReads: number;
  /** Simultaneous gets of one key on a node that lacks it. */
  concurrentGets: number;
  /** Keys a new master syncs; memory is also measured there. */
  syncKeys: number;
  /** Entries of the single-node memory step; 0 skips it. */
  memoryKeys: number;
  /** Entries of the data-dir step (a node started on a filled data dir); 0 skips it. */
  dataDirKeys: number;
  /** Requests in flight while loading keys. */
  loadConcurrency: number;
}

/** The full run whose table docs/performance.md shows. */
export function fullSettings(): Settings {
  return {
    mode: 'full',
    runs: 3, // a median that one disturbed run cannot move
    seconds: 10, // long enough for a steady rate, short enough for six runs
    warmupSeconds: 3, // JIT and connection set-up stay out of the numbers
    connections: 50, // the figure
    remoteReads: 5000,
    warmupReads: 200,
    absentReads: 5000,
    concurrentGets: 1000,
    syncKeys: 100_000,
    memoryKeys: 1_000_000,
    dataDirKeys: 1_000_000,
    loadConcurrency: 64,
  };
}

/** The smoke run (--quick): every step runs, briefly; CI checks that it runs, not its numbers. */
export function quickSettings(): Settings {
  return {
    ...fullSettings(),
    mode: 'quick',
    runs: 1,
    seconds: 2,
    warmupSeconds: 1,
    remoteReads: 500,
    warmupReads: 50,
    absentReads: 500,
    syncKeys: 10_000,
    memoryKeys: 0, // the 1 M step takes minutes
    dataDirKeys: 20_000,
  };
}
