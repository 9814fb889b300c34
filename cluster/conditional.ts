import type { Entry } from './entry.js';
import { DiststoreError } from './errors.js';
import { compareVersions, formatVersion, type Version } from './version.js';

/**
 * Conditional writes (compare-and-set, put-if-absent). They are decided on one master, the
 * decider, so two racing writers cannot both win: the check and the store happen there in
 * one turn of its event loop.
 */
export type Condition = { ifVersion: Version } | { ifAbsent: true };

/** A conditional write lost: the key's current version is not what the writer expected. */
export class ConflictError extends DiststoreError {
  readonly code = 'conflict';

  constructor(readonly current: Version | undefined) {
    super(current ? `the key is at version ${formatVersion(current)}` : 'the key does not exist');
  }
}

/** Throws ConflictError unless `current` (the decider's readable entry) meets the condition. */
export function checkCondition(current: Entry | undefined, condition: Condition): void {
  const held = current && !current.deleted ? current.version : undefined;
  if ('ifAbsent' in condition) {
    if (held) throw new ConflictError(held);
    return;
  }
  if (!held || compareVersions(held, condition.ifVersion) !== 0) throw new ConflictError(held);
}

/** The deciding master: the first ready one in the sorted set. */
export function decider(
  masters: readonly string[],
  isReady: (id: string) => boolean,
): string | undefined {
  return masters.find(isReady);
}
