import { compareVersions, parseVersion } from '../../cluster/version.js';
import type { Fault, History, Op, Round } from './history.js';

/**
 * Judges a churn history (a pure function of it): acknowledged writes lost, time to agreement
 * after the last heal, stale reads and false 404s (each with the faults around it), and the
 * honest 503s counted apart. No write in the workload deletes, so after a key's first
 * acknowledged write a 404 for it is always false.
 */

/** A read that answered older than a write acknowledged before the read began. */
export interface Anomaly {
  kind: 'stale-read' | 'false-404';
  op: Op;
  /** The newest version acknowledged before the read began. */
  expected: string;
  /** The write that was acknowledged with it: which node took it, and when it answered. */
  expectedWrite: { node: number; start: number; end: number };
  /** A partition or cut was active at some time during the read. */
  inPartition: boolean;
  /**
   * Every write of the key acknowledged before the read was made during a partition or cut, on
   * its other side, and the read began before the heal: a false 404 then is the one the design
   * allows (README, "During a partition": that side's masters lack the key until the sides
   * meet).
   */
  acrossPartition: boolean;
  /** Any fault was active at some time during the read. */
  duringFault: boolean;
  /** The faults active during the read, described. */
  faultsActive: string[];
  /** The last fault undone before the read began, and how long before. */
  lastFaultEnded?: { fault: string; kind: Fault['kind']; agoMs: number };
}

/** A node that, at the end, does not hold a key's newest acknowledged write (or a later one). */
export interface LostWrite {
  key: string;
  node: number;
  expected: string;
  got: string;
  reason: 'missing' | 'older' | 'unknown-value';
}

export interface Counts {
  attempted: number;
  ok: number;
  /** Reads only: 404 answers (false or not). */
  notFound: number;
  /** 503: the node said it could not do it now (not ready, replication failed, lookup incomplete). */
  unavailable: number;
  /** Other error statuses. */
  failed: number;
  /** No answer: refused, reset or timed out (a killed, paused or cut node). */
  noAnswer: number;
}

export interface Report {
  seed: number;
  steps: number;
  writes: Counts;
  reads: Counts;
  /** Distinct keys whose newest acknowledged write some node lacks at the end. */
  lostKeys: number;
  /** Of those, keys whose newest acknowledged write no node holds at all (gone, not only unspread). */
  lostEverywhere: number;
  lost: LostWrite[];
  falseMisses: Anomaly[];
  staleReads: Anomaly[];
  figures: {
    staleInPartition: number;
    staleOutsidePartition: number;
    /** Of those, reads at most 1 s after a partition or cut healed (see justAfterHeal). */
    staleJustAfterHeal: number;
    /** Stale reads outside any fault, more than 1 s after the last fault was undone. */
    staleLateAfterFault: number;
    falseMissInPartition: number;
    falseMissOutsidePartition: number;
    /** Of the false 404s in partitions, those of keys written only on the other side. */
    falseMissAcrossPartition: number;
  };
  /**
   * From the last heal (or the last write's answer, if later) to the end of the first round
   * in which every node agreed; undefined: never. An upper bound: the round itself takes
   * `agreementRoundMs`.
   */
  agreementMs: number | undefined;
  agreementRoundMs: number | undefined;
  /** The first round already agreed: the figure is the round's own length, an upper bound. */
  agreedInFirstRound: boolean;
  /** What still disagreed in the last round polled (empty when it agreed). */
  disagreements: string[];
}

/** A fault in one line, for reports: `#3 partition {1,4} masters {1} 12.3–15.6 s`. */
export function describeFault(f: Fault): string {
  const set = (xs: number[]) => `{${xs.join(',')}}`;
  const masters = f.masters.length > 0 ? ` masters ${set(f.masters)}` : '';
  const s = (ms: number) => (ms / 1000).toFixed(1);
  return `#${f.step} ${f.kind} ${set(f.nodes)}${masters} ${s(f.start)}–${s(f.end)} s`;
}

/** Orders version strings; an unparseable one sorts before every real version. */
export function versionOrder(a: string | undefined, b: string | undefined): number {
  const [va, vb] = [a ? parseVersion(a) : undefined, b ? parseVersion(b) : undefined];
  if (!va || !vb) return va ? 1 : vb ? -1 : 0;
  return compareVersions(va, vb);
}

