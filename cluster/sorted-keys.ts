/**
 * Keys held in insertion order (a Map's), walked in key order: a sorted copy, so that a SCAN
 * of many pages does not sort them for each page, and beside it the keys added since the copy
 * was made (told by `add`), merged in as the walk goes. A walk thus meets every key held when
 * it started (until this, a key added within a second before a SCAN could be missed). The
 * copy is made again once the keys added since outnumber a sixteenth of it. Keys gone since
 * are still listed: the caller checks each one it is given.
 */
export class SortedKeys {
  private sorted: string[] | undefined;
  /** Keys added since `sorted` was made; `addedSorted` says whether they are in order. */
  private added: string[] = [];
  private addedSorted = true;

  constructor(private readonly list: () => Iterable<string>) {}

  /** Tells of a key added to the list. */
  add(key: string): void {
    if (!this.sorted) return; // the copy, when made, will have it
    this.added.push(key);
    this.addedSorted = false;
    // Many keys added and no walk to make the copy again: let both go until the next walk.
    if (this.stale(this.sorted)) {
      this.sorted = undefined;
      this.added = [];
    }
  }

  /** The keys after `after` (all without it), in order, each once. */
  *after(after: string | undefined): Generator<string> {
    if (!this.sorted || this.stale(this.sorted)) {
      this.sorted = [...this.list()].sort();
      this.added = [];
      this.addedSorted = true;
    }
    if (!this.addedSorted) {
      this.added.sort();
      this.addedSorted = true;
    }
    const { sorted, added } = this;
    let i = after === undefined ? 0 : firstAfter(sorted, after);
    let j = after === undefined ? 0 : firstAfter(added, after);
    let previous: string | undefined;
    while (i < sorted.length || j < added.length) {
      const fromSorted =
        j >= added.length || (i < sorted.length && (sorted[i] as string) <= (added[j] as string));
      const key = (fromSorted ? sorted[i++] : added[j++]) as string;
      // A key removed and added again since the copy is in both.
      if (key !== previous) yield key;
      previous = key;
    }
  }

  /** Whether enough keys were added since `sorted` was made to make it again. */
  private stale(sorted: readonly string[]): boolean {
    return this.added.length > Math.max(REMADE_AFTER, sorted.length / 16);
  }
}

/** Keys added since the copy that never cause a new copy on their own. */
const REMADE_AFTER = 1024;

/** The index of the first of sorted `keys` greater than `after`. */
function firstAfter(keys: readonly string[], after: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}
