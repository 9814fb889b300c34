#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliError, EXIT } from './errors.js';
import { buildProgram, type Io } from './program.js';

/**
 * The diststore entry point: runs one command against one node and exits with a code a
 * script can branch on (see `diststore --help`).
 */
async function run(argv: string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    // commander has already printed its message (or the help) through `io`.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof CliError) {
      io.stderr.write(`diststore: ${error.message}\n`);
      return error.exitCode;
    }
    // A bug, not an answer: say so with the stack instead of claiming "not found" (node's 1).
    io.stderr.write(`diststore: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT.failed;
  }
}

// A reader that stops early (`diststore get k | head -c 10`) is not an error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

// exitCode rather than exit(): stdout, possibly a pipe, drains before the process ends.
process.exitCode = await run(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
