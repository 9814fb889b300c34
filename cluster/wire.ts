import { hash } from 'node:crypto';
import type { Answer, Packet, Question } from 'dns-packet';
import { DiststoreError } from './errors.js';
import { formatVersion, MAX_COUNTER, parseVersion, type Version } from './version.js';

/**
 * diststore's messages and their DNS form. Every name ends in `<cluster>._diststore.local`,
 * so packets of other clusters (or plain mDNS traffic) are recognised and ignored.
 */

export type NodeState = 'joining' | 'ready' | 'syncing' | 'leaving';

export interface Announce {
  kind: 'announce';
  node: string;
  http: string;
  keys: number;
  epoch: number;
  masters: string[];
  /** The master set has a quorum (see MasterSet in election.ts). */
  quorum: boolean;
  /** Number of the last invalidation packet this node sent (0: none yet; see freshness.ts). */
  inv: number;
  state: NodeState;
  boot: string;
  /** The sender's wall clock (ms) when it sent this; absent from a node that predates it. */
  clock?: number;
  /** The sender has primary entries to re-send to masters that lack them (see Mastership). */
  owes?: boolean;
  /** Unicast fallback: UDP endpoints (host:port) the sender sends to, so peers learn peers. */
  peers?: string[];
}

export type Message =
  | { kind: 'who-has'; keyHash: string }
  | {
      kind: 'has';
      keyHash: string;
      node: string;
      http: string;
      version: Version;
      master: boolean;
      valueHash: string;
      /** The holder's newest version is a tombstone: the key was deleted. */
      deleted: boolean;
    }
  | { kind: 'absent'; keyHash: string; node: string }
  /** A master applied these versions of keys: older copies elsewhere are stale. */
  | { kind: 'invalidate'; node: string; seq: number; changes: Change[] }
  | { kind: 'census' }
  | Announce;

/** One key's new version, as an invalidation names it. */
export interface Change {
  keyHash: string;
  version: Version;
}

/**
 * TXT bytes one invalidation packet spends on its changes (`c=`) and their writers (`w=`): with
 * the header, its name, `n=`, `s=` and a signature, a packet stays within 1 232 bytes (the UDP
 * payload every common MTU carries, IPv6 included) for a default cluster name and address ids.
 * 19 changes of one writer fit, where one record per change fitted 8.
 */
const CHANGE_BYTES_PER_PACKET = 1000;
/** Most changes a received invalidation may carry (the encoder's budget allows fewer). */
const MAX_CHANGES = 64;

/**
 * Splits changes, in order, into invalidation packets: as many to a packet as its byte budget
 * holds. Each change costs its `c=` string; each writer (the node in a version) its `w=` string,
 * once per packet.
 */
export function packChanges(changes: Change[]): Change[][] {
  const packets: Change[][] = [];
  let packet: Change[] = [];
  let writers = new Set<string>();
  let used = 0;
  for (const change of changes) {
    const { wall, counter, node } = change.version;
    // length byte + `c=` + hash + `.wall.counter.` + a writer index of at most 2 digits
    const changeBytes = 3 + HASH_CHARS + `.${wall}.${counter}.`.length + 2;
    const usedWith = () => used + changeBytes + (writers.has(node) ? 0 : 3 + node.length);
    if (
      packet.length === MAX_CHANGES ||
      (packet.length > 0 && usedWith() > CHANGE_BYTES_PER_PACKET)
    ) {
      packets.push(packet);
      packet = [];
      writers = new Set();
      used = 0;
    }
    used = usedWith();
    writers.add(node);
    packet.push(change);
  }
  if (packet.length > 0) packets.push(packet);
  return packets;
}

/** Why a received packet was not accepted: not ours to read, or not asked for on that socket. */
export type DropReason = 'malformed' | 'foreign' | 'unsolicited';

/** A packet that is not ours to read, or not asked for; counted by `reason` and dropped. */
export class WireError extends DiststoreError {
  readonly code = 'bad_packet';

  constructor(
    readonly reason: DropReason,
    message: string,
  ) {
    super(message);
  }
}

const SERVICE = '_diststore.local';
const NODE_STATES: readonly NodeState[] = ['joining', 'ready', 'syncing', 'leaving'];

/** Characters of a key hash. */
const HASH_CHARS = 26;
/** One change of an invalidation: `<hash>.<wall>.<counter>.<writer index>` (see packChanges). */
const CHANGE = new RegExp(`^([a-z2-7]{${HASH_CHARS}})\\.(\\d{1,15})\\.(\\d{1,5})\\.(\\d{1,2})$`);

