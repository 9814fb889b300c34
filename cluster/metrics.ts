import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * How often the event-loop delay histogram (nodejs_eventloop_lag_*) samples. prom-client's
 * 10 ms woke an idle node 100 times a second, 11–15 ms of CPU a second on the bench machine
 * (docs/performance.md); a stall shorter than this may now go unseen, a longer one is not.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * The node's Prometheus metrics, in a registry of its own (no global state, so several nodes
 * can live in one process). Process metrics are added only by the daemon.
 */
export class Metrics {
  readonly registry = new Registry();
  /** HTTP answers by route and status. */
  private readonly answered = new TwoLabelCounter(this.registry, {
    name: 'diststore_http_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['route', 'status'],
  });
  readonly httpRefused = new Counter({
    name: 'diststore_http_refused_total',
    help: 'Client HTTP requests refused before their route ran, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly lookups = new Counter({
    name: 'diststore_lookups_total',
    help: 'Cluster lookups for keys missing here, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly lookupSeconds = new Histogram({
    name: 'diststore_lookup_seconds',
    help: 'Time from who-has query to value fetched (or miss decided)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly whoHasQueries = new Counter({
    name: 'diststore_whohas_queries_total',
    help: 'who-has queries multicast by this node',
    registers: [this.registry],
  });
  readonly fetches = new Counter({
    name: 'diststore_fetches_total',
    help: 'Values fetched over HTTP from other nodes, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  /** Cluster packets by direction and kind: every node counts every packet it hears. */
  private readonly packets = new TwoLabelCounter(this.registry, {
    name: 'diststore_packets_total',
    help: 'Cluster packets sent and accepted, by direction and kind',
    labelNames: ['direction', 'kind'],
  });
  readonly idleCollections = new Counter({
    name: 'diststore_idle_collections_total',
    help: 'Full garbage collections run while the process was idle (README, "Memory after a burst")',
    registers: [this.registry],
  });
  readonly dataFileCompactions = new Counter({
    name: 'diststore_data_file_compactions_total',
    help: 'Data files rewritten in key order because they had grown loose (README, "Compaction of the data file")',
    registers: [this.registry],
  });
  readonly packetsDropped = new Counter({
    name: 'diststore_packets_dropped_total',
    help: 'Received packets ignored, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly internalRefused = new Counter({
    name: 'diststore_internal_requests_refused_total',
    help: 'Node-to-node requests refused by their signature, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly revalidations = new Counter({
    name: 'diststore_revalidations_total',
    help: 'Times this node stopped trusting its copies until each is checked against the masters, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly copyChecks = new Counter({
    name: 'diststore_copy_checks_total',
    help: 'Checks of every copy held against the masters after a revalidation, by outcome (current, overtaken by another lapse, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly versionsRefused = new Counter({
    name: 'diststore_versions_refused_total',
    help: 'Versions from other nodes refused as too far ahead of this clock, by path',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });
  readonly replicationSeconds = new Histogram({
    name: 'diststore_replication_seconds',
    help: 'Time for a write to be acknowledged by the masters',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
    registers: [this.registry],
  });
  readonly replicationFailures = new Counter({
    name: 'diststore_replication_failures_total',
    help: 'Replications to a master that failed',
    registers: [this.registry],
  });
  readonly elections = new Counter({
    name: 'diststore_elections_total',
    help: 'Master elections run by this node',
    registers: [this.registry],
  });
  readonly masterChanges = new Counter({
    name: 'diststore_master_changes_total',
    help: 'Master sets adopted by this node',
    registers: [this.registry],
  });
  readonly syncSeconds = new Histogram({
    name: 'diststore_sync_seconds',
    help: 'Duration of syncs from a surviving master',
    buckets: [0.01, 0.1, 0.5, 1, 3, 10, 30],
    registers: [this.registry],
  });
  readonly syncEntries = new Counter({
    name: 'diststore_sync_entries_total',
    help: 'Entries received by syncs and re-sends',
    registers: [this.registry],
  });

  /** RESP commands by name, counted in a plain map (see TwoLabelCounter). */
  private readonly respCalls = new Map<string, number>();
  private readonly respCommands = new Counter({
    name: 'diststore_resp_commands_total',
    help: 'RESP commands received, by command (known names only; others are "unknown")',
    labelNames: ['command'] as const,
    registers: [this.registry],
    collect: () => {
      this.respCommands.reset();
      for (const [command, count] of this.respCalls) this.respCommands.inc({ command }, count);
    },
  });
  readonly respRefusals = new Counter({
    name: 'diststore_resp_refusals_total',
    help: 'RESP commands refused, by reason (too large, bad key, no auth, unknown command…)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly respProtocolErrors = new Counter({
    name: 'diststore_resp_protocol_errors_total',
    help: 'RESP connections closed for a malformed stream',
    registers: [this.registry],
  });

  readonly restamps = new Counter({
    name: 'diststore_write_restamps_total',
    help: 'Writes stamped anew because a master already held a newer version of the key (a clock behind, or a write elsewhere first)',
    registers: [this.registry],
  });
  readonly withdrawn = new Counter({
    name: 'diststore_writes_withdrawn_total',
    help: "This node's writes answered with an error and then dropped here: stamped by its clock while it was wrong (too far ahead), so no master took them",
    registers: [this.registry],
  });
  readonly storageErrors = new Counter({
    name: 'diststore_storage_errors_total',
    help: 'Writes the data dir could not store, by reason (full: disk full, refused before lmdb; failed: lmdb failed a commit; collision: another key of its place, the start of its hash, is stored)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Registers the storage state gauge (1 for the current state), read at scrape time. */
  countStorage(read: () => string): void {
    new Gauge({
      name: 'diststore_storage_state',
      help: 'Whether this node can store writes: ok, full (until space is freed), failed (until restarted), memory (no data dir)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const now = read();
        for (const state of ['ok', 'full', 'failed', 'memory'])
          this.set({ state }, state === now ? 1 : 0);
      },
    });
  }

  /** Registers the clock offset gauge, read at scrape time (undefined: no other node heard). */
  countClockOffset(read: () => number | undefined): void {
    new Gauge({
      name: 'diststore_clock_offset_seconds',
      help: "This node's wall clock minus the median of the cluster's clocks (its own included), from announcements",
      registers: [this.registry],
      collect() {
        this.set(read() ?? 0);
      },
    });
  }

  /** Counts one RESP command; `command` must come from a fixed set (the command table). */
  countRespCommand(command: string): void {
    this.respCalls.set(command, (this.respCalls.get(command) ?? 0) + 1);
  }

  /** Registers the open RESP connections gauge, read at scrape time. */
  countRespConnections(read: () => number): void {
    new Gauge({
      name: 'diststore_resp_connections',
      help: 'Open RESP client connections',
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** Counts one HTTP answer. */
  countRequest(route: string, status: number): void {
    this.answered.add(route, status);
  }

  /** Counts one cluster packet sent or accepted. */
  countPacket(direction: 'in' | 'out', kind: string): void {
    this.packets.add(direction, kind);
  }

  /** Registers the tier-size gauges (entries and value bytes), read at scrape time. */
  countEntries(read: () => Record<'primary' | 'cached', { entries: number; bytes: number }>): void {
    for (const [name, help, field] of [
      ['diststore_entries', 'Entries held, by tier', 'entries'],
      ['diststore_entry_bytes', 'Value bytes held, by tier', 'bytes'],
    ] as const) {
      new Gauge({
        name,
        help,
        labelNames: ['tier'] as const,
        registers: [this.registry],
        collect() {
          const tiers = read();
          this.set({ tier: 'primary' }, tiers.primary[field]);
          this.set({ tier: 'cached' }, tiers.cached[field]);
        },
      });
    }
  }

  /**
   * Registers the memory gauges read at scrape time: the anonymous part of RSS (Linux), and
   * with a data dir its file and map sizes. RSS and the heap are among the process metrics.
   */
  countMemory(
    read: () => { anon: number | undefined; fileBytes?: number; mapBytes?: number },
  ): void {
    for (const [name, help, field] of [
      ['diststore_anon_memory_bytes', 'Resident memory no file backs (RssAnon)', 'anon'],
      ['diststore_data_file_bytes', "Size of the data dir's lmdb file in use", 'fileBytes'],
      ['diststore_data_map_bytes', "Size of the data dir's lmdb memory map", 'mapBytes'],
    ] as const) {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const value = read()[field];
          if (value === undefined) this.reset();
          else this.set(value);
        },
      });
    }
  }

  /** Adds Node's process metrics (CPU, memory, event loop); once per process. */
  collectProcessMetrics(): void {
    collectDefaultMetrics({
      register: this.registry,
      eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
    });
  }
}

/**
 * A counter of two labels counted in plain maps and handed to prom-client at scrape time: a
 * labelled `inc` hashes its labels each time, which on a get-local hit cost as much as
 * answering it, and every node counts every packet it hears.
 */
class TwoLabelCounter {
  private readonly counts = new Map<string, Map<string | number, number>>();

  constructor(
    registry: Registry,
    options: { name: string; help: string; labelNames: [string, string] },
  ) {
    const { counts } = this;
    const [outer, inner] = options.labelNames;
    new Counter({
      ...options,
      registers: [registry],
      collect() {
        this.reset();
        for (const [a, byInner] of counts) {
          for (const [b, count] of byInner) this.inc({ [outer]: a, [inner]: b }, count);
        }
      },
    });
  }

  add(a: string, b: string | number): void {
    let byInner = this.counts.get(a);
    if (!byInner) {
      byInner = new Map();
      this.counts.set(a, byInner);
    }
    byInner.set(b, (byInner.get(b) ?? 0) + 1);
  }
}
