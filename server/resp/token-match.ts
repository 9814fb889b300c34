import { createHash, timingSafeEqual } from 'node:crypto';

// TODO(merge): use server/client-token.ts tokenMatches
/** Compares a given token with the expected one in constant time (digests of equal length). */
export function tokenMatches(expected: string, given: Buffer | string): boolean {
  const digest = (value: Buffer | string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(expected), digest(given));
}
