import type { Logger } from 'pino';
import type { Freshness } from './freshness.js';
import type { Metrics } from './metrics.js';
import type { HeldVersion, Peers } from './protocol.js';
import type { Refusals } from './refusals.js';
import type { Store } from './store.js';

/** Keys sent in one request: a few hundred kB of JSON, far below the route's limit. */
const CHUNK = 2000;

export interface CopyCheckOptions {
  store: Store;
  freshness: Freshness;
  peers: Peers;
  /**
   * The HTTP addresses of the masters to ask; undefined when there is nothing to check now
   * (this node is a master, whose entries replication keeps current, or a master is unknown).
   */
  masters: () => string[] | undefined;
  refusals: Refusals;
  metrics: Metrics;
  log: Logger;
  now: () => number;
}

/**
 * After a lapse (Freshness: lost invalidations, a master set change, a stall), checks every
 * copy held here against the masters at once instead of one lookup per key as it is read:
 * each master is sent the keys and versions held and answers those it holds newer. Those are
 * marked stale (Store.invalidate: a copy dropped, a primary entry marked superseded) and all
 * the others are current again. A copy's staleness then lasts one round trip after the lapse
 * is noticed, not until somebody reads it. A check that fails (a master unreachable, syncing,
 * no longer one) is tried again on the next `run`: until then reads check key by key, as they
 * always could.
 */
export class CopyCheck {
  private running = false;

  constructor(private readonly options: CopyCheckOptions) {}

  /** Starts a check if copies wait for one and none is under way; never throws. */
  run(): void {
    const lapse = this.options.freshness.pendingLapse;
    const masters = this.options.masters();
    if (lapse === undefined || this.running || !masters) return;
    this.running = true;
    this.check(lapse, masters)
      .catch((error: unknown) => {
        this.options.metrics.copyChecks.inc({ outcome: 'failed' });
        this.options.log.info({ err: error }, 'copy check failed; it will be tried again');
      })
      .finally(() => {
        this.running = false;
        // A lapse that came while this check ran asked for a check then, and was turned away.
        const next = this.options.freshness.pendingLapse;
        if (next !== undefined && next !== lapse) this.run();
      });
  }

  private async check(lapse: number, masters: string[]): Promise<void> {
    const { store, freshness, peers, refusals, metrics, log, now } = this.options;
    const started = now();
    let checked = 0;
    let stale = 0;
    let chunk: HeldVersion[] = [];
    const send = async () => {
      const answers = await Promise.all(masters.map((http) => peers.newerThan(http, chunk)));
      for (const [key, version] of answers.flat()) {
        if (!refusals.admits('copy check', version, key)) continue;
        if (store.invalidate(key, version, true)) stale++;
      }
      checked += chunk.length;
      chunk = [];
    };
    // Taken from the store a chunk at a time: a copy kept while a chunk is out was fetched
    // from the cluster, or written through the masters, so it is current without a check.
    for (const held of store.versions()) {
      chunk.push(held);
      if (chunk.length < CHUNK) continue;
      await send();
      // Another lapse came: this check can no longer vouch for the copies; the next one will.
      if (freshness.pendingLapse !== lapse) break;
    }
    if (chunk.length > 0 && freshness.pendingLapse === lapse) await send();
    if (!freshness.checkedAll(lapse)) {
      metrics.copyChecks.inc({ outcome: 'overtaken' });
      return;
    }
    metrics.copyChecks.inc({ outcome: 'current' });
    log.info(
      { checked, stale, ms: Math.round(now() - started) },
      'copies checked against the masters; serving them again',
    );
  }
}
