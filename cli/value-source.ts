import { readFile } from 'node:fs/promises';
import { usageError } from './errors.js';
import type { Value } from './node-client.js';

/** Where a post's value may come from, as the user gave it. */
export interface ValueSource {
  /** The `[value]` argument; `-` means standard input. */
  argument: string | undefined;
  /** `--file PATH`; `-` means standard input. */
  file?: string | undefined;
  /** `--type`: the content type the value is stored with. */
  type?: string | undefined;
}

/** The streams a value may be read from, and where to say so. */
export interface ValueIo {
  stdin: AsyncIterable<unknown> & { isTTY?: boolean };
  stderr: { write(chunk: string): unknown };
}

// Bytes of unknown kind: the receiver must not guess an encoding.
const BYTES_TYPE = 'application/octet-stream';

/**
 * The value to post: the argument, else the file, else standard input. An argument is sent as
 * text unless `--type` names its type; file and stdin bytes are sent untouched, as a file part.
 */
export async function readValue(source: ValueSource, io: ValueIo): Promise<Value> {
  const { argument, file, type } = source;
  if (argument !== undefined && file !== undefined) {
    throw usageError('give the value as an argument or with --file, not both');
  }
  if (argument !== undefined && argument !== '-') {
    return type === undefined ? { text: argument } : { bytes: Buffer.from(argument), type };
  }
  if (file !== undefined && file !== '-') {
    return { bytes: await readPath(file), type: type ?? BYTES_TYPE };
  }
  if (io.stdin.isTTY) {
    // A forgotten value would otherwise look like a hang.
    io.stderr.write('diststore: reading the value from standard input; end it with Ctrl-D\n');
  }
  return { bytes: await readAll(io.stdin), type: type ?? BYTES_TYPE };
}

/** Reads a --file; one that cannot be read is a bad argument, named in the message. */
async function readPath(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw usageError(`cannot read --file ${JSON.stringify(path)}: ${reason}`, error);
  }
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}
