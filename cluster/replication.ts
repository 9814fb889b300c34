import type { Logger } from 'pino';
import type { MasterSet } from './election.js';
import type { Entry } from './entry.js';
import type { Metrics } from './metrics.js';
import type { ReplicaAck } from './peer-client.js';
import type { Version } from './version.js';

export type WriteAcks = 'all' | 'one' | 'local';

/** The result of a write: its version and which masters hold it. */
export interface WriteResult {
  key: string;
  version: Version;
  masters: string[];
  lost: string[];
}

/** A write the masters did not all acknowledge as `--write-acks` requires. */
export class ReplicationError extends Error {
  constructor(readonly result: WriteResult) {
    super(`write of ${JSON.stringify(result.key)} was not acknowledged by the masters`);
    this.name = 'ReplicationError';
  }
}

/** What the write path needs of its node. */
export interface ReplicationContext {
  selfId: string;
  writeAcks: WriteAcks;
  /** Sends an entry to a master (batched with other writes to it, see ReplicaBatcher). */
  send(http: string, key: string, entry: Entry): Promise<ReplicaAck>;
  /** One direct health probe of a master. */
  probe(http: string): Promise<boolean>;
  metrics: Metrics;
  log: Logger;
  masters(): MasterSet;
  /** A master's HTTP address, if it is known. */
  httpOf(id: string): string | undefined;
  /** A master set named in an acknowledgement, to adopt if it is newer than ours. */
  heardSet(set: MasterSet, source: string): void;
  /** A master found dead by a failed write and a failed probe. */
  confirmedDead(id: string): void;
  /** Runs an election if a master is now missing. */
  reelect(): void;
}

/**
 * Sends an entry to every master but us. A master that fails is probed once; if confirmed
 * dead the set is re-elected and the write retried once on the new set before answering.
 */
export async function replicate(
  ctx: ReplicationContext,
  key: string,
  entry: Entry,
): Promise<WriteResult> {
  const started = performance.now();
  const acked = new Set<string>();
  const lost: string[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    if (ctx.masters().ids.includes(ctx.selfId)) acked.add(ctx.selfId);
    const failed: string[] = [];
    const targets = ctx.masters().ids.filter((id) => !acked.has(id));
    await Promise.all(
      targets.map(async (id) => {
        try {
          const http = ctx.httpOf(id);
          if (!http) throw new Error('unknown master');
          const ack = await ctx.send(http, key, entry);
          acked.add(id);
          ctx.heardSet({ epoch: ack.epoch, ids: ack.masters }, `ack from ${id}`);
        } catch (error) {
          ctx.metrics.replicationFailures.inc();
          ctx.log.warn({ master: id, err: String(error) }, 'replication to master failed');
          failed.push(id);
        }
      }),
    );
    if (enoughAcks(ctx, acked)) break;
    for (const id of failed) {
      const http = ctx.httpOf(id);
      if (http && (await ctx.probe(http))) continue;
      lost.push(id);
      ctx.log.warn({ master: id }, 'master confirmed dead by probe');
      ctx.confirmedDead(id);
    }
    ctx.reelect();
  }
  ctx.metrics.replicationSeconds.observe((performance.now() - started) / 1000);
  const masters = ctx.masters().ids.filter((id) => acked.has(id));
  const result = { key, version: entry.version, masters, lost };
  if (!enoughAcks(ctx, acked)) throw new ReplicationError(result);
  return result;
}

function enoughAcks(ctx: ReplicationContext, acked: Set<string>): boolean {
  const { ids } = ctx.masters();
  const held = ids.filter((id) => acked.has(id)).length;
  if (ctx.writeAcks === 'one') return held >= 1;
  return held === ids.length && held > 0;
}
