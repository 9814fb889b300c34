import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { describe, test } from 'node:test';
import packet, { type Answer, type Packet } from 'dns-packet';
import { isPlausibleDns } from '../../cluster/packet-guard.js';
import { PacketSigner } from '../../cluster/signing.js';
import type { Peer, Transport } from '../../cluster/transport.js';
import { createUdpTransport } from '../../cluster/udp-transport.js';
import {
  type Change,
  type DropReason,
  keyHash,
  type Message,
  packChanges,
  Wire,
  WireError,
} from '../../cluster/wire.js';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/wait-for.js';

const CLUSTER = 'unit';
const GROUP = '239.255.49.83';
const SUFFIX = `${CLUSTER}._diststore.local`;
const HASH = keyHash(CLUSTER, 'some key');
const KEY_NAME = `${HASH}.key.${SUFFIX}`;
const INV_NAME = `inv.${SUFFIX}`;
const V = { wall: 1_700_000_000_000, counter: 0, node: 'n' };

/** What a receiver decodes after the message crossed the network as DNS bytes. */
function overTheWire(message: Message, from = new Wire(CLUSTER), to = new Wire(CLUSTER)): Message {
  return to.decode(packet.decode(packet.encode(from.encode(message))));
}

/** Decodes a hand-built packet the way a receiver would (after DNS encoding). */
function decodeRaw(raw: Packet): Message {
  return new Wire(CLUSTER).decode(packet.decode(packet.encode(raw)));
}

const txt = (name: string, data: string[]): Answer => ({ name, type: 'TXT', ttl: 0, data });
const srv = (name: string): Answer => ({
  name,
  type: 'SRV',
  ttl: 0,
  data: { target: '127.0.0.1', port: 8181 },
});
const response = (...answers: Answer[]): Packet => ({ type: 'response', answers });

const ANNOUNCE_FIELDS = [
  'n=127.0.0.1:8181',
  'http=127.0.0.1:8181',
  'keys=3',
  'epoch=2',
  'state=ready',
  'boot=b1',
  'master=127.0.0.1:8181',
  'master=127.0.0.1:8182',
];

