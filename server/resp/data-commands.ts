import { ConflictError } from '../../cluster/conditional.js';
import type { DistNode } from '../../cluster/node.js';
import { formatVersion } from '../../cluster/version.js';
import { walkBudgetSpent } from '../../cluster/walk-budget.js';
import { integerArg, keyArg, valueArg, word } from './arguments.js';
import type { ArgDoc, CommandSpec, RespContext } from './command.js';
import { globToRegExp } from './glob.js';
import { array, bulk, bulkArray, bulkParts, integer, nil, OK } from './reply.js';
import { err, syntaxError, wrongArity } from './resp-error.js';
import { parseSetOptions, type SetOptions } from './set-options.js';

/** Values written over RESP are bytes with no type of their own. */
const VALUE_TYPE = 'application/octet-stream';

const key: ArgDoc = { name: 'key', type: 'key' };
const keys: ArgDoc = { name: 'key', type: 'key', multiple: true };
const value: ArgDoc = { name: 'value', type: 'string' };
const expiry: ArgDoc = {
  name: 'expiration',
  type: 'oneof',
  optional: true,
  arguments: [
    { name: 'seconds', type: 'integer', token: 'EX' },
    { name: 'milliseconds', type: 'integer', token: 'PX' },
  ],
};
const condition: ArgDoc = {
  name: 'condition',
  type: 'oneof',
  optional: true,
  arguments: [
    { name: 'nx', type: 'pure-token', token: 'NX' },
    { name: 'xx', type: 'pure-token', token: 'XX' },
  ],
};

/** A string command's description for COMMAND; `keys` is [first, last, step]. */
function spec(
  name: string,
  arity: number,
  flags: string[],
  keySpec: [number, number, number],
  summary: string,
  args: ArgDoc[],
  run: CommandSpec['run'],
  group = 'string',
): CommandSpec {
  return { name, arity, flags, keys: keySpec, group, summary, since: '1.0.0', args, run };
}

/** SET with diststore's meaning: true when written, false when NX or XX said no. */
async function setValue(
  node: DistNode,
  key: string,
  value: Buffer,
  options: SetOptions,
): Promise<boolean> {
  const { ttlSeconds } = options;
  if (options.ifAbsent) {
    try {
      await node.write(key, value, VALUE_TYPE, { ttlSeconds, condition: { ifAbsent: true } });
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }
  if (options.ifExists) {
    // XX as a compare-and-set on the version read: a racing write makes it read again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await node.read(key);
      if (!current) return false;
      try {
        const condition = { ifVersion: current.version };
        await node.write(key, value, VALUE_TYPE, { ttlSeconds, condition });
        return true;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        if (!error.current) return false;
      }
    }
    throw err('the key changed three times while SET XX tried; try again', 'conflict');
  }
  await node.write(key, value, VALUE_TYPE, { ttlSeconds });
  return true;
}

/** Milliseconds a readable entry has left: -2 absent, -1 no expiry. */
async function msLeft(context: RespContext, arg: Buffer | undefined): Promise<number> {
  const entry = await context.node.read(keyArg(arg, context.limits));
  if (!entry) return -2;
  if (entry.expiresAt === undefined) return -1;
  return Math.max(0, entry.expiresAt - Date.now());
}

/** How long KEYS walks before the event loop may turn. */
const KEYS_STEP_MS = 5;