/** `H(key)`: the first 26 base32 characters of sha256(cluster name + key). */
export function keyHash(cluster: string, key: string): string {
  // The one-shot hash into a 'binary' (latin1) string, a char a byte: 0.5 µs the whole
  // function, 1.7 µs with a Buffer (node 20, measured); every key written or asked is hashed.
  return base32(hash('sha256', cluster + key, 'binary'), HASH_CHARS);
}

const BASE32 = Buffer.from('abcdefghijklmnopqrstuvwxyz234567', 'latin1');
/** Where base32 writes its characters before making them one string. */
const BASE32_OUT = Buffer.alloc(64);
/**
 * The first `chars` base32 characters of `bytes` (a latin1 string, a char a byte), as one
 * flat string: a slice of a longer string would keep the whole longer string alive for as
 * long as the hash is held.
 */
function base32(bytes: string, chars: number): string {
  let bits = 0;
  let acc = 0;
  let at = 0;
  for (let i = 0; i < bytes.length && at < chars; i++) {
    acc = ((acc << 8) | bytes.charCodeAt(i)) & 0xffff;
    bits += 8;
    while (bits >= 5 && at < chars) {
      BASE32_OUT[at++] = BASE32[(acc >>> (bits - 5)) & 31] as number;
      bits -= 5;
    }
  }
  return BASE32_OUT.toString('latin1', 0, at);
}

/** DNS type SRV: what a who-has query asks for. */
const SRV = 33;
/** Bytes of a DNS header; a who-has question's name starts right after it. */
export const HEADER_BYTES = 12;

/** A name in DNS wire form, as dns-packet writes it: each label behind its length, then 0. */
export function nameBytes(name: string): Buffer {
  const labels = name.split('.').map((label) => Buffer.from(label, 'latin1'));
  return Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]);
}

/** Encodes and decodes the messages of one cluster. */
export class Wire {
  private readonly suffix: string;
  /** `key.<cluster>._diststore.local` in wire form: what follows a who-has query's hash. */
  private readonly keyNameTail: Buffer;

  constructor(cluster: string) {
    this.suffix = `${cluster}.${SERVICE}`;
    this.keyNameTail = nameBytes(`key.${this.suffix}`);
  }

