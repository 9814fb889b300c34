import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Whether `command` (a path, or a name looked up in PATH) is an executable file. */
export function hasTool(command: string): boolean {
  const candidates = isAbsolute(command)
    ? [command]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, command));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * For tests that need a program from a Debian package: returns `false` when `command` is
 * there, else prints one loud line naming the test part and the package to install and
 * returns that line, to pass as node:test's `skip` option. With DISTSTORE_TEST_REQUIRE_ALL=1
 * (CI) a missing program is an error instead: nothing is skipped silently there.
 *
 *   const skip = requireTool('RESP tests with redis-cli', '/usr/bin/redis-cli', 'redis-tools');
 *   test('…', { skip }, async () => { … });
 */
export function requireTool(part: string, command: string, aptPackage: string): string | false {
  if (hasTool(command)) return false;
  const line = `${part}: ${command} is missing, so it is SKIPPED (apt-get install ${aptPackage})`;
  if (process.env.DISTSTORE_TEST_REQUIRE_ALL === '1') {
    throw new Error(`${line.replace('SKIPPED', 'required')}; DISTSTORE_TEST_REQUIRE_ALL=1`);
  }
  process.stderr.write(`\n!!!!! ${line}\n\n`);
  return line;
}