describe('Wire round trips', () => {
  const messages: Array<[string, Message]> = [
    ['who-has', { kind: 'who-has', keyHash: HASH }],
    ['census', { kind: 'census' }],
    [
      'has from a master',
      {
        kind: 'has',
        keyHash: HASH,
        node: '127.0.0.1:8181',
        http: '127.0.0.1:8181',
        version: { wall: 1_700_000_000_000, counter: 3, node: '127.0.0.1:8181' },
        master: true,
        valueHash: 'AbCdEfGhIjKlMnOpQrSt-_',
        deleted: false,
      },
    ],
    [
      'has from a non-master',
      {
        kind: 'has',
        keyHash: HASH,
        node: 'node-b',
        http: 'host-b.example:9000',
        version: { wall: 5, counter: 0, node: 'node-b' },
        master: false,
        valueHash: 'x',
        deleted: false,
      },
    ],
    [
      'has of a deleted key (tombstone)',
      {
        kind: 'has',
        keyHash: HASH,
        node: 'm2',
        http: '127.0.0.1:8182',
        version: { wall: 9, counter: 1, node: 'm2' },
        master: true,
        valueHash: 'h',
        deleted: true,
      },
    ],
    ['absent', { kind: 'absent', keyHash: HASH, node: '127.0.0.1:8182' }],
    [
      'invalidate',
      {
        kind: 'invalidate',
        seq: 1,
        node: '127.0.0.1:8181',
        changes: [
          {
            keyHash: HASH,
            version: { wall: 1_700_000_000_001, counter: 0, node: '127.0.0.1:8183' },
          },
          {
            keyHash: 'bcdefghijklmnopqrstuvwxyz2',
            version: { wall: 1_700_000_000_002, counter: 3, node: '127.0.0.1:8182' },
          },
        ],
      },
    ],
    [
      'announce',
      {
        kind: 'announce',
        node: '127.0.0.1:8181',
        http: '127.0.0.1:8181',
        keys: 12_345,
        epoch: 7,
        masters: ['127.0.0.1:8181', '127.0.0.1:8182'],
        quorum: true,
        inv: 0,
        state: 'ready',
        boot: 'b-1700000000000',
        clock: 1_796_069_910_250,
        owes: true,
      },
    ],
    [
      'announce with an empty masters list',
      {
        kind: 'announce',
        node: 'n1',
        http: '127.0.0.1:8181',
        keys: 0,
        epoch: 0,
        masters: [],
        quorum: true,
        inv: 0,
        state: 'joining',
        boot: 'b',
      },
    ],
    [
      'announce with one master while syncing',
      {
        kind: 'announce',
        node: 'n2',
        http: '127.0.0.1:8182',
        keys: 1,
        epoch: 1,
        masters: ['n2'],
        quorum: true,
        inv: 0,
        state: 'syncing',
        boot: 'b',
      },
    ],
    [
      'announce of a leaving node',
      {
        kind: 'announce',
        node: 'n3',
        http: '127.0.0.1:8183',
        keys: 0,
        epoch: 3,
        masters: ['n1', 'n2'],
        quorum: true,
        inv: 0,
        state: 'leaving',
        boot: 'b',
      },
    ],
  ];

  for (const [name, message] of messages) {
    test(`${name} decodes to what was encoded`, () => {
      assert.deepEqual(overTheWire(message), message);
    });
  }

  /** An announce naming two masters, as a node with the given id would send it. */
  const announceOf = (a: string, b: string): Message => ({
    kind: 'announce',
    node: a,
    http: '127.0.0.1:8181',
    keys: 1,
    epoch: 1,
    masters: [a, b],
    quorum: true,
    inv: 0,
    state: 'ready',
    boot: 'b',
  });

  test('announce naming masters with the longest ids --id allows (100 chars) decodes', () => {
    const message = announceOf('a'.repeat(100), 'b'.repeat(100));
    assert.deepEqual(overTheWire(message), message);
  });

  test('announce naming masters with default ids (advertise:port) of a long but valid host name decodes', () => {
    // Two 60-char DNS labels plus a domain: a valid 129-char host name.
    const host = (c: string) => `${c.repeat(60)}.${c.repeat(60)}.example`;
    const message = announceOf(`${host('a')}:8181`, `${host('b')}:8181`);
    assert.deepEqual(overTheWire(message), message);
  });
});

describe('Wire: a full invalidation packet', () => {
  const changesOf = (count: number, writers: string[]): Change[] =>
    Array.from({ length: count }, (_, i) => ({
      keyHash: keyHash('diststore', `key ${i}`),
      version: {
        wall: 1_700_000_000_000 + i,
        counter: 4095,
        node: writers[i % writers.length] as string,
      },
    }));
  const signedBytes = (node: string, changes: Change[]) =>
    packet.encode(
      new PacketSigner('s'.repeat(32)).sign(
        new Wire('diststore').encode({ kind: 'invalidate', seq: 1, node, changes }),
      ),
    );

  test('fits one Ethernet frame, signed, with the default cluster name and address ids', () => {
    const node = '192.168.100.200:8181';
    const writers = ['192.168.100.201:8181', '192.168.100.202:8181', node];
    for (const changes of [changesOf(200, [node]), changesOf(200, writers)]) {
      const packets = packChanges(changes);
      assert.deepEqual(packets.flat(), changes, 'every change, in order');
      for (const one of packets) {
        const bytes = signedBytes(node, one);
        // 1 232 bytes: the UDP payload that fits every common MTU, IPv6 included.
        assert.ok(bytes.length <= 1232, `${bytes.length} bytes`);
        assert.ok(isPlausibleDns(bytes), 'the packet guard lets it through');
        const decoded = new Wire('diststore').decode(packet.decode(bytes));
        assert.ok(decoded.kind === 'invalidate');
        assert.deepEqual(decoded.changes, one);
      }
    }
  });

  test('carries more than twice the changes of one record per change (8)', () => {
    const [first] = packChanges(changesOf(200, ['192.168.100.201:8181']));
    assert.ok(first && first.length >= 18, `${first?.length} changes`);
  });

  test('a writer with a long id still leaves every change in some packet', () => {
    const long = `${'h'.repeat(60)}.${'o'.repeat(60)}.example:8181`;
    const changes = changesOf(50, [long, '10.0.0.1:1', `${long}x`]);
    const packets = packChanges(changes);
    assert.deepEqual(packets.flat(), changes);
    for (const one of packets) {
      const message: Message = { kind: 'invalidate', seq: 2, node: 'n', changes: one };
      assert.deepEqual(overTheWire(message), message);
    }
  });
});

