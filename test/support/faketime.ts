import { existsSync } from 'node:fs';
import { skipUnless } from './require-tool.js';

/** libfaketime (Debian's faketime), preloaded into a node to move its wall clock. */
const MULTIARCH = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
const LIBFAKETIME = `/usr/lib/${MULTIARCH}/faketime/libfaketime.so.1`;

/** Why clock tests cannot run here (pass it as a describe's `skip`), or undefined. */
export const SKIP_WITHOUT_FAKETIME = skipUnless(
  'CLOCK TESTS',
  'apt-get install faketime',
  existsSync(LIBFAKETIME) ? undefined : `missing ${LIBFAKETIME}`,
);

/** A node's environment with its wall clock moved by `offset` (libfaketime's "+1h", "-1h"). */
export function clockMovedBy(offset: string): Record<string, string> {
  return {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME: offset,
    // Timers keep real time: only the wall clock is wrong, as on a machine whose NTP failed.
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

/**
 * A node's environment with its wall clock moved by what `file` says ("+1h"; "+0" puts it
 * right), read again every second: a test fixes the clock of a running node as NTP would.
 */
export function clockMovedByFile(file: string): Record<string, string> {
  return {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: file,
    FAKETIME_CACHE_DURATION: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}
