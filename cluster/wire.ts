import { hash } from 'node:crypto';
import type { Answer, Packet } from 'dns-packet';
import { DiststoreError } from './errors.js';
import { formatVersion, parseVersion, type Version } from './version.js';

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
 * Most changes one invalidation packet carries: about 125 bytes each, so a full packet stays
 * near 1 000 bytes, inside one Ethernet frame.
 */
export const CHANGES_PER_PACKET = 8;

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

/** `H(key)`: the first 26 base32 characters of sha256(cluster name + key). */
export function keyHash(cluster: string, key: string): string {
  // The one-shot hash: half the cost of a Hash object, and every key written is hashed.
  return base32(hash('sha256', cluster + key, 'buffer'), HASH_CHARS);
}

const BASE32 = Buffer.from('abcdefghijklmnopqrstuvwxyz234567', 'latin1');
/**
 * The first `chars` base32 characters of `bytes`, as one flat string: a slice of a longer
 * string would keep the whole longer string alive for as long as the hash is held.
 */
function base32(bytes: Buffer, chars: number): string {
  const out = Buffer.allocUnsafe(chars);
  let bits = 0;
  let acc = 0;
  let at = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && at < chars) {
      out[at++] = BASE32[(acc >>> (bits - 5)) & 31] as number;
      bits -= 5;
    }
    if (at === chars) break;
  }
  return out.toString('latin1', 0, at);
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
        return { type: 'query', questions: [{ name: this.keyName(message.keyHash), type: 'SRV' }] };
      case 'census':
        return { type: 'query', questions: [{ name: this.nodeName(), type: 'PTR' }] };
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
      case 'invalidate':
        // One TXT record per key; the packet guard allows at most 16 records.
        return response(
          message.changes.slice(0, CHANGES_PER_PACKET).map((change, i) => ({
            name: this.keyName(change.keyHash),
            type: 'TXT',
            ttl: 0,
            // The packet's number once, in its first record: the packet must fit one frame.
            data: [
              `n=${message.node}`,
              'inv=1',
              ...(i === 0 ? [`s=${message.seq}`] : []),
              `v=${formatVersion(change.version)}`,
            ],
          })),
        );
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
    const keyHash = this.parseKeyName(first.name);
    const srv = answers.find((a) => a.type === 'SRV');
    const txt = answers.find((a) => a.type === 'TXT');
    if (!txt) throw new WireError('malformed', 'key answer without TXT');
    const fields = txtOf(txt);
    const node = required(fields, 'n');
    if (fields.get('absent') === '1') return { kind: 'absent', keyHash, node };
    if (fields.get('inv') === '1') return this.decodeInvalidate(answers, node);
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

  /** Every answer of an invalidation is one changed key, all from the same node. */
  private decodeInvalidate(answers: Answer[], node: string): Message {
    const seq = count(txtOf(answers[0] as Answer), 's');
    const changes = answers.map((answer) => {
      const fields = txtOf(answer);
      if (fields.get('inv') !== '1' || fields.get('n') !== node) {
        throw new WireError('malformed', 'mixed invalidation');
      }
      const version = parseVersion(required(fields, 'v'));
      if (!version) throw new WireError('malformed', 'bad version');
      return { keyHash: this.parseKeyName(answer.name), version };
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
  return { type: 'response', flags: 0, answers };
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
