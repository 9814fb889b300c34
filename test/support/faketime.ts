import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
 * A wall clock a test can step while its node runs, as NTP would: libfaketime reads the
 * offset ("+1h"; "+0" puts it right) from a file of its own every second.
 */
export class SteppableClock {
  private readonly dir = mkdtempSync(join(tmpdir(), 'diststore-clock-'));
  private readonly file = join(this.dir, 'offset');

  constructor(offset: string) {
    this.set(offset);
  }

  set(offset: string): void {
    writeFileSync(this.file, `${offset}\n`);
  }

  /** The environment of the node whose clock this is. */
  env(): Record<string, string> {
    return {
      LD_PRELOAD: LIBFAKETIME,
      FAKETIME_TIMESTAMP_FILE: this.file,
      FAKETIME_CACHE_DURATION: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
