import { randomInt } from 'node:crypto';
import type { ScanPosition, Store } from '../../cluster/store.js';

/** Cursors remembered at once; an older one starts its walk again (see page). */
const MAX_CURSORS = 10_000;

/**
 * SCAN over this node's keys. A cursor is a number standing for where a walk of the store
 * stopped (Store.scanKeys): pages cost what they hold, with no list of every key made (a data
 * dir's keys are walked in lmdb). Numbers start at a random offset, so that a cursor from
 * before a restart is unknown here rather than someone else's; an unknown cursor (that, or
 * one of more than 10,000 handed out since) starts the walk again: keys may then come twice,
 * which SCAN allows, but none held throughout is missed.
 */
export class KeyScan {
  private readonly cursors = new Map<number, ScanPosition>();
  private nextCursor = randomInt(1, 2 ** 47);

  constructor(private readonly store: Pick<Store, 'scanKeys'>) {}

  /** Up to `count` keys from `cursor` on (0: the start), and the cursor to go on from (0: done). */
  page(cursor: number, count: number): { next: number; keys: string[] } {
    const page = this.store.scanKeys(cursor === 0 ? undefined : this.cursors.get(cursor), count);
    if (!page.next) return { next: 0, keys: page.keys };
    const next = this.nextCursor++;
    this.cursors.set(next, page.next);
    if (this.cursors.size > MAX_CURSORS) {
      this.cursors.delete(this.cursors.keys().next().value as number);
    }
    return { next, keys: page.keys };
  }
}
