import { createHash } from 'node:crypto';
import type { Version } from './version.js';

/** A stored value with its version; `hash` lets a reader check what it fetched. */
export interface Entry {
  readonly value: Buffer;
  readonly type: string;
  readonly version: Version;
  readonly hash: string;
  /** A tombstone: the key was deleted at `version` (the value is empty). */
  readonly deleted?: boolean;
  /** Wall-clock ms after which the entry is gone everywhere (a per-key TTL). */
  readonly expiresAt?: number;
}

/** Short content hash carried in who-has answers (128 bits, base64url). */
export function hashValue(value: Buffer): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}

/** Builds an entry, computing its hash. */
export function makeEntry(value: Buffer, type: string, version: Version): Entry {
  return { value, type, version, hash: hashValue(value) };
}
