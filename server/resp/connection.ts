import type { Socket } from 'node:net';
import RedisParser from 'redis-parser';
import type { Encoded, Reply, RespContext, Session } from './command.js';
import type { CommandTable } from './command-table.js';
import { FrameGuard } from './frame-guard.js';
import { error, type Protocol } from './reply.js';

/** Bounds that pause reading from a client that sends faster than it reads its answers. */
const MAX_PENDING = 4096;
const MAX_UNSENT_BYTES = 16 * 1024 * 1024;

/** A reply slot, filled when the command's promise settles (answers go out in order). */
interface Slot {
  reply: Encoded | undefined;
}

/**
 * One client connection: bytes → FrameGuard → redis-parser → commands → replies in order.
 * Replies ready at once are gathered and written once per chunk read (one write for a whole
 * pipeline); a reply that waits for the cluster holds back the ones after it.
 */
export class RespConnection implements Session {
  name: string | undefined;
  protocol: Protocol = 2;
  authed: boolean;
  lib = { name: '', version: '' };
  readonly createdAt = Date.now();
  lastCommandAt = this.createdAt;
  readonly remote: string;
  readonly local: string;
  /** Replies waiting for an earlier one; head first. */
  private queue: Slot[] = [];
  private head = 0;
  /** Replies ready to go out in this turn. */
  private out: Buffer[] = [];
  /** QUIT, a protocol error or a drain: answer what is pending, then close. */
  private closing = false;
  private paused = false;
  private readonly guard: FrameGuard;
  readonly closed: Promise<void>;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly table: CommandTable,
    private readonly context: RespContext,
  ) {
    this.authed = !context.clientToken;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.local = `${socket.localAddress}:${socket.localPort}`;
    const parser = new RedisParser({
      returnReply: (args: unknown) => this.command(args),
      returnError: () => {},
      returnFatalError: (e) => this.fatal(e.message),
      returnBuffers: true,
    });
    const { maxKeyBytes, maxValueBytes } = context.limits;
    const maxBulkBytes = Math.max(maxKeyBytes, maxValueBytes);
    this.guard = new FrameGuard(
      {
        maxBulkBytes,
        maxCommandBytes: Math.max(64 * 1024 * 1024, 2 * maxBulkBytes),
        onBytes: (bytes) => parser.execute(bytes),
        onInline: (args) => this.command(args),
        onRefused: (bulkBytes, commandBytes) => {
          context.node.metrics.respRefusals.inc({ reason: 'value_too_large' });
          this.answer(
            error(
              bulkBytes > maxBulkBytes
                ? `ERR the value is ${bulkBytes} bytes; the limit is ${maxValueBytes}`
                : `ERR the command is over ${commandBytes - bulkBytes} bytes; too large`,
            ),
          );
        },
        onFatal: (message) => this.fatal(message),
      },
      () => parser.reset(),
    );
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      // Once per read, not per command: a pipeline's commands arrive together.
      this.lastCommandAt = Date.now();
      this.guard.push(chunk);
      this.flush();
    });
    socket.on('drain', () => this.resumeIfRoom());
    socket.on('error', (e) => context.log.debug({ err: e, client: this.remote }, 'RESP client'));
  }

  quit(): void {
    this.closing = true;
  }

  /** Stops reading; answers what was already asked, then closes (at shutdown). */
  drain(): void {
    this.closing = true;
    this.socket.pause();
    this.flush();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private command(args: unknown): void {
    // `*0` and `*-1` are no command; after QUIT or a fault nothing more is read.
    if (this.closing || !Array.isArray(args) || args.length === 0) return;
    this.answer(this.table.execute(args as Buffer[], this, this.context));
  }

  private answer(reply: Reply): void {
    if (!(reply instanceof Promise)) {
      if (this.head === this.queue.length) this.emit(reply);
      else this.queue.push({ reply });
      return;
    }
    const slot: Slot = { reply: undefined };
    this.queue.push(slot);
    reply.then(
      (buffer) => {
        slot.reply = buffer;
        this.flush();
      },
      // execute() turns errors into replies; this is only a safety net.
      () => {
        slot.reply = error('ERR internal error');
        this.flush();
      },
    );
    if (this.queue.length - this.head > MAX_PENDING) this.pause();
  }

  /** Writes every reply that is ready, in order; closes once all is answered when closing. */
  private flush(): void {
    while (this.head < this.queue.length) {
      const reply = this.queue[this.head]?.reply;
      if (reply === undefined) break;
      this.emit(reply);
      this.head++;
    }
    if (this.head === this.queue.length && this.head > 0) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > MAX_PENDING) {
      // A client that always has a reply pending never empties the queue: the answered
      // slots (and their replies) would pile up for as long as it stays connected.
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.out.length > 0 && !this.socket.destroyed) {
      const out = this.out;
      this.out = [];
      this.socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
      if (this.socket.writableLength > MAX_UNSENT_BYTES) this.pause();
    }
    if (this.closing && this.head === this.queue.length) this.socket.end();
    else this.resumeIfRoom();
  }

  /** Adds a reply to what the next write sends. */
  private emit(reply: Encoded): void {
    if (Array.isArray(reply)) for (const part of reply) this.out.push(part);
    else this.out.push(reply);
  }

  private fatal(message: string): void {
    if (this.closing) return;
    this.context.node.metrics.respProtocolErrors.inc();
    this.context.log.debug({ client: this.remote, message }, 'RESP protocol error');
    this.answer(error(`ERR ${message}`));
    this.closing = true;
    this.socket.pause();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private resumeIfRoom(): void {
    if (!this.paused || this.closing) return;
    if (this.queue.length - this.head > MAX_PENDING / 2) return;
    if (this.socket.writableLength > MAX_UNSENT_BYTES / 2) return;
    this.paused = false;
    this.socket.resume();
  }
}