/** Judges a history. */
export function check(history: History): Report {
  const acked = ackedByKey(history.ops);
  const anomalies = history.ops
    .filter((op) => op.type === 'read')
    .flatMap((op) => judgeRead(op, acked.get(op.key) ?? [], history.faults));
  const staleReads = anomalies.filter((a) => a.kind === 'stale-read');
  const falseMisses = anomalies.filter((a) => a.kind === 'false-404');
  const last = history.rounds.at(-1);
  const lost = last ? lostWrites(last, acked, history.ops) : [];
  const agreeing = history.rounds.find((r) => disagreementsIn(r, history, acked).length === 0);
  return {
    seed: history.seed,
    steps: history.steps,
    writes: count(history.ops.filter((op) => op.type === 'write')),
    reads: count(history.ops.filter((op) => op.type === 'read')),
    lostKeys: new Set(lost.map((l) => l.key)).size,
    lostEverywhere: history.keys.filter(
      (key) => lost.filter((l) => l.key === key).length === history.nodeCount,
    ).length,
    lost,
    falseMisses,
    staleReads,
    figures: {
      staleInPartition: staleReads.filter((a) => a.inPartition).length,
      staleOutsidePartition: staleReads.filter((a) => !a.inPartition).length,
      staleJustAfterHeal: staleReads.filter(justAfterHeal).length,
      staleLateAfterFault: staleReads.filter(
        (a) => !a.duringFault && (a.lastFaultEnded?.agoMs ?? Number.POSITIVE_INFINITY) > 1000,
      ).length,
      falseMissInPartition: falseMisses.filter((a) => a.inPartition).length,
      falseMissOutsidePartition: falseMisses.filter((a) => !a.inPartition).length,
      falseMissAcrossPartition: falseMisses.filter((a) => a.acrossPartition).length,
    },
    agreementMs: agreeing ? Math.max(0, agreeing.end - settleFrom(history)) : undefined,
    agreementRoundMs: agreeing ? agreeing.end - agreeing.start : undefined,
    agreedInFirstRound: agreeing !== undefined && agreeing === history.rounds[0],
    disagreements: last ? disagreementsIn(last, history, acked) : ['no round was polled'],
  };
}

/**
 * Outside every fault, at most 1 s after a partition or cut was healed: the returning side may
 * not have heard the other yet (issue 13 bounds staleness after a heal at 1 s, not at 0).
 */
function justAfterHeal(a: Anomaly): boolean {
  const last = a.lastFaultEnded;
  return (
    !a.inPartition &&
    !a.duringFault &&
    last !== undefined &&
    last.agoMs <= 1000 &&
    (last.kind === 'partition' || last.kind === 'cut')
  );
}

/** When agreement can be asked for: the last heal, or the last write's answer if later. */
function settleFrom(history: History): number {
  const writes = history.ops.filter((op) => op.type === 'write');
  return Math.max(history.lastHeal, ...writes.map((op) => op.end));
}

/** Acknowledged writes (HTTP 200 with a version) per key. */
function ackedByKey(ops: Op[]): Map<string, Op[]> {
  const byKey = new Map<string, Op[]>();
  for (const op of ops) {
    if (op.type !== 'write' || op.status !== 200 || !op.version) continue;
    const list = byKey.get(op.key) ?? [];
    list.push(op);
    byKey.set(op.key, list);
  }
  return byKey;
}

/** The newest of `writes` by version (undefined for none). */
function newestOf(writes: Op[]): Op | undefined {
  let newest: Op | undefined;
  for (const w of writes) if (!newest || versionOrder(w.version, newest.version) > 0) newest = w;
  return newest;
}

