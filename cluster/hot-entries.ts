import type { Entry } from './entry.js';

/**
 * Entries last read, kept decoded, so that a hot key is read without decoding it again (from
 * lmdb's record, or from the heap's packed string). Bounded by count and by the size of a
 * value kept; the oldest read leaves first. The entries are shared: nobody changes an Entry.
 */
export class HotEntries {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxValueBytes: number,
  ) {}

  get(key: string): Entry | undefined {
    return this.entries.get(key);
  }

  /** Keeps an entry just decoded for `key`, if its value is small enough. */
  keep(key: string, entry: Entry): void {
    if (entry.value.length > this.maxValueBytes) return;
    if (this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(key, entry);
  }

  /** Forgets `key` (its entry changed or is gone). */
  forget(key: string): void {
    this.entries.delete(key);
  }
}
