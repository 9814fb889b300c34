import type { Entry } from './entry.js';

/** Slots of the doorkeeper for each entry kept (see HotEntries). */
const SEEN_SLOTS_PER_ENTRY = 4;

/**
 * Entries last read, kept decoded, so that a hot key is read without decoding it again (from
 * lmdb's record, or from the heap's packed string). Bounded by count and by the size of a
 * value kept; the oldest kept leaves first. The entries are shared: nobody changes an Entry.
 *
 * An entry is kept from the second read of its key in a while, not the first (a doorkeeper,
 * as in TinyLFU): under reads of keys each read once, every entry kept lived through the next
 * thousand reads, long enough to reach V8's old generation, and left it as garbage. 100,000
 * random reads of a 300,000-entry data dir grew the heap to 44 MiB keeping every entry, 25 MiB
 * keeping none (measured in-process).
 */
export class HotEntries {
  private readonly entries = new Map<string, Entry>();
  /** A fingerprint of the key read last in each slot; 0: none. No allocation per read. */
  private readonly seen: Int32Array;

  constructor(
    private readonly maxEntries: number,
    private readonly maxValueBytes: number,
  ) {
    this.seen = new Int32Array(Math.max(1, maxEntries * SEEN_SLOTS_PER_ENTRY));
  }

  get(key: string): Entry | undefined {
    return this.entries.get(key);
  }

  /** Keeps an entry just decoded for `key`, if its value is small enough and read before. */
  keep(key: string, entry: Entry): void {
    if (entry.value.length > this.maxValueBytes || !this.readBefore(key)) return;
    if (this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(key, entry);
  }

  /** Forgets `key` (its entry changed or is gone). */
  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Whether `key` was read lately (its fingerprint is in its slot); notes it either way. */
  private readBefore(key: string): boolean {
    const hash = fnv1a(key);
    const slot = (hash >>> 0) % this.seen.length;
    const fingerprint = hash | 1; // never 0, an empty slot
    if (this.seen[slot] === fingerprint) return true;
    this.seen[slot] = fingerprint;
    return false;
  }
}

/** FNV-1a of a string's UTF-16 code units: cheap, and enough to tell keys apart in a slot. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash;
}