describe('Wire rejects packets it must not accept', () => {
  const isWireError = (reason: DropReason) => (error: unknown) =>
    error instanceof WireError && error.reason === reason;

  test("every kind of another cluster's message is foreign", () => {
    const theirs = new Wire('other');
    const mine = new Wire(CLUSTER);
    const messages: Message[] = [
      { kind: 'who-has', keyHash: HASH },
      { kind: 'census' },
      { kind: 'absent', keyHash: HASH, node: 'n' },
      {
        kind: 'has',
        keyHash: HASH,
        node: 'n',
        http: '127.0.0.1:1',
        version: { wall: 1, counter: 0, node: 'n' },
        master: true,
        valueHash: 'h',
        deleted: false,
      },
      {
        kind: 'invalidate',
        seq: 1,
        node: 'n',
        changes: Array.from({ length: 8 }, (_, i) => ({
          keyHash: HASH,
          version: { wall: 1, counter: i, node: 'n' },
        })),
      },
      {
        kind: 'announce',
        node: 'n',
        http: '127.0.0.1:1',
        keys: 0,
        epoch: 0,
        masters: [],
        quorum: true,
        inv: 0,
        state: 'ready',
        boot: 'b',
      },
    ];
    for (const message of messages) {
      assert.throws(() => overTheWire(message, theirs, mine), isWireError('foreign'), message.kind);
    }
  });

  test('plain mDNS traffic is foreign', () => {
    const query: Packet = { type: 'query', questions: [{ name: '_http._tcp.local', type: 'PTR' }] };
    assert.throws(() => decodeRaw(query), isWireError('foreign'));
    const answer = response({ name: 'printer.local', type: 'A', ttl: 120, data: '192.168.1.9' });
    assert.throws(() => decodeRaw(answer), isWireError('foreign'));
  });

  const malformed: Array<[string, Packet]> = [
    ['a query without a question', { type: 'query', questions: [] }],
    ['a response without answers', response()],
    [
      'a key hash that is not 26 base32 chars',
      { type: 'query', questions: [{ name: `NOT-A-HASH.key.${SUFFIX}`, type: 'SRV' }] },
    ],
    [
      'a key hash that is too short',
      { type: 'query', questions: [{ name: `abc.key.${SUFFIX}`, type: 'SRV' }] },
    ],
    ['a has answer without TXT', response(srv(KEY_NAME))],
    ['a has answer without SRV', response(txt(KEY_NAME, ['n=n1', 'v=1.0.n1', 'h=x']))],
    ['a has answer without n=', response(srv(KEY_NAME), txt(KEY_NAME, ['v=1.0.n1', 'h=x']))],
    ['a has answer without v=', response(srv(KEY_NAME), txt(KEY_NAME, ['n=n1', 'h=x']))],
    ['a has answer without h=', response(srv(KEY_NAME), txt(KEY_NAME, ['n=n1', 'v=1.0.n1']))],
    [
      'a has answer with a bad version',
      response(srv(KEY_NAME), txt(KEY_NAME, ['n=n1', 'v=yesterday', 'h=x'])),
    ],
    ['an absent answer without n=', response(txt(KEY_NAME, ['absent=1']))],
    ['an invalidate without changes', response(txt(INV_NAME, ['n=n1', 'inv=1', 's=1', 'w=n1']))],
    [
      'an invalidate without n=',
      response(txt(INV_NAME, ['inv=1', 's=1', 'w=n1', `c=${HASH}.1.0.0`])),
    ],
    [
      'an invalidate without s=',
      response(txt(INV_NAME, ['n=n1', 'inv=1', 'w=n1', `c=${HASH}.1.0.0`])),
    ],
    [
      'an invalidate with a bad version',
      response(txt(INV_NAME, ['n=n1', 'inv=1', 's=1', 'w=n1', `c=${HASH}.1.x.0`])),
    ],
    [
      'an invalidate naming a writer it does not list',
      response(txt(INV_NAME, ['n=n1', 'inv=1', 's=1', 'w=n1', `c=${HASH}.1.0.1`])),
    ],
    [
      'an invalidate with a bad key hash',
      response(txt(INV_NAME, ['n=n1', 'inv=1', 's=1', 'w=n1', 'c=NOT-A-HASH.1.0.0'])),
    ],
    [
      'an invalidate of more than 64 changes',
      response(
        txt(INV_NAME, ['n=n1', 'inv=1', 's=1', 'w=n1', ...Array(65).fill(`c=${HASH}.1.0.0`)]),
      ),
    ],
    [
      'an invalidate in two records',
      response(
        txt(INV_NAME, ['n=n1', 'inv=1', 's=1', 'w=n1', `c=${HASH}.1.0.0`]),
        txt(INV_NAME, ['n=n2', 'inv=1', 's=1', 'w=n2', `c=${HASH}.1.0.0`]),
      ),
    ],
    [
      'an invalidate of the earlier form, one record per key',
      response(txt(KEY_NAME, ['n=n1', 'inv=1', 's=1', 'v=1.0.n1'])),
    ],
    [
      'an announce that is not TXT',
      response({ name: `node.${SUFFIX}`, type: 'A', ttl: 0, data: '127.0.0.1' }),
    ],
    ...['n', 'http', 'keys', 'epoch', 'state', 'boot'].map((field): [string, Packet] => [
      `an announce without ${field}=`,
      response(
        txt(
          `node.${SUFFIX}`,
          ANNOUNCE_FIELDS.filter((f) => !f.startsWith(`${field}=`)),
        ),
      ),
    ]),
    ...['keys=many', 'keys=-1', 'keys=1.5', 'keys=', 'epoch=x', 'state=bored'].map(
      (bad): [string, Packet] => [
        `an announce with ${bad}`,
        response(
          txt(`node.${SUFFIX}`, [
            ...ANNOUNCE_FIELDS.filter((f) => !f.startsWith(bad.split('=')[0] as string)),
            bad,
          ]),
        ),
      ],
    ),
  ];

  for (const [name, raw] of malformed) {
    test(`${name} is malformed`, () => {
      assert.throws(() => decodeRaw(raw), isWireError('malformed'));
    });
  }

  test('the hand-built announce used above is itself accepted', () => {
    assert.equal(decodeRaw(response(txt(`node.${SUFFIX}`, ANNOUNCE_FIELDS))).kind, 'announce');
  });
});

