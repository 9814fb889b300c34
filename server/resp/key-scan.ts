/**
 * SCAN over this node's keys. The cursor is a position in key-hash order (hash + 1; 0 starts
 * and ends), so a key present for the whole iteration is returned whatever is added or
 * removed meanwhile, as Redis promises. Keys are listed and sorted at most once a second and
 * the sorted list reused by every SCAN in that second.
 */
export class KeyScan {
  private snapshot: { at: number; keys: string[]; hashes: Uint32Array } | undefined;

  constructor(
    private readonly listKeys: () => string[],
    private readonly now: () => number = Date.now,
  ) {}

  /** Up to about `count` keys from `cursor` on, and the cursor to continue from. */
  page(cursor: number, count: number): { next: number; keys: string[] } {
    const { keys, hashes } = this.sorted();
    let at = lowerBound(hashes, cursor - 1);
    const out: string[] = [];
    while (at < keys.length && out.length < count) {
      out.push(keys[at] as string);
      at++;
      // Keys of one hash are never split across pages: the cursor could not tell them apart.
      while (at < keys.length && hashes[at] === hashes[at - 1]) out.push(keys[at++] as string);
    }
    return { next: at < keys.length ? (hashes[at] as number) + 1 : 0, keys: out };
  }

  private sorted(): { keys: string[]; hashes: Uint32Array } {
    const now = this.now();
    if (this.snapshot && now - this.snapshot.at < 1000) return this.snapshot;
    const pairs = this.listKeys().map((key) => [hash32(key), key] as const);
    pairs.sort((a, b) => a[0] - b[0]);
    this.snapshot = {
      at: now,
      keys: pairs.map((p) => p[1]),
      hashes: Uint32Array.from(pairs, (p) => p[0]),
    };
    return this.snapshot;
  }
}

/** FNV-1a over the key's UTF-16 code units: cheap, and stable across runs and nodes. */
function hash32(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The first index whose hash is ≥ `value`. */
function lowerBound(hashes: Uint32Array, value: number): number {
  let low = 0;
  let high = hashes.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((hashes[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
