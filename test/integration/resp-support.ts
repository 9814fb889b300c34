import { spawn } from 'node:child_process';
import net from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { waitFor } from '../support/wait-for.js';

/** Debian's redis-cli (package redis-tools). */
export const REDIS_CLI = '/usr/bin/redis-cli';

/** An ioredis client that fails fast instead of retrying forever (a test must end). */
export function ioredis(port: number, options: RedisOptions = {}): Redis {
  return new Redis({
    host: '127.0.0.1',
    port,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...options,
  });
}

/** Runs redis-cli against a port; its stdout, stderr and exit code. */
export function redisCli(
  port: number,
  args: string[],
  input?: string | Buffer,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    // 'close', not 'exit': at 'exit' the output may still be in the pipe, unread (redis-cli
    // --scan's keys were sometimes lost so, on a loaded machine).
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
    // redis-cli given its command as arguments may exit before reading its input: the pipe
    // closing under us (EPIPE) is no failure; its exit code and output say how it went.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** A raw TCP client for byte-level tests: what was received, and whether the server closed. */
export class RawClient {
  received = Buffer.alloc(0);
  closedByServer = false;
  private readonly socket: net.Socket;
  readonly ready: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closedByServer = true;
    });
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  /** Waits until what was received contains `expected`. */
  async receive(expected: string, timeoutMs = 5000): Promise<string> {
    await waitFor(
      () => this.text.includes(expected),
      `a reply with ${JSON.stringify(expected)}, got ${JSON.stringify(this.text)}`,
      timeoutMs,
    );
    return this.text;
  }

  /** Waits until the server has closed the connection. */
  async closed(timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.closedByServer, 'the server to close the connection', timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }
}