describe('Wire.whoHasHash: a who-has query read from its bytes', () => {
  const wire = new Wire(CLUSTER);
  const bytes = (message: Message) => packet.encode(wire.encode(message));

  test('names the hash of a who-has query, signed or not, as the full decode does', () => {
    const query = bytes({ kind: 'who-has', keyHash: HASH });
    assert.equal(wire.whoHasHash(query), HASH);
    const signed = packet.encode(
      new PacketSigner('s'.repeat(32)).sign(wire.encode({ kind: 'who-has', keyHash: HASH })),
    );
    assert.equal(wire.whoHasHash(signed), HASH);
    assert.deepEqual(wire.decode(packet.decode(signed)), { kind: 'who-has', keyHash: HASH });
  });

  test('is undefined for every other message, another cluster and bad bytes', () => {
    const others: Message[] = [
      { kind: 'census' },
      { kind: 'absent', keyHash: HASH, node: 'n' },
      { kind: 'invalidate', node: 'n', seq: 1, changes: [{ keyHash: HASH, version: V }] },
      {
        kind: 'has',
        keyHash: HASH,
        node: 'n',
        http: '127.0.0.1:1',
        version: V,
        master: false,
        valueHash: 'h',
        deleted: false,
      },
    ];
    for (const message of others) assert.equal(wire.whoHasHash(bytes(message)), undefined);
    const foreign = packet.encode(new Wire('other').encode({ kind: 'who-has', keyHash: HASH }));
    assert.equal(wire.whoHasHash(foreign), undefined, 'another cluster');
    const query = bytes({ kind: 'who-has', keyHash: HASH });
    assert.equal(wire.whoHasHash(query.subarray(0, query.length - 3)), undefined, 'truncated');
    const upper = Buffer.from(query);
    upper[13] = 0x41; // 'A': not base32 as keyHash writes it
    assert.equal(wire.whoHasHash(upper), undefined, 'a bad hash');
    const aaaa = packet.encode({ type: 'query', questions: [{ name: KEY_NAME, type: 'AAAA' }] });
    assert.equal(wire.whoHasHash(aaaa), undefined, 'another question type');
  });
});

