import type { Member } from './membership.js';

/** The cluster's masters: sorted ids under an epoch that only grows. */
export interface MasterSet {
  readonly epoch: number;
  readonly ids: readonly string[];
  /**
   * Elected by a node that heard from a majority of the members it knew. A set elected by a
   * minority (a node cut off alone, the small side of a partition) serves that side, but
   * never wins over a majority's set when the sides meet again, whatever its epoch.
   */
  readonly quorum: boolean;
}

export const NO_MASTERS: MasterSet = { epoch: 0, ids: [], quorum: false };

/** How many masters a cluster keeps. */
export const MASTER_COUNT = 2;

/**
 * True when `a` should replace `b`: a majority's set over a minority's; then a higher epoch;
 * then the same epoch and a smaller sorted id list (a deterministic tie-break, so nodes that
 * elected at once converge on one set).
 */
export function isBetterSet(a: MasterSet, b: MasterSet): boolean {
  if (a.quorum !== b.quorum && a.epoch > 0 && b.epoch > 0) return a.quorum;
  if (a.epoch !== b.epoch) return a.epoch > b.epoch;
  return compareIdLists(a.ids, b.ids) < 0;
}

function compareIdLists(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * An election is needed only when a master is missing: none yet, a master not among the alive
 * members, or fewer than two while two nodes are alive; or when a minority's set finds itself
 * among a majority of the members known, heard lately (the rest were forgotten, or came back),
 * so that the same masters are elected again with a quorum. Key counts never trigger one.
 */
export function needsElection(
  set: MasterSet,
  alive: readonly Member[],
  known = alive.length,
  fresh = alive.length,
): boolean {
  if (alive.length === 0) return false;
  if (set.epoch > 0 && !set.quorum && fresh * 2 > known) return true;
  const aliveIds = new Set(alive.map((m) => m.id));
  if (set.ids.some((id) => !aliveIds.has(id))) return true;
  return set.ids.length < Math.min(MASTER_COUNT, alive.length);
}

/**
 * The next master set: surviving masters stay (masters are sticky), the rest is filled from
 * alive members by key count (most first), then id. Epoch + 1. `known` is how many members
 * the electing node knows of, alive or not (those that said goodbye aside): the set has a
 * quorum when more than half of them were heard lately (`fresh`, Membership.freshCount).
 */
export function electMasters(
  set: MasterSet,
  alive: readonly Member[],
  known = alive.length,
  fresh = alive.length,
): MasterSet {
  const aliveIds = new Set(alive.map((m) => m.id));
  const survivors = set.ids.filter((id) => aliveIds.has(id));
  const candidates = alive
    .filter((m) => !survivors.includes(m.id))
    .sort((a, b) => b.keys - a.keys || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ids = [...survivors, ...candidates.map((m) => m.id)].slice(0, MASTER_COUNT).sort();
  return { epoch: set.epoch + 1, ids, quorum: fresh * 2 > known };
}