  /**
   * The key hash of a who-has query of this cluster, read from the datagram's bytes without
   * decoding it; undefined for any other datagram (which then takes the full decode). Lets a
   * node drop, for the cost of a few comparisons, the queries it has nothing to answer to.
   */
  whoHasHash(datagram: Buffer): string | undefined {
    const tail = this.keyNameTail;
    const end = HEADER_BYTES + 1 + HASH_CHARS + tail.length;
    if (
      datagram.length < end + 4 ||
      (datagram[2] as number) & 0x80 || // a response, not a query
      datagram.readUInt16BE(4) !== 1 || // one question
      datagram.readUInt16BE(6) !== 0 || // no answers
      datagram[HEADER_BYTES] !== HASH_CHARS ||
      datagram.readUInt16BE(end) !== SRV ||
      datagram.compare(tail, 0, tail.length, end - tail.length, end) !== 0
    ) {
      return undefined;
    }
    for (let i = HEADER_BYTES + 1; i < HEADER_BYTES + 1 + HASH_CHARS; i++) {
      const c = datagram[i] as number;
      // [a-z2-7], as parseKeyName checks
      if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x32 && c <= 0x37))) return undefined;
    }
    return datagram.toString('latin1', HEADER_BYTES + 1, HEADER_BYTES + 1 + HASH_CHARS);
  }

  encode(message: Message): Packet {
    switch (message.kind) {
      case 'who-has':
        return whole('query', [{ name: this.keyName(message.keyHash), type: 'SRV' }], []);
      case 'census':
        return whole('query', [{ name: this.nodeName(), type: 'PTR' }], []);
      case 'has': {
        const [host, port] = splitHostPort(message.http);
        const name = this.keyName(message.keyHash);
        const txt = [
          `n=${message.node}`,
          `v=${formatVersion(message.version)}`,
          `h=${message.valueHash}`,
        ];
        if (message.master) txt.push('m=1');
        if (message.deleted) txt.push('d=1');
        return response([
          { name, type: 'SRV', ttl: 0, data: { target: host, port } },
          { name, type: 'TXT', ttl: 0, data: txt },
        ]);
      }
      case 'absent':
        return response([
          {
            name: this.keyName(message.keyHash),
            type: 'TXT',
            ttl: 0,
            data: [`n=${message.node}`, 'absent=1'],
          },
        ]);
      case 'invalidate': {
        // One record for the whole packet: the writers named once (`w=`), each change as
        // `c=<hash>.<wall>.<counter>.<writer index>`; a packet is sized by packChanges.
        const writers: string[] = [];
        const changes = message.changes.map(({ keyHash, version }) => {
          let writer = writers.indexOf(version.node);
          if (writer < 0) writer = writers.push(version.node) - 1;
          return `c=${keyHash}.${version.wall}.${version.counter}.${writer}`;
        });
        return response([
          {
            name: this.invalidationName(),
            type: 'TXT',
            ttl: 0,
            data: [
              `n=${message.node}`,
              'inv=1',
              `s=${message.seq}`,
              ...writers.map((w) => `w=${w}`),
              ...changes,
            ],
          },
        ]);
      }
      case 'announce':
        return response([
          {
            name: this.nodeName(),
            type: 'TXT',
            ttl: 0,
            data: [
              `n=${message.node}`,
              `http=${message.http}`,
              `keys=${message.keys}`,
              `epoch=${message.epoch}`,
              `quorum=${message.quorum ? 1 : 0}`,
              `lastinv=${message.inv}`,
              `state=${message.state}`,
              `boot=${message.boot}`,
              ...(message.clock === undefined ? [] : [`clock=${message.clock}`]),
              ...(message.owes ? ['owes=1'] : []),
              // One string per master: a TXT string holds at most 255 bytes.
              ...message.masters.map((id) => `master=${id}`),
              ...(message.peers ?? []).map((peer) => `peer=${peer}`),
            ],
          },
        ]);
    }
  }

  /** Turns a decoded DNS packet into a message; throws WireError for anything else. */
  decode(packet: Packet): Message {
    if (packet.type === 'query') {
      const question = packet.questions?.[0];
      if (!question) throw new WireError('malformed', 'query without a question');
      if (question.name === this.nodeName()) return { kind: 'census' };
      return { kind: 'who-has', keyHash: this.parseKeyName(question.name) };
    }
    const answers = packet.answers ?? [];
    const first = answers[0];
    if (!first) throw new WireError('malformed', 'response without answers');
    if (first.name === this.nodeName()) return this.decodeAnnounce(first);
    if (first.name === this.invalidationName()) return this.decodeInvalidate(answers);
    const keyHash = this.parseKeyName(first.name);
    const srv = answers.find((a) => a.type === 'SRV');
    const txt = answers.find((a) => a.type === 'TXT');
    if (!txt) throw new WireError('malformed', 'key answer without TXT');
    const fields = txtOf(txt);
    const node = required(fields, 'n');
    if (fields.get('absent') === '1') return { kind: 'absent', keyHash, node };
    const version = parseVersion(required(fields, 'v'));
    if (!version) throw new WireError('malformed', 'bad version');
    if (srv?.type !== 'SRV') throw new WireError('malformed', 'key answer without SRV');
    return {
      kind: 'has',
      keyHash,
      node,
      http: `${srv.data.target}:${srv.data.port}`,
      version,
      master: fields.get('m') === '1',
      valueHash: required(fields, 'h'),
      deleted: fields.get('d') === '1',
    };
  }

  /** An invalidation: one record naming its writers once and every changed key. */
  private decodeInvalidate(answers: Answer[]): Message {
    const [record] = answers;
    if (answers.length !== 1 || !record) throw new WireError('malformed', 'split invalidation');
    // One pass over the strings: a packet carries up to MAX_CHANGES of them, and every node
    // reads every invalidation.
    const fields = new Map<string, string>();
    const writers: string[] = [];
    const said: string[] = [];
    for (const text of txtStrings(record)) {
      if (text.startsWith('c=')) said.push(text.slice(2));
      else if (text.startsWith('w=')) writers.push(text.slice(2));
      else {
        const eq = text.indexOf('=');
        if (eq > 0) fields.set(text.slice(0, eq), text.slice(eq + 1));
      }
    }
    if (fields.get('inv') !== '1') throw new WireError('malformed', 'invalidation without inv=1');
    const node = required(fields, 'n');
    const seq = count(fields, 's');
    if (said.length === 0 || said.length > MAX_CHANGES) {
      throw new WireError('malformed', `an invalidation of ${said.length} changes`);
    }
    // Each writer checked once as a version's node (parseVersion's rule), not once a change.
    for (const writer of writers) {
      if (!parseVersion(`0.0.${writer}`)) throw new WireError('malformed', 'bad writer');
    }
    const changes = said.map((text) => {
      const match = CHANGE.exec(text);
      const writer = match && writers[Number(match[4])];
      const counter = Number(match?.[3]);
      if (!writer || !(counter <= MAX_COUNTER)) {
        throw new WireError('malformed', `bad change ${text.slice(0, 80)}`);
      }
      const version = { wall: Number(match[2]), counter, node: writer };
      return { keyHash: match[1] as string, version };
    });
    return { kind: 'invalidate', node, seq, changes };
  }

  private decodeAnnounce(answer: Answer): Announce {
    const fields = txtOf(answer);
    const state = required(fields, 'state') as NodeState;
    if (!NODE_STATES.includes(state)) throw new WireError('malformed', `bad state ${state}`);
    const announce: Announce = {
      kind: 'announce',
      node: required(fields, 'n'),
      http: required(fields, 'http'),
      keys: count(fields, 'keys'),
      epoch: count(fields, 'epoch'),
      masters: repeated(answer, 'master'),
      quorum: fields.get('quorum') === '1',
      // Optional: a node that sent no invalidation yet has nothing to number.
      inv: fields.has('lastinv') ? count(fields, 'lastinv') : 0,
      state,
      boot: required(fields, 'boot'),
    };
    if (fields.has('clock')) announce.clock = count(fields, 'clock', 15);
    if (fields.get('owes') === '1') announce.owes = true;
    const peers = repeated(answer, 'peer');
    if (peers.length > 0) announce.peers = peers;
    return announce;
  }

  private nodeName(): string {
    return `node.${this.suffix}`;
  }

  private invalidationName(): string {
    return `inv.${this.suffix}`;
  }

  private keyName(hash: string): string {
    return `${hash}.key.${this.suffix}`;
  }

  private parseKeyName(name: string): string {
    if (!name.endsWith(`.key.${this.suffix}`))
      throw new WireError('foreign', `foreign name ${name}`);
    const hash = name.slice(0, -`.key.${this.suffix}`.length);
    if (!/^[a-z2-7]{26}$/.test(hash)) throw new WireError('malformed', `bad key hash ${hash}`);
    return hash;
  }
}