describe('keyHash', () => {
  test('is 26 lowercase base32 characters', () => {
    for (const key of ['a', 'some key', 'ключ/🙂', '.', 'x'.repeat(1024)]) {
      assert.match(keyHash('c', key), /^[a-z2-7]{26}$/);
    }
  });

  test('is the first 26 base32 characters of sha256(cluster + key)', () => {
    // An independent RFC 4648 base32 (lowercase), so tools outside diststore can compute H(key).
    const digest = createHash('sha256').update('unit').update('some key').digest();
    const bits = [...digest].map((byte) => byte.toString(2).padStart(8, '0')).join('');
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
    const expected = Array.from({ length: 26 }, (_, i) =>
      alphabet.charAt(Number.parseInt(bits.slice(i * 5, i * 5 + 5), 2)),
    ).join('');
    assert.equal(keyHash('unit', 'some key'), expected);
  });

  test('is stable for one cluster and key', () => {
    assert.equal(keyHash('c', 'k'), keyHash('c', 'k'));
  });

  test('differs per cluster and per key', () => {
    assert.notEqual(keyHash('c1', 'k'), keyHash('c2', 'k'));
    assert.notEqual(keyHash('c', 'k1'), keyHash('c', 'k2'));
  });
});

interface Received {
  message: Message;
  from: Peer;
}

interface TestNode {
  transport: Transport;
  received: Received[];
  drops: Array<{ reason: string; detail: string }>;
}

