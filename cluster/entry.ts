import { hash } from 'node:crypto';
import type { Version } from './version.js';

/** A stored value with its version. */
export interface Entry {
  readonly value: Buffer;
  readonly type: string;
  readonly version: Version;
  /** A tombstone: the key was deleted at `version` (the value is empty). */
  readonly deleted?: boolean;
  /** Wall-clock ms from which the entry is gone everywhere (a per-key TTL). */
  readonly expiresAt?: number;
}

/**
 * Short content hash carried in who-has answers (128 bits, base64url), so a reader can check
 * what it fetched. Computed when asked rather than stored: 1 M stored hashes cost ~100 MB.
 */
export function hashValue(value: Buffer): string {
  return hash('sha256', value, 'base64url').slice(0, 22);
}

/**
 * Whether a content type may be stored: printable text of at most 255 bytes, since it goes back
 * out as a header.
 */
export function isStorableType(type: string): boolean {
  return /^[\x20-\x7e]{0,255}$/.test(type);
}

/** Builds an entry; tombstone and expiry are kept only when set. */
export function makeEntry(
  value: Buffer,
  type: string,
  version: Version,
  extra: { deleted?: boolean; expiresAt?: number | undefined } = {},
): Entry {
  const entry: { -readonly [K in keyof Entry]: Entry[K] } = { value, type, version };
  if (extra.deleted) entry.deleted = true;
  if (extra.expiresAt !== undefined) entry.expiresAt = extra.expiresAt;
  return entry;
}

/** A tombstone: the record that a key was deleted at `version`. */
export function makeTombstone(version: Version): Entry {
  return makeEntry(Buffer.alloc(0), '', version, { deleted: true });
}

/** The same write under a later version; a TTL keeps its length from the new version. */
export function restamp(entry: Entry, version: Version): Entry {
  const expiresAt =
    entry.expiresAt === undefined ? undefined : entry.expiresAt + version.wall - entry.version.wall;
  return makeEntry(entry.value, entry.type, version, { deleted: entry.deleted, expiresAt });
}