function judgeRead(read: Op, acked: Op[], faults: Fault[]): Anomaly[] {
  if (read.status !== 200 && read.status !== 404) return [];
  const ackedBefore = acked.filter((w) => w.end < read.start);
  const before = newestOf(ackedBefore);
  if (!before?.version) return [];
  const stale = read.status === 200 && versionOrder(read.version, before.version) < 0;
  if (read.status === 200 && !stale) return [];
  const active = faults.filter((f) => f.start <= read.end && f.end >= read.start);
  const ended = faults.filter((f) => f.end < read.start).sort((a, b) => b.end - a.end)[0];
  return [
    {
      kind: read.status === 404 ? 'false-404' : 'stale-read',
      op: read,
      expected: before.version,
      expectedWrite: { node: before.node, start: before.start, end: before.end },
      inPartition: active.some((f) => f.kind === 'partition' || f.kind === 'cut'),
      acrossPartition: ackedBefore.every((w) => writtenAcross(w, read, faults)),
      duringFault: active.length > 0,
      faultsActive: active.map(describeFault),
      lastFaultEnded: ended
        ? {
            fault: describeFault(ended),
            kind: ended.kind,
            agoMs: Math.round(read.start - ended.end),
          }
        : undefined,
    },
  ];
}

/**
 * Whether `write` was made on the other side of a partition or cut from `read`'s node, one
 * that began before the write and was healed only after the read began.
 */
function writtenAcross(write: Op, read: Op, faults: Fault[]): boolean {
  return faults.some(
    (f) =>
      (f.kind === 'partition' || f.kind === 'cut') &&
      f.start <= write.start &&
      f.end >= read.start &&
      f.nodes.includes(write.node) !== f.nodes.includes(read.node),
  );
}

/** Nodes whose final answer lacks a key's newest acknowledged write. */
function lostWrites(round: Round, acked: Map<string, Op[]>, ops: Op[]): LostWrite[] {
  const lost: LostWrite[] = [];
  for (const o of round.observations) {
    const newest = newestOf(acked.get(o.key) ?? []);
    if (!newest?.version) continue;
    const base = { key: o.key, node: o.node, expected: newest.version };
    if (o.status === 404) lost.push({ ...base, got: '404', reason: 'missing' });
    if (o.status !== 200) continue;
    if (versionOrder(o.version, newest.version) < 0) {
      lost.push({ ...base, got: o.version ?? '', reason: 'older' });
    } else if (!ops.some((w) => w.type === 'write' && w.key === o.key && w.value === o.value)) {
      lost.push({
        ...base,
        got: `${o.version} ${JSON.stringify(o.value)}`,
        reason: 'unknown-value',
      });
    }
  }
  return lost;
}

/**
 * Why a round is not agreement: a node without an answer, nodes answering different versions
 * of a key, or all agreeing on a version older than the newest acknowledged. Empty: agreement.
 */
export function agreementProblems(
  round: Round,
  history: Pick<History, 'nodeCount' | 'keys' | 'ops'>,
): string[] {
  return disagreementsIn(round, history, ackedByKey(history.ops));
}

function disagreementsIn(
  round: Round,
  history: Pick<History, 'nodeCount' | 'keys'>,
  acked: Map<string, Op[]>,
): string[] {
  const problems: string[] = [];
  for (const key of history.keys) {
    const answers = round.observations.filter((o) => o.key === key);
    const newest = newestOf(acked.get(key) ?? [])?.version;
    const versions = new Set(answers.map((o) => (o.status === 200 ? o.version : `${o.status}`)));
    const unanswered = answers.filter((o) => o.status !== 200 && o.status !== 404);
    if (answers.length < history.nodeCount || unanswered.length > 0) {
      problems.push(`${key}: ${unanswered.map((o) => `node ${o.node} ${o.status}`).join(', ')}`);
    } else if (versions.size > 1) {
      problems.push(`${key}: ${answers.map((o) => `${o.node}=${o.version ?? 404}`).join(' ')}`);
    } else if (newest && answers.some((o) => versionOrder(o.version, newest) < 0)) {
      problems.push(`${key}: every node at ${answers[0]?.version ?? 404}, older than ${newest}`);
    }
  }
  return problems;
}

function count(ops: Op[]): Counts {
  return {
    attempted: ops.length,
    ok: ops.filter((o) => o.status === 200).length,
    notFound: ops.filter((o) => o.status === 404).length,
    unavailable: ops.filter((o) => o.status === 503).length,
    failed: ops.filter((o) => o.status !== 0 && ![200, 404, 503].includes(o.status)).length,
    noAnswer: ops.filter((o) => o.status === 0).length,
  };
}
