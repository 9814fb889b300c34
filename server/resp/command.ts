import type { Logger } from 'pino';
import type { DistNode } from '../../cluster/node.js';
import type { Limits } from '../limits.js';
import type { KeyScan } from './key-scan.js';
import type { Protocol } from './reply.js';

/** One client connection's state, as CLIENT and HELLO see and change it. */
export interface Session {
  readonly id: number;
  name: string | undefined;
  protocol: Protocol;
  authed: boolean;
  /** Library name and version a client said with CLIENT SETINFO. */
  lib: { name: string; version: string };
  readonly createdAt: number;
  lastCommandAt: number;
  readonly remote: string;
  readonly local: string;
  /** Answers what is pending, then closes the connection (QUIT). */
  quit(): void;
}

/** What every command may use: the node and the RESP server's own facts. */
export interface RespContext {
  node: DistNode;
  limits: Limits;
  /** When set, a client must AUTH before any command but AUTH, HELLO and QUIT. */
  clientToken: string | undefined;
  log: Logger;
  /** The port the RESP server listens on (INFO). */
  port(): number;
  startedAt: number;
  /** Every open connection (CLIENT LIST, INFO clients). */
  sessions(): Iterable<Session>;
  keyScan: KeyScan;
}

/**
 * A command's answer, encoded: one buffer, or parts to be written one after the other (a
 * value is then copied only into the write); a promise when the node has to ask the cluster.
 */
export type Encoded = Buffer | Buffer[];
export type Reply = Encoded | Promise<Encoded>;

/** An argument as COMMAND DOCS describes it (what redis-cli shows as hints). */
export interface ArgDoc {
  name: string;
  type: 'key' | 'string' | 'integer' | 'pattern' | 'pure-token' | 'oneof' | 'block';
  token?: string;
  optional?: boolean;
  multiple?: boolean;
  arguments?: ArgDoc[];
}

/** One command: how it is called, how COMMAND describes it, and what it does. */
export interface CommandSpec {
  /** Upper case, as looked up. */
  name: string;
  /** Redis's convention: n exactly n arguments (the name included), -n at least n. */
  arity: number;
  flags: string[];
  /** First key, last key (-1: the last argument), step; [0, 0, 0] when there is none. */
  keys: [number, number, number];
  group: string;
  summary: string;
  since: string;
  args: ArgDoc[];
  run(args: Buffer[], session: Session, context: RespContext): Reply;
}
