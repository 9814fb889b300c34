/**
 * Keys held in insertion order (a Map's), walked in key order: a sorted copy, made again when
 * it is a second old, so that a SCAN of many pages does not sort them for each page. A key
 * added since the copy was made may be missed by a walk; one held throughout is not.
 */
export class SortedKeys {
  private sorted: { at: number; keys: string[] } | undefined;

  constructor(private readonly list: () => Iterable<string>) {}

  /** The keys after `after` (all without it), in order, as of at most a second before `now`. */
  *after(after: string | undefined, now: number): Generator<string> {
    if (!this.sorted || now - this.sorted.at >= 1000) {
      this.sorted = { at: now, keys: [...this.list()].sort() };
    }
    const { keys } = this.sorted;
    for (let at = after === undefined ? 0 : firstAfter(keys, after); at < keys.length; at++) {
      yield keys[at] as string;
    }
  }
}

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