function response(answers: Answer[]): Packet {
  return whole('response', [], answers);
}

/**
 * A packet with every list dns-packet reads, in one order: its encoder adds the lists a packet
 * lacks to the object it is given, a change of shape that V8 takes its slow path for on every
 * packet sent (seen under perf).
 */
function whole(type: 'query' | 'response', questions: Question[], answers: Answer[]): Packet {
  return { type, id: 0, flags: 0, questions, answers, authorities: [], additionals: [] };
}

function txtStrings(answer: Answer): string[] {
  if (answer.type !== 'TXT') throw new WireError('malformed', `expected TXT, got ${answer.type}`);
  const data = Array.isArray(answer.data) ? answer.data : [answer.data];
  return data.map((item) => item.toString());
}

/** Every value of a field that may appear several times (`master=`, `peer=`). */
function repeated(answer: Answer, name: string): string[] {
  return txtStrings(answer)
    .filter((text) => text.startsWith(`${name}=`))
    .map((text) => text.slice(name.length + 1));
}

function txtOf(answer: Answer): Map<string, string> {
  const fields = new Map<string, string>();
  for (const text of txtStrings(answer)) {
    const eq = text.indexOf('=');
    if (eq > 0) fields.set(text.slice(0, eq), text.slice(eq + 1));
  }
  return fields;
}

function required(fields: Map<string, string>, name: string): string {
  const value = fields.get(name);
  if (value === undefined) throw new WireError('malformed', `missing ${name}=`);
  return value;
}

/** A whole number field of at most `digits` digits (a wall clock in ms has 13). */
function count(fields: Map<string, string>, name: string, digits = 12): number {
  const value = required(fields, name);
  if (value.length > digits || !/^\d+$/.test(value)) {
    throw new WireError('malformed', `bad ${name}=${value}`);
  }
  return Number(value);
}

/** Splits `host:port` (the last colon, so bracketed IPv6 hosts work too). */
export function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon).replace(/^\[|\]$/g, ''), Number(address.slice(colon + 1))];
}