/** The GET family, SET family, and the key-space commands, with diststore's meaning. */
export const dataCommands: CommandSpec[] = [
  spec(
    'GET',
    2,
    ['readonly', 'fast'],
    [1, 1, 1],
    "The value: this node's copy, else the cluster's (fetched and cached)",
    [key],
    (args, session, { node, limits }) => {
      const name = keyArg(args[1], limits);
      // A hit is answered at once; only a miss waits for the cluster.
      const hit = node.store.live(name);
      if (hit) return bulkParts(hit.value);
      return node.read(name).then((entry) => (entry ? bulk(entry.value) : nil(session.protocol)));
    },
  ),
  spec(
    'GETLOCAL',
    2,
    ['readonly', 'fast'],
    [1, 1, 1],
    "This node's copy only (diststore's /get-local)",
    [key],
    (args, session, { node, limits }) => {
      const entry = node.store.live(keyArg(args[1], limits));
      return entry ? bulk(entry.value) : nil(session.protocol);
    },
  ),
  spec(
    'SET',
    -3,
    ['write'],
    [1, 1, 1],
    'Stores a value here and on both masters; NX: only if absent, XX: only if present',
    [key, value, expiry, condition],
    async (args, session, { node, limits }) => {
      const name = keyArg(args[1], limits);
      const data = valueArg(args[2], limits);
      const options = parseSetOptions(args, 3, 'set');
      return (await setValue(node, name, data, options)) ? OK : nil(session.protocol);
    },
  ),
  spec(
    'SETLOCAL',
    -3,
    ['write'],
    [1, 1, 1],
    "Stores a value on this node only (diststore's /post-local)",
    [key, value, expiry],
    async (args, _session, { node, limits }) => {
      const name = keyArg(args[1], limits);
      const data = valueArg(args[2], limits);
      const options = parseSetOptions(args, 3, 'setlocal');
      if (options.ifAbsent || options.ifExists) {
        throw err('NX and XX are decided on the masters: use SET');
      }
      await node.write(name, data, VALUE_TYPE, { local: true, ttlSeconds: options.ttlSeconds });
      return OK;
    },
  ),
  spec(
    'MGET',
    -2,
    ['readonly', 'fast'],
    [1, -1, 1],
    'The values of several keys (nil for each one nobody has)',
    [keys],
    (args, session, { node, limits }) => {
      const names = args.slice(1).map((arg) => keyArg(arg, limits));
      return Promise.all(names.map((name) => node.read(name))).then((entries) =>
        bulkArray(
          entries.map((entry) => entry?.value),
          session.protocol,
        ),
      );
    },
  ),
  spec(
    'MSET',
    -3,
    ['write'],
    [1, -1, 2],
    'Stores several values, each replicated like SET (not atomic as a whole)',
    [{ name: 'data', type: 'block', multiple: true, arguments: [key, value] }],
    async (args, _session, { node, limits }) => {
      if (args.length % 2 === 0) throw wrongArity('mset');
      const pairs: [string, Buffer][] = [];
      for (let i = 1; i < args.length; i += 2) {
        pairs.push([keyArg(args[i], limits), valueArg(args[i + 1], limits)]);
      }
      await Promise.all(pairs.map(([name, data]) => node.write(name, data, VALUE_TYPE)));
      return OK;
    },
  ),
  ...['DEL', 'UNLINK'].map((name) =>
    spec(
      name,
      -2,
      ['write'],
      [1, -1, 1],
      'Deletes keys everywhere (a tombstone here and on the masters); answers how many existed',
      [keys],
      async (args, _session, { node, limits }) => {
        const names = [...new Set(args.slice(1).map((arg) => keyArg(arg, limits)))];
        const existed = await Promise.all(names.map((n) => node.read(n)));
        await Promise.all(names.map((n) => node.remove(n)));
        return integer(existed.filter(Boolean).length);
      },
      'keyspace',
    ),
  ),
  spec(
    'EXISTS',
    -2,
    ['readonly', 'fast'],
    [1, -1, 1],
    'How many of the keys exist (here or in the cluster)',
    [keys],
    async (args, _session, { node, limits }) => {
      const names = args.slice(1).map((arg) => keyArg(arg, limits));
      const found = await Promise.all(names.map((n) => node.read(n)));
      return integer(found.filter(Boolean).length);
    },
    'keyspace',
  ),
  spec(
    'TTL',
    2,
    ['readonly', 'fast'],
    [1, 1, 1],
    'Seconds the key has left (-1: no expiry, -2: absent)',
    [key],
    async (args, _session, context) => {
      const ms = await msLeft(context, args[1]);
      return integer(ms < 0 ? ms : Math.round(ms / 1000));
    },
    'keyspace',
  ),
  spec(
    'PTTL',
    2,
    ['readonly', 'fast'],
    [1, 1, 1],
    'Milliseconds the key has left (-1: no expiry, -2: absent)',
    [key],
    async (args, _session, context) => integer(await msLeft(context, args[1])),
    'keyspace',
  ),
  spec(
    'KEYS',
    2,
    ['readonly'],
    [0, 0, 0],
    "This node's keys matching a glob pattern (not the cluster's)",
    [{ name: 'pattern', type: 'pattern' }],
    async (args, session, { node }) => {
      const pattern = args[1]?.toString('utf8') ?? '*';
      const glob = globToRegExp(pattern);
      // Walked, not listed first: only the matching keys are held (with a data dir, the rest
      // stay on disk). In steps, the event loop turning between them: counting 1 M keys in
      // lmdb took 3.3 s, and a node silent for 3 announce intervals is taken for dead.
      const matching: string[] = [];
      let stepStarted = performance.now();
      let walked = 0;
      for (const key of node.store.readableKeys()) {
        if (glob.test(key)) matching.push(key);
        if (walkBudgetSpent(++walked, stepStarted, KEYS_STEP_MS)) {
          await new Promise((resolve) => setImmediate(resolve));
          stepStarted = performance.now();
        }
      }
      return bulkArray(matching, session.protocol);
    },
    'keyspace',
  ),
  spec(
    'SCAN',
    -2,
    ['readonly'],
    [0, 0, 0],
    "Iterates over this node's keys",
    [
      { name: 'cursor', type: 'integer' },
      { name: 'pattern', type: 'pattern', token: 'MATCH', optional: true },
      { name: 'count', type: 'integer', token: 'COUNT', optional: true },
      { name: 'type', type: 'string', token: 'TYPE', optional: true },
    ],
    (args, session, { keyScan }) => {
      const cursor = integerArg(args[1]);
      if (cursor < 0) throw err('invalid cursor');
      let match: RegExp | undefined;
      let count = 10;
      let onlyStrings = true;
      for (let i = 2; i < args.length; i += 2) {
        const option = word(args[i]);
        if (i + 1 >= args.length) throw syntaxError();
        if (option === 'MATCH') match = globToRegExp(args[i + 1]?.toString('utf8') ?? '*');
        else if (option === 'COUNT') {
          count = integerArg(args[i + 1]);
          if (count < 1) throw syntaxError();
        } else if (option === 'TYPE') onlyStrings = word(args[i + 1]) === 'STRING';
        else throw syntaxError();
      }
      const page = keyScan.page(cursor, count);
      const found = onlyStrings ? page.keys.filter((k) => !match || match.test(k)) : [];
      return array([bulk(String(page.next)), bulkArray(found, session.protocol)]);
    },
    'keyspace',
  ),
  spec(
    'DBSIZE',
    1,
    ['readonly', 'fast'],
    [0, 0, 0],
    'How many keys this node holds (deleted ones not counted; expired ones until swept)',
    [],
    (_args, _session, { node }) => integer(node.store.keyCount),
    'server',
  ),
  spec(
    'DS.VERSION',
    2,
    ['readonly', 'fast'],
    [1, 1, 1],
    "The key's version (wall.counter.node), here or in the cluster; nil when absent",
    [key],
    async (args, session, { node, limits }) => {
      const entry = await node.read(keyArg(args[1], limits));
      return entry ? bulk(formatVersion(entry.version)) : nil(session.protocol);
    },
    'diststore',
  ),
  spec(
    'DS.STATUS',
    1,
    ['readonly'],
    [0, 0, 0],
    'This node and the cluster as /status shows them (JSON)',
    [],
    (_args, _session, { node }) => bulk(JSON.stringify(node.status())),
    'diststore',
  ),
];
