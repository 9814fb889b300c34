import { splitInline } from './inline-args.js';

/** What the guard lets through, refuses, or finds broken in a client's byte stream. */
export interface FrameGuardOptions {
  /** Largest bulk string a command may carry; a larger one is refused unread. */
  maxBulkBytes: number;
  /** Largest sum of the bulk strings of one command. */
  maxCommandBytes: number;
  /** Well-formed multibulk bytes, in order: for redis-parser. */
  onBytes(bytes: Buffer): void;
  /** An inline command (`PING\r\n`, what telnet sends), already split into arguments. */
  onInline(args: Buffer[]): void;
  /** A command refused for its size (one bulk string's, or all of them); never buffered. */
  onRefused(bulkBytes: number, commandBytes: number): void;
  /** A malformed stream: nothing after it can be trusted, the connection must close. */
  onFatal(message: string): void;
}

/** Redis's own bounds: a bulk of 512 MB, 1 M arguments, 64 KB inline requests. */
const PROTO_MAX_BULK = 512 * 1024 * 1024;
const PROTO_MAX_ARGS = 1024 * 1024;
const INLINE_MAX = 64 * 1024;
/** The longest `*<count>` or `$<length>` line a client can send. */
const HEADER_MAX = 32;
const CR = 13;
const LF = 10;

type Mode = 'top' | 'element' | 'body';

/**
 * Reads only the framing of the request stream (`*<n>` and `$<len>` lines; bodies are
 * counted, not copied) so that a bulk string over the limit is refused from its declared
 * length before a byte of it is buffered, and a malformed stream is caught before it reaches
 * redis-parser (which parses replies and trusts its peer). Inline commands, which
 * redis-parser cannot read, are split here.
 */
export class FrameGuard {
  private mode: Mode = 'top';
  /** A header or inline line cut by the end of a chunk (bounded by INLINE_MAX). */
  private partial: Buffer | undefined;
  private elementsLeft = 0;
  private bodyLeft = 0;
  private commandBytes = 0;
  /** The command being read was refused: its remaining bytes are skipped. */
  private skipping = false;
  private dead = false;

  constructor(
    private readonly options: FrameGuardOptions,
    /** Drops what redis-parser holds of a command that is then refused. */
    private readonly resetParser: () => void,
  ) {}

  /** Scans one chunk from the socket, calling back in stream order. */
  push(chunk: Buffer): void {
    if (this.dead) return;
    let data = chunk;
    if (this.partial) {
      data = Buffer.concat([this.partial, chunk]);
      this.partial = undefined;
    }
    const end = data.length;
    let i = 0;
    // Start of the bytes not yet handed to the parser; -1 while skipping a refused command.
    let pass = this.skipping ? -1 : 0;
    // End of the last command read whole in this chunk: what may still be answered on a fault.
    let complete = 0;
    // Where the command being read began in this chunk (-1: in an earlier chunk).
    let commandStart = -1;
    const flush = (upTo: number) => {
      if (pass >= 0 && upTo > pass) {
        this.options.onBytes(data.subarray(pass, upTo));
        pass = upTo;
      }
    };
    while (i < end) {
      if (this.mode === 'body') {
        if (this.bodyLeft > 2) {
          const n = Math.min(this.bodyLeft - 2, end - i);
          i += n;
          this.bodyLeft -= n;
          continue;
        }
        if (data[i] !== (this.bodyLeft === 2 ? CR : LF)) {
          this.fatal(flush, complete, 'bad bulk end');
          return;
        }
        i++;
        if (--this.bodyLeft === 0 && this.elementDone()) {
          complete = i;
          if (pass < 0) pass = i;
        }
        continue;
      }
      const newline = data.indexOf(LF, i);
      const limit = this.mode === 'top' && data[i] !== 0x2a ? INLINE_MAX : HEADER_MAX;
      if (newline < 0 || newline - i > limit) {
        if (end - i > limit) {
          this.fatal(
            flush,
            complete,
            limit === INLINE_MAX ? 'too big inline request' : 'too long length line',
          );
          return;
        }
        flush(i);
        this.partial = Buffer.from(data.subarray(i));
        return;
      }
      if (this.mode === 'top') {
        if (data[i] !== 0x2a) {
          flush(i);
          const args = splitInline(data.subarray(i, newline));
          if (args === undefined) {
            this.fatal(flush, i, 'unbalanced quotes in request');
            return;
          }
          if (args.length > 0) this.options.onInline(args);
          i = newline + 1;
          pass = i;
          complete = i;
          continue;
        }
        const count = headerNumber(data, i + 1, newline);
        if (count === undefined || count > PROTO_MAX_ARGS) {
          this.fatal(flush, i, 'invalid multibulk length');
          return;
        }
        commandStart = i;
        i = newline + 1;
        // `*0` and `*-1` are no command; redis-parser turns them into an empty array or null.
        if (count <= 0) {
          complete = i;
          continue;
        }
        this.mode = 'element';
        this.elementsLeft = count;
        this.commandBytes = 0;
        continue;
      }
      // mode 'element': every element of a request is a bulk string.
      if (data[i] !== 0x24) {
        this.fatal(flush, complete, `expected '$', got '${String.fromCharCode(data[i] ?? 0)}'`);
        return;
      }
      const length = headerNumber(data, i + 1, newline);
      if (length === undefined || length < 0 || length > PROTO_MAX_BULK) {
        this.fatal(flush, complete, 'invalid bulk length');
        return;
      }
      i = newline + 1;
      this.commandBytes += length;
      if (
        !this.skipping &&
        (length > this.options.maxBulkBytes || this.commandBytes > this.options.maxCommandBytes)
      ) {
        // Everything before this command goes to the parser; what it holds of this one is
        // dropped, and the rest of it is counted past, not kept.
        flush(commandStart >= 0 ? commandStart : pass);
        this.resetParser();
        pass = -1;
        this.skipping = true;
        this.options.onRefused(length, this.commandBytes);
      }
      this.mode = 'body';
      this.bodyLeft = length + 2;
    }
    flush(end);
  }

  /** One bulk string read whole; true when it was its command's last. */
  private elementDone(): boolean {
    if (--this.elementsLeft > 0) {
      this.mode = 'element';
      return false;
    }
    this.mode = 'top';
    this.skipping = false;
    return true;
  }

  /** Commands read whole before the fault are still answered; then the stream is given up. */
  private fatal(flush: (upTo: number) => void, complete: number, message: string): void {
    flush(complete);
    this.dead = true;
    this.partial = undefined;
    this.resetParser();
    this.options.onFatal(`Protocol error: ${message}`);
  }
}

/** The integer of a `*<n>\r\n` or `$<n>\r\n` line (digits and an optional minus sign). */
function headerNumber(data: Buffer, from: number, newline: number): number | undefined {
  const end = data[newline - 1] === CR ? newline - 1 : newline;
  if (end <= from) return undefined;
  let sign = 1;
  let at = from;
  if (data[at] === 0x2d) {
    sign = -1;
    at++;
    if (at === end) return undefined;
  }
  let value = 0;
  for (; at < end; at++) {
    const digit = (data[at] as number) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return sign * value;
}
