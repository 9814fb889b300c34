import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Which parts of `npm test` can run on this machine. A part whose tools are missing is
 * skipped with one loud line naming it and the `apt-get install` that enables it, so
 * `npm test` passes on a machine with only Node and npm. Under DISTSTORE_TEST_REQUIRE_ALL=1
 * (set by .ci/run, which installs every tool) a missing tool fails the run instead: CI never
 * skips a part.
 */

/** The executable `command` names: itself if it is a path, else the first one on PATH. */
function found(command: string): boolean {
  const candidates = command.includes('/')
    ? [command]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, command));
  return candidates.some((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const announced = new Set<string>();

/**
 * Why `part` cannot run here, or undefined when it can: pass it as a describe's `skip`.
 * `why` is a reason found by another check (e.g. not root), or undefined.
 */
export function skipUnless(
  part: string,
  install: string,
  why: string | undefined,
): string | undefined {
  if (why === undefined) return undefined;
  if (process.env.DISTSTORE_TEST_REQUIRE_ALL === '1') {
    throw new Error(
      `${part} CANNOT RUN: ${why}; ${install} (DISTSTORE_TEST_REQUIRE_ALL=1 forbids skipping it)`,
    );
  }
  const line = `${part} SKIPPED: ${why}; to run it: ${install}`;
  if (!announced.has(part)) {
    announced.add(part);
    process.stderr.write(`\n*** ${line} ***\n\n`);
  }
  return line;
}

/** skipUnless for a part that needs these commands (names on PATH, or absolute paths). */
export function requireTools(
  part: string,
  commands: string[],
  aptPackages: string[],
): string | undefined {
  const missing = commands.filter((command) => !found(command));
  return skipUnless(
    part,
    `apt-get install ${aptPackages.join(' ')}`,
    missing.length > 0 ? `missing ${missing.join(', ')}` : undefined,
  );
}
