import { statfsSync } from 'node:fs';

/** What is left on a data dir's file system, as statfs counts it for an unprivileged user. */
export type FreeBytes = (dir: string) => number;

const statfsFree: FreeBytes = (dir) => {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
};

/** Room kept free below every write: lmdb's own pages (branches, free list, metadata). */
const RESERVE_BYTES = 1024 * 1024;
/** What one write may cost lmdb beyond its record: the copied pages on the path to its leaf. */
const PAGES_PER_WRITE = 16 * 1024;
/** How long a figure from statfs is trusted while there is plenty of room. */
const TRUST_MS = 1000;

/**
 * Keeps lmdb from ever running out of disk. lmdb-js 3.5 cannot recover from a commit that
 * failed with ENOSPC: the failure rejects promises nobody holds, the next write corrupts its
 * heap and aborts the process, and close() never returns (measured on a 3 MB tmpfs). So a write
 * is refused before lmdb sees it unless the file system has room for it and a reserve; room is
 * counted down by each write and asked of statfs again when it runs low or grows old, so that
 * space freed by the operator is seen at the next write.
 */
export class DiskSpace {
  private free = 0;
  private checkedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly dir: string,
    private readonly now: () => number = () => performance.now(),
    private readonly freeBytes: FreeBytes = statfsFree,
  ) {}

  /** Takes room for a record of `bytes`; false (nothing taken) when the disk lacks it. */
  take(bytes: number): boolean {
    const need = bytes + PAGES_PER_WRITE;
    if (this.free - need < RESERVE_BYTES || this.now() - this.checkedAt > TRUST_MS) this.check();
    if (this.free - need < RESERVE_BYTES) return false;
    this.free -= need;
    return true;
  }

  /** Whether there is room for a record of `bytes` now (statfs asked again). */
  hasRoom(bytes: number): boolean {
    this.check();
    return this.free - bytes - PAGES_PER_WRITE >= RESERVE_BYTES;
  }

  /** Bytes free on the file system at the last check. */
  get lastFree(): number {
    return this.free;
  }

  private check(): void {
    this.free = this.freeBytes(this.dir);
    this.checkedAt = this.now();
  }
}
