import { type ChildProcess, fork, type SpawnOptions, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every process the bench starts, so that all of them are killed when it ends: normally, on
 * failure, or on Ctrl-C. Nothing the bench starts may outlive it.
 */
const children = new Set<ChildProcess>();
/** The same, with their names and output, for the report of a failed run. */
const running = new Set<Child>();

/** The last bytes a child wrote, for the message when it dies unexpectedly. */
const OUTPUT_KEPT = 16 * 1024;

/** A child process with the tail of its output and a promise of its exit. */
export class Child {
  output = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    children.add(process);
    running.add(this);
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_KEPT);
    };
    process.stdout?.on('data', keep);
    process.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      process.once('exit', (code, signal) => {
        children.delete(process);
        running.delete(this);
        resolve(code ?? (signal ? 128 : null));
      }),
    );
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Sends `signal`, then SIGKILL if the process is still there after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 8000): Promise<void> {
    if (!this.running) return;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Starts a child that signals readiness over IPC with process.send('ready'). */
export async function forkReady(
  name: string,
  script: string,
  args: string[],
  execArgv: string[],
  timeoutMs = 20_000,
): Promise<Child> {
  const child = new Child(
    name,
    fork(script, args, { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} not ready after ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.process.once('message', (message) => {
        clearTimeout(timer);
        if (message === 'ready') resolve();
        else reject(new Error(`${name} said ${String(message)}`));
      });
      child.process.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code}:\n${child.output}`));
      });
    });
  } catch (error) {
    child.process.kill('SIGKILL');
    throw error;
  }
  return child;
}

/** Runs a command to its end (bounded by `timeoutMs`), returning its stdout. */
export async function run(
  command: string,
  args: string[],
  options: SpawnOptions & { timeoutMs: number },
): Promise<string> {
  const child = new Child(
    command,
    spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let stdout = '';
  child.process.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  const timer = setTimeout(() => child.process.kill('SIGKILL'), options.timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.process.once('error', reject);
    child.exited.then(resolve);
  });
  clearTimeout(timer);
  if (code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${child.output}`);
  return stdout;
}

/** The last lines each running child wrote: what a failed run shows. */
export function childrenOutput(lines = 15): string {
  return [...running]
    .map((c) => `--- ${c.name}:\n${c.output.trimEnd().split('\n').slice(-lines).join('\n')}`)
    .join('\n');
}

/**
 * Data dirs the bench made (see benchTempDir): removed when it ends however it ends, as a
 * signal's exit skips the `finally` that removes them otherwise (a run of 10 M entries stopped
 * by its timeout left 3 GB in /tmp).
 */
const tempDirs = new Set<string>();

/** A new directory under the system's temporary dir, removed at the latest when the bench ends. */
export function benchTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Kills every child still running, at once, and removes the bench's temporary dirs. */
export function killAll(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Kills every child when the bench exits, however it exits. */
export function killAllOnExit(): void {
  process.once('exit', killAll);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping everything it started\n`);
      killAll();
      process.exit(code);
    });
  }
}
