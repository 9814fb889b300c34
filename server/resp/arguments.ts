import { isUtf8 } from 'node:buffer';
import type { Limits } from '../limits.js';
import { err } from './resp-error.js';

/** A key argument as diststore takes it: UTF-8 text of 1 to maxKeyBytes bytes. */
export function keyArg(arg: Buffer | undefined, limits: Limits): string {
  if (arg === undefined || arg.length === 0) throw err('the key must not be empty', 'bad_key');
  if (arg.length > limits.maxKeyBytes) {
    throw err(`the key is ${arg.length} bytes; the limit is ${limits.maxKeyBytes}`, 'key_too_long');
  }
  // Keys are text everywhere else (URLs, /keys, who-has hashes); values are any bytes.
  if (!isUtf8(arg)) throw err('the key is not valid UTF-8', 'bad_key');
  return arg.toString('utf8');
}

/** A value argument: any bytes up to maxValueBytes. */
export function valueArg(arg: Buffer | undefined, limits: Limits): Buffer {
  const value = arg ?? Buffer.alloc(0);
  if (value.length > limits.maxValueBytes) {
    throw err(
      `the value is ${value.length} bytes; the limit is ${limits.maxValueBytes}`,
      'value_too_large',
    );
  }
  return value;
}

/** An integer argument, as Redis words its refusal. */
export function integerArg(arg: Buffer | undefined): number {
  const text = arg?.toString('latin1') ?? '';
  if (!/^-?\d{1,15}$/.test(text)) throw err('value is not an integer or out of range');
  return Number(text);
}

/** The argument as upper-case text, for option names. */
export function word(arg: Buffer | undefined): string {
  return arg === undefined ? '' : arg.toString('latin1').toUpperCase();
}
