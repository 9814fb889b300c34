import type { Entry } from './entry.js';
import type { ReceivedEntry } from './entry-codec.js';
import type { LocalData } from './local-data.js';
import type { Mastership } from './mastership.js';
import type { Metrics } from './metrics.js';
import type { ReplicaAck } from './protocol.js';
import type { Refusals } from './refusals.js';
import { compareVersions, formatVersion, isNewer } from './version.js';

/** What applying other nodes' entries needs of the node. */
export interface IncomingEntriesParts {
  data: LocalData;
  refusals: Refusals;
  metrics: Metrics;
  mastership: Mastership;
  /** A master announces a changed key, so older copies elsewhere are dropped. */
  invalidate(key: string, entry: Entry): void;
}

/**
 * Entries other nodes send this node: replicated writes (batched, see ReplicaBatcher) and
 * re-sends of a node's primary entries (after both masters were lost, a heal, a restart).
 * Each answer carries this node's master view, so a sender learns of a newer set.
 */
export class IncomingEntries {
  constructor(private readonly parts: IncomingEntriesParts) {}

  /** A batch of replicated writes, applied last-writer-wins; refused whole if one is ahead. */
  async replicas(entries: AsyncIterable<ReceivedEntry>): Promise<ReplicaAck> {
    const { data, refusals, mastership } = this.parts;
    // Read whole and checked before any is applied: a batch cut short or refused changes nothing.
    const batch: ReceivedEntry[] = [];
    for await (const item of entries) batch.push(item);
    for (const [key, entry] of batch) refusals.admitOrThrow('replicate', entry.version, key);
    // Judged against what was held before this batch: two writes of one key in it are in order.
    const held = new Map(batch.map(([key]) => [key, data.store.get(key)?.version]));
    const behind: [string, string][] = [];
    for (const [key, entry] of batch) {
      const version = held.get(key);
      if (version && isNewer(version, entry.version)) behind.push([key, formatVersion(version)]);
    }
    const applied = await Promise.all(
      batch.map(async ([key, entry, frame]) => {
        if (!(await data.keep(key, entry, frame))) return 0;
        if (mastership.isMaster) this.parts.invalidate(key, entry);
        return 1;
      }),
    );
    const count = applied.reduce<number>((sum, one) => sum + one, 0);
    return { applied: count, ...this.masterView(), ...(behind.length > 0 ? { behind } : {}) };
  }

  /**
   * A re-send, streamed. Where sender and this node disagree (they were apart), the newer
   * version is announced: older copies elsewhere, the sender's own included, are dropped, as
   * after a write; and the answer names the keys held here newer than sent (`newer`), so the
   * sender stops serving its own at once, invalidation lost or not.
   */
  async resent(entries: AsyncIterable<ReceivedEntry>): Promise<ReplicaAck> {
    const { data, metrics, mastership } = this.parts;
    const changed: [string, Entry][] = [];
    const newer: [string, string][] = [];
    const store = data.store;
    const noted = async function* () {
      for await (const item of entries) {
        const [key, entry] = item;
        const held = store.get(key);
        const order = held ? compareVersions(held.version, entry.version) : 0;
        if (held && order !== 0) changed.push([key, order > 0 ? held : entry]);
        if (held && order > 0) newer.push([key, formatVersion(held.version)]);
        yield item;
      }
    };
    const applied = await data.keepAll(noted());
    metrics.syncEntries.inc(applied);
    if (mastership.isMaster) for (const [key, entry] of changed) this.parts.invalidate(key, entry);
    return { applied, ...this.masterView(), newer };
  }

  private masterView() {
    const { epoch, ids, quorum } = this.parts.mastership.set;
    return { epoch, masters: [...ids], quorum };
  }
}
