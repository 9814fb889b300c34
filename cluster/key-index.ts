/**
 * Key hash → key, so a who-has query (which names only the hash) can be answered. Held by a
 * 30-bit number taken from the hash rather than by the hash string: a million 26-char hash
 * strings cost ~50 MB, small integers nothing. Keys whose numbers collide share a slot, and
 * every hit is confirmed by hashing the key again.
 */
export class KeyIndex {
  /** Slot number → the key, or the keys when several share the slot. */
  private readonly slots = new Map<number, string | string[]>();

  /** `hashKey` is the key's hash as who-has queries name it. */
  constructor(private readonly hashKey: (key: string) => string) {}

  /** Indexes a key (a no-op when it is already indexed). */
  add(key: string): void {
    const slot = slotOf(this.hashKey(key));
    const held = this.slots.get(slot);
    if (held === undefined) this.slots.set(slot, key);
    else if (typeof held === 'string') {
      if (held !== key) this.slots.set(slot, [held, key]);
    } else if (!held.includes(key)) held.push(key);
  }

  /** Forgets a key (a no-op when it is not indexed). */
  remove(key: string): void {
    const slot = slotOf(this.hashKey(key));
    const held = this.slots.get(slot);
    if (held === key) this.slots.delete(slot);
    else if (Array.isArray(held)) {
      const left = held.filter((other) => other !== key);
      this.slots.set(slot, left.length === 1 ? (left[0] as string) : left);
    }
  }

  /** The indexed key whose hash is `hash`, if any. */
  find(hash: string): string | undefined {
    const held = this.slots.get(slotOf(hash));
    if (held === undefined) return undefined;
    for (const key of typeof held === 'string' ? [held] : held) {
      if (this.hashKey(key) === hash) return key;
    }
    return undefined;
  }
}

/**
 * The slot a hash falls in: FNV-1a of its chars, cut to 30 bits so that it is a small integer
 * (no heap number) in every V8 build.
 */
export function slotOf(hash: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < hash.length; i++) h = Math.imul(h ^ hash.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}