describe('createUdpTransport on loopback', () => {
  let clusterCount = 0;
  /** A cluster name no other test (or test process) uses. */
  const uniqueCluster = () => `unit-${process.pid}-${++clusterCount}`;

  /** Starts transports of one cluster on a fresh port; they are closed when the test ends. */
  async function startNodes(
    t: { after(fn: () => Promise<void>): void },
    count: number,
    cluster = uniqueCluster(),
    port?: number,
  ): Promise<{ nodes: TestNode[]; port: number; cluster: string }> {
    const groupPort = port ?? (await freePort('udp'));
    const nodes: TestNode[] = [];
    for (let i = 0; i < count; i++) {
      const received: Received[] = [];
      const drops: TestNode['drops'] = [];
      const transport = await createUdpTransport({
        cluster,
        group: GROUP,
        port: groupPort,
        interface: '127.0.0.1',
        ttl: 0,
        onDrop: (reason, detail) => drops.push({ reason, detail }),
      });
      t.after(() => transport.close());
      transport.onMessage((message, from) => received.push({ message, from }));
      nodes.push({ transport, received, drops });
    }
    return { nodes, port: groupPort, cluster };
  }

  /** A socket that sends to the group on the loopback interface, closed after the test. */
  async function groupSender(t: { after(fn: () => Promise<void>): void }): Promise<dgram.Socket> {
    const socket = dgram.createSocket('udp4');
    t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.setMulticastInterface('127.0.0.1');
    return socket;
  }

  const sendTo = (socket: dgram.Socket, message: Packet, port: number, address: string) =>
    new Promise<void>((resolve, reject) =>
      socket.send(packet.encode(message), port, address, (error) =>
        error ? reject(error) : resolve(),
      ),
    );

  /** Makes `node` answer every who-has with a `has` naming itself, by unicast to the asker. */
  function answerWhoHas(node: TestNode, id: string): void {
    node.transport.onMessage((message, from) => {
      if (message.kind !== 'who-has') return;
      node.transport.unicast(
        {
          kind: 'has',
          keyHash: message.keyHash,
          node: id,
          http: '127.0.0.1:8181',
          version: { wall: 1, counter: 2, node: id },
          master: true,
          valueHash: 'h',
          deleted: false,
        },
        from,
      );
    });
  }

  const kinds = (node: TestNode) => node.received.map((r) => r.message.kind);

  test('a multicast who-has reaches the other node and its unicast reply reaches the asker', async (t) => {
    const { nodes, cluster } = await startNodes(t, 2);
    const [asker, holder] = nodes as [TestNode, TestNode];
    answerWhoHas(holder, 'holder');
    const hash = keyHash(cluster, 'k');

    asker.transport.multicast({ kind: 'who-has', keyHash: hash });

    await waitFor(() => kinds(asker).includes('has'), 'the reply at the asker');
    assert.deepEqual(holder.received.find((r) => r.message.kind === 'who-has')?.message, {
      kind: 'who-has',
      keyHash: hash,
    });
    const reply = asker.received.find((r) => r.message.kind === 'has')?.message;
    assert.equal(reply?.kind === 'has' && reply.node, 'holder');
    assert.equal(reply?.kind === 'has' && reply.keyHash, hash);
    assert.equal(kinds(holder).includes('has'), false, 'the reply is unicast to the asker only');
    assert.equal(kinds(asker).includes('who-has'), false, 'the asker skips its own query');
    assert.deepEqual([...asker.drops, ...holder.drops], []);
  });

  test('a who-has this node could not answer is counted and goes no further: not decoded, not checked', async (t) => {
    const { nodes, port, cluster } = await startNodes(t, 1);
    const [asker] = nodes as [TestNode];
    const wanted = keyHash(cluster, 'held here');
    const received: Message[] = [];
    const counted: string[] = [];
    const drops: string[] = [];
    const bystander = await createUdpTransport({
      cluster,
      group: GROUP,
      port,
      interface: '127.0.0.1',
      ttl: 0,
      // With a secret: the asker's unsigned queries would be refused, if they were read.
      secret: 's'.repeat(32),
      onDrop: (reason) => drops.push(reason),
      onPacket: (direction, kind) => counted.push(`${direction} ${kind}`),
      mayAnswerWhoHas: (hash) => hash === wanted,
    });
    t.after(() => bystander.close());
    bystander.onMessage((message) => received.push(message));

    for (let i = 0; i < 20; i++) {
      asker.transport.multicast({ kind: 'who-has', keyHash: keyHash(cluster, `absent ${i}`) });
    }
    asker.transport.multicast({ kind: 'who-has', keyHash: wanted });

    await waitFor(() => drops.length === 1, 'the query it could answer, read and refused');
    assert.deepEqual(drops, ['unsigned']);
    await waitFor(() => counted.length === 20, 'the unanswerable queries counted as received');
    assert.deepEqual(new Set(counted), new Set(['in who-has']));
    assert.deepEqual(received, [], 'nothing unsigned handed on');
  });

  test("a node's own invalidations, looped back, are counted and not decoded; others' are", async (t) => {
    const { nodes, port, cluster } = await startNodes(t, 1);
    const [other] = nodes as [TestNode];
    const received: Message[] = [];
    const counted: string[] = [];
    const master = await createUdpTransport({
      cluster,
      group: GROUP,
      port,
      interface: '127.0.0.1',
      ttl: 0,
      onDrop: () => {},
      onPacket: (direction, kind) => counted.push(`${direction} ${kind}`),
    });
    t.after(() => master.close());
    master.onMessage((message) => received.push(message));
    const changes = (key: string) => [{ keyHash: keyHash(cluster, key), version: V }];

    for (let seq = 1; seq <= 3; seq++) {
      master.multicast({ kind: 'invalidate', seq, node: 'master', changes: changes(`k${seq}`) });
    }
    await waitFor(() => kinds(other).length === 3, 'the three at the other node');
    await waitFor(() => counted.filter((c) => c === 'in invalidate').length === 3, 'counted');
    assert.deepEqual(received, [], 'its own were not decoded');

    other.transport.multicast({
      kind: 'invalidate',
      seq: 1,
      node: 'other',
      changes: changes('k1'),
    });
    await waitFor(() => received.length === 1, "the other node's invalidation");
    // (Read through a cast: the deepEqual above narrowed `received` to an empty array's type.)
    const [got] = received as Message[];
    assert.equal(got?.kind === 'invalidate' && got.node, 'other');
  });

  test('a census is answered by unicast announce', async (t) => {
    const { nodes } = await startNodes(t, 2);
    const [joiner, member] = nodes as [TestNode, TestNode];
    member.transport.onMessage((message, from) => {
      if (message.kind !== 'census') return;
      member.transport.unicast(
        {
          kind: 'announce',
          node: 'member',
          http: '127.0.0.1:8181',
          keys: 4,
          epoch: 1,
          masters: ['member'],
          quorum: true,
          inv: 0,
          state: 'ready',
          boot: 'b',
        },
        from,
      );
    });

    joiner.transport.multicast({ kind: 'census' });

    await waitFor(() => kinds(joiner).includes('announce'), 'the announce at the joiner');
    const announce = joiner.received.find((r) => r.message.kind === 'announce')?.message;
    assert.equal(announce?.kind === 'announce' && announce.keys, 4);
  });

  test('garbage datagrams are counted as malformed and the transport keeps working', async (t) => {
    const { nodes, port, cluster } = await startNodes(t, 2);
    const [asker, holder] = nodes as [TestNode, TestNode];
    answerWhoHas(holder, 'holder');

    const sender = await groupSender(t);
    const garbage = [
      Buffer.from('hello, not DNS'),
      Buffer.alloc(12), // a valid DNS header: a query with no question
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      Buffer.alloc(0),
    ];
    for (const datagram of garbage) {
      await new Promise<void>((resolve, reject) =>
        sender.send(datagram, port, GROUP, (error) => (error ? reject(error) : resolve())),
      );
    }

    const drops = () => [...asker.drops, ...holder.drops];
    await waitFor(() => drops().length >= garbage.length, 'every garbage datagram to be dropped');
    assert.deepEqual(new Set(drops().map((d) => d.reason)), new Set(['malformed']));
    assert.deepEqual([...asker.received, ...holder.received], []);

    asker.transport.multicast({ kind: 'who-has', keyHash: keyHash(cluster, 'k') });
    await waitFor(() => kinds(asker).includes('has'), 'a reply after the garbage');
  });

  test("another cluster's packets on the same group and port are dropped as foreign", async (t) => {
    const { nodes, port } = await startNodes(t, 1);
    const [mine] = nodes as [TestNode];
    const { nodes: others } = await startNodes(t, 1, uniqueCluster(), port);
    const [theirs] = others as [TestNode];

    theirs.transport.multicast({ kind: 'census' });

    await waitFor(() => mine.drops.length > 0, 'the foreign census to be dropped');
    assert.deepEqual(
      mine.drops.map((d) => d.reason),
      ['foreign'],
    );
    assert.deepEqual(mine.received, []);
  });

  test('close() is safe to call twice and sending after it does not throw', async (t) => {
    const { nodes } = await startNodes(t, 1);
    const [node] = nodes as [TestNode];
    await node.transport.close();
    await node.transport.close();
    node.transport.multicast({ kind: 'census' });
    node.transport.unicast({ kind: 'census' }, { address: '127.0.0.1', port: 9 });
  });

  test('the cluster port takes only group datagrams: a unicast packet to it reaches no node', async (t) => {
    const { nodes, port, cluster } = await startNodes(t, 1);
    const [node] = nodes as [TestNode];
    const sender = await groupSender(t);
    const wire = new Wire(cluster);
    const announce = (id: string): Packet =>
      wire.encode({
        kind: 'announce',
        node: id,
        http: '127.0.0.1:1',
        keys: 0,
        epoch: 99,
        masters: [id],
        quorum: true,
        inv: 0,
        state: 'ready',
        boot: 'b',
      });
    await sendTo(sender, announce('by-unicast'), port, '127.0.0.1');
    await sendTo(sender, announce('by-group'), port, GROUP);
    await waitFor(() => kinds(node).includes('announce'), 'the group announce');
    assert.deepEqual(
      node.received.map((r) => r.message.kind === 'announce' && r.message.node),
      ['by-group'],
    );
  });

  test('the query socket takes only answers to its own outstanding queries', async (t) => {
    const { nodes, port, cluster } = await startNodes(t, 1);
    const [asker] = nodes as [TestNode];
    const wire = new Wire(cluster);
    // A stand-in for another node: it hears the query on the group and learns the query
    // socket's port from it, as any host on the segment could.
    const other = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    t.after(() => new Promise<void>((resolve) => other.close(() => resolve())));
    await new Promise<void>((resolve) => other.bind(port, GROUP, resolve));
    other.addMembership(GROUP, '127.0.0.1');
    const queryPort = new Promise<number>((resolve) =>
      other.on('message', (_message, rinfo) => resolve(rinfo.port)),
    );
    const asked = keyHash(cluster, 'asked');
    asker.transport.multicast({ kind: 'who-has', keyHash: asked });
    const to = await queryPort;
    const has = (hash: string): Packet =>
      wire.encode({
        kind: 'has',
        keyHash: hash,
        node: 'other',
        http: '127.0.0.1:8181',
        version: { wall: 1, counter: 0, node: 'other' },
        master: false,
        valueHash: 'h',
        deleted: false,
      });
    await sendTo(other, has(keyHash(cluster, 'never asked')), to, '127.0.0.1');
    await sendTo(other, wire.encode({ kind: 'census' }), to, '127.0.0.1');
    await sendTo(other, has(asked), to, '127.0.0.1');
    await waitFor(() => kinds(asker).includes('has'), 'the answer to the query');
    assert.deepEqual(
      asker.received.map((r) => r.message.kind === 'has' && r.message.keyHash),
      [asked],
    );
    assert.deepEqual(
      asker.drops.map((d) => d.reason),
      ['unsolicited', 'unsolicited'],
    );
  });
});
