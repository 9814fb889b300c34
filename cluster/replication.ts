import type { Logger } from 'pino';
import type { Entry } from './entry.js';
import { ClockAheadError, DiststoreError, PeerError } from './errors.js';
import type { Mastership } from './mastership.js';
import type { Metrics } from './metrics.js';
import type { ReplicaAck, WriteAcks, WriteResult } from './protocol.js';
import { formatVersion, isNewer, parseVersion, type Version } from './version.js';

/** A write the masters did not all acknowledge as `--write-acks` requires. */
export class ReplicationError extends DiststoreError {
  readonly code = 'replication_failed';

  constructor(readonly result: WriteResult) {
    super(`write of ${JSON.stringify(result.key)} was not acknowledged by the masters`);
  }
}

/**
 * A master already held a newer version of the key than the write's (the writer's clock is
 * behind, or another write came first): the master did not apply it. The node stamps the
 * write above `held` and writes it again (DistNode.commit).
 */
export class WriteBehindError extends DiststoreError {
  readonly code = 'write_behind';

  constructor(
    readonly key: string,
    readonly held: Version,
  ) {
    super(
      `newer writes of ${JSON.stringify(key)} kept reaching the masters before this one; retry`,
    );
  }
}

/**
 * A master could not store the write (it answered 507): its disk is full, as a rule; or its
 * data dir failed, or holds another key in the key's place (StorageError says which, in that
 * master's log).
 */
export class MasterStorageError extends DiststoreError {
  readonly code = 'insufficient_storage';

  constructor(
    readonly result: WriteResult,
    /** The masters that could not store it. */
    readonly full: string[],
  ) {
    super(
      `write of ${JSON.stringify(result.key)} was not stored: master ${full.join(', ')} could not store it (a full disk, as a rule: its log says why)`,
    );
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
  /** The node's monotonic clock (Clock.monotonic), which members' `lastSeen` is on. */
  now(): number;
  metrics: Metrics;
  log: Logger;
  /**
   * The master set, and what a write teaches it: a set named in an acknowledgement
   * (`consider`), a master confirmed dead by a failed write and a failed probe (`forgetDead`),
   * then an election if one is missing (`maybeElect`).
   */
  mastership: Pick<Mastership, 'set' | 'httpOf' | 'consider' | 'forgetDead' | 'maybeElect'>;
}

/**
 * Sends an entry to every master but us. A master that fails is probed once; if confirmed
 * dead the set is re-elected and the write retried once on the new set before answering.
 */
export async function writeToMasters(
  ctx: ReplicationContext,
  key: string,
  entry: Entry,
): Promise<WriteResult> {
  const started = performance.now();
  /** When the write began, on the clock announcements are timed by (see forgetDead). */
  const sentAt = ctx.now();
  const acked = new Set<string>();
  const lost: string[] = [];
  const full = new Set<string>();
  /** Masters that refused the version as too far ahead of their clock (422 version_ahead). */
  const ahead = new Set<string>();
  let behind: Version | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    if (ctx.mastership.set.ids.includes(ctx.selfId)) acked.add(ctx.selfId);
    const failed: string[] = [];
    const targets = ctx.mastership.set.ids.filter((id) => !acked.has(id));
    await Promise.all(
      targets.map(async (id) => {
        try {
          const http = ctx.mastership.httpOf(id);
          if (!http) throw new Error(`master ${id} is not a known member`);
          const ack = await ctx.send(http, key, entry);
          const set = { epoch: ack.epoch, ids: ack.masters, quorum: ack.quorum === true };
          ctx.mastership.consider(set, `ack from ${id}`);
          const held = heldNewer(ack, key);
          if (held) behind = behind && isNewer(behind, held) ? behind : held;
          else acked.add(id);
        } catch (error) {
          ctx.metrics.replicationFailures.inc();
          ctx.log.warn({ master: id, err: error }, 'replication to master failed');
          // A full disk is an answer: the master is alive, and the write must not count as stored.
          if (error instanceof PeerError && error.status === 507) full.add(id);
          else if (error instanceof PeerError && error.status === 422) ahead.add(id);
          else failed.push(id);
        }
      }),
    );
    if (behind) throw new WriteBehindError(key, behind);
    if (enoughAcks(ctx, acked) || full.size > 0 || ahead.size > 0) break;
    const forgotten = lost.length;
    for (const id of failed) {
      const http = ctx.mastership.httpOf(id);
      if (http && (await ctx.probe(http))) continue;
      if (ctx.mastership.forgetDead(id, sentAt)) {
        lost.push(id);
        ctx.log.warn({ master: id }, 'master confirmed dead by probe');
      }
    }
    // Only a master this write found dead calls for an election here (the write is then
    // tried on the new set); otherwise it is tried once more on the same one. A master that
    // refused it (a request signed by a clock that jumped) is alive, and an election now
    // would make this node the master of a set of its own, acknowledging the write alone.
    if (lost.length > forgotten) ctx.mastership.maybeElect();
  }
  ctx.metrics.replicationSeconds.observe((performance.now() - started) / 1000);
  const masters = ctx.mastership.set.ids.filter((id) => acked.has(id));
  const result = { key, version: entry.version, masters, lost };
  if (full.size > 0 && !enoughAcks(ctx, acked)) throw new MasterStorageError(result, [...full]);
  if (ahead.size > 0 && !enoughAcks(ctx, acked)) {
    throw new ClockAheadError(
      `master ${[...ahead].join(', ')} refused version ${formatVersion(entry.version)}`,
    );
  }
  if (!enoughAcks(ctx, acked)) throw new ReplicationError(result);
  return result;
}

/** The version a master said it already held, newer than the one sent (ReplicaAck.behind). */
function heldNewer(ack: ReplicaAck, key: string): Version | undefined {
  const said = ack.behind?.find(([k]) => k === key)?.[1];
  return said === undefined ? undefined : parseVersion(said);
}

function enoughAcks(ctx: ReplicationContext, acked: Set<string>): boolean {
  const { ids } = ctx.mastership.set;
  const held = ids.filter((id) => acked.has(id)).length;
  if (ctx.writeAcks === 'one') return held >= 1;
  return held === ids.length && held > 0;
}
