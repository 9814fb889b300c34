import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether `given` is the client token, in time that does not depend on where they differ or on
 * how long `given` is: both are hashed first, so the comparison is of two equal-length digests.
 * Shared by every port that takes the client token (HTTP, RESP).
 */
export function tokenMatches(expected: string, given: string | Buffer | undefined): boolean {
  if (given === undefined) return false;
  // A string is hashed as UTF-8, a Buffer (a RESP AUTH argument) as its bytes.
  const digest = (text: string | Buffer) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive). */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}
