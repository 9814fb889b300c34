import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import packet, { type Packet } from 'dns-packet';
import { bodyDigest, RequestAuth } from '../../cluster/request-auth.js';
import { PacketSigner } from '../../cluster/signing.js';
import { Wire } from '../../cluster/wire.js';

const SECRET = 'a-cluster-secret-of-some-length';
const wire = new Wire('unit');
const announce = wire.encode({
  kind: 'announce',
  node: 'n1',
  http: '127.0.0.1:8181',
  keys: 3,
  epoch: 7,
  masters: ['n1', 'n2'],
  quorum: true,
  inv: 0,
  state: 'ready',
  boot: 'b',
});
/** What a receiver gets: the bytes on the wire, decoded. */
const overTheWire = (p: Packet) => packet.decode(packet.encode(p));

describe('PacketSigner', () => {
  test('a signed packet verifies and comes back without its signature', () => {
    const signer = new PacketSigner(SECRET, 10_000, () => 1_000_000);
    const verdict = signer.verify(overTheWire(signer.sign(announce)));
    assert.ok('packet' in verdict);
    assert.deepEqual(wire.decode(verdict.packet), wire.decode(announce));
  });

  test('unsigned, forged, tampered, replayed and stale packets are rejected', () => {
    let now = 1_000_000;
    const signer = new PacketSigner(SECRET, 10_000, () => now);
    const stranger = new PacketSigner('another-secret-entirely', 10_000, () => now);
    assert.deepEqual(signer.verify(overTheWire(announce)), { rejected: 'unsigned' });
    assert.deepEqual(signer.verify(overTheWire(stranger.sign(announce))), { rejected: 'forged' });

    const sent = signer.sign(announce);
    const signed = overTheWire(sent);
    const tampered = overTheWire(sent);
    const txt = tampered.answers?.[0] as { data: Buffer[] };
    txt.data = txt.data.map((d) => (d.toString() === 'epoch=7' ? Buffer.from('epoch=99') : d));
    assert.deepEqual(signer.verify(tampered), { rejected: 'forged' });

    assert.ok('packet' in signer.verify(signed));
    assert.deepEqual(signer.verify(signed), { rejected: 'replayed' }, 'the same packet twice');

    const old = overTheWire(signer.sign(announce));
    now += 10_001;
    assert.deepEqual(
      signer.verify(old),
      { rejected: 'clock-skew', aheadMs: -10_001 },
      'outside the window, by how much',
    );
  });
});

describe('PacketSigner on the datagram bytes', () => {
  test('checks the bytes as sent, without encoding the packet again', () => {
    let now = 1_000_000;
    const signer = new PacketSigner(SECRET, 10_000, () => now);
    const bytes = packet.encode(signer.sign(announce));
    const verdict = signer.verify(packet.decode(bytes), bytes);
    assert.ok('packet' in verdict);
    assert.deepEqual(wire.decode(verdict.packet), wire.decode(announce));
    assert.deepEqual(signer.verify(packet.decode(bytes), bytes), { rejected: 'replayed' });

    const stranger = new PacketSigner('another-secret-entirely', 10_000, () => now);
    const forged = packet.encode(stranger.sign(announce));
    assert.deepEqual(signer.verify(packet.decode(forged), forged), { rejected: 'forged' });

    // One byte of the signed part changed (inside a TXT string, so it still decodes).
    now += 1; // not a replay of the first
    const sent = packet.encode(signer.sign(announce));
    const tampered = Buffer.from(sent);
    const at = tampered.indexOf('epoch=7') + 6;
    tampered[at] = '9'.charCodeAt(0);
    assert.deepEqual(signer.verify(packet.decode(tampered), tampered), { rejected: 'forged' });
    assert.ok('packet' in signer.verify(packet.decode(sent), sent), 'the untouched one passes');

    now += 10_001;
    const old = packet.encode(new PacketSigner(SECRET, 10_000, () => now - 10_001).sign(announce));
    assert.deepEqual(signer.verify(packet.decode(old), old), {
      rejected: 'clock-skew',
      aheadMs: -10_001,
    });
  });

  test('signedBytes are the bytes of the signed packet, made with one encoding', () => {
    const signer = new PacketSigner(SECRET, 10_000, () => 1_000_000);
    const bytes = signer.signedBytes(announce);
    assert.deepEqual(bytes, packet.encode(signer.sign(announce)));
    const receiver = new PacketSigner(SECRET, 10_000, () => 1_000_000);
    assert.ok('packet' in receiver.verify(packet.decode(bytes), bytes));
  });

  test('a signature record not where the signer writes it is refused', () => {
    const signer = new PacketSigner(SECRET, 10_000, () => 1_000_000);
    const signed = signer.sign(announce);
    // The same records, the signature moved before another additional record.
    const extra = { name: 'x._diststore.local', type: 'TXT' as const, ttl: 0, data: ['x=1'] };
    const moved = packet.encode({
      ...signed,
      additionals: [
        ...(signed.additionals ?? []).slice(0, -1),
        extra,
        ...(signed.additionals ?? []).slice(-1),
      ],
    });
    assert.deepEqual(signer.verify(packet.decode(moved), moved), { rejected: 'forged' });
  });
});

describe('request authentication', () => {
  const PATH = '/internal/replicate?key=a';
  const TARGET = '127.0.0.1:8181';
  const clockAt = (start: number) => {
    const clock = { now: start };
    return { clock, auth: new RequestAuth(SECRET, () => clock.now) };
  };

  test('a signed request verifies once; another path, method, target, secret or time does not', () => {
    const { clock, auth } = clockAt(5_000_000);
    const digest = bodyDigest(Buffer.from('frames'));
    const { header, nonce } = auth.sign('POST', PATH, TARGET, digest);
    const fresh = () => new RequestAuth(SECRET, () => clock.now);
    assert.deepEqual(fresh().verify(header, 'POST', '/internal/replicate?key=b', TARGET), {
      rejected: 'forged',
    });
    assert.deepEqual(fresh().verify(header, 'GET', PATH, TARGET), { rejected: 'forged' });
    assert.deepEqual(fresh().verify(header, 'POST', PATH, '127.0.0.1:8182'), {
      rejected: 'forged',
    });
    assert.deepEqual(
      new RequestAuth('another-secret-entirely', () => clock.now).verify(
        header,
        'POST',
        PATH,
        TARGET,
      ),
      { rejected: 'forged' },
    );
    assert.deepEqual(fresh().verify(undefined, 'POST', PATH, TARGET), { rejected: 'unsigned' });
    assert.deepEqual(fresh().verify('garbage', 'POST', PATH, TARGET), { rejected: 'unsigned' });
    const [t, n, , mac] = header.split('.');
    const otherBody = `${t}.${n}.${bodyDigest(Buffer.from('planted'))}.${mac}`;
    assert.deepEqual(fresh().verify(otherBody, 'POST', PATH, TARGET), { rejected: 'forged' });

    clock.now += 1000;
    assert.deepEqual(auth.verify(header, 'POST', PATH, TARGET), { nonce, digest });
    assert.deepEqual(auth.verify(header, 'POST', PATH, TARGET), { rejected: 'replayed' });
    clock.now += 10_000;
    assert.deepEqual(fresh().verify(header, 'POST', PATH, TARGET), { rejected: 'clock-skew' });
  });

  test('an answer verifies only for the request that carried its nonce, unchanged', () => {
    const { auth } = clockAt(1);
    const headers: Record<string, string> = {
      'content-type': 'text/plain',
      'x-diststore-version': '5.0.n1',
    };
    const header = (name: string) => headers[name];
    const body = bodyDigest(Buffer.from('value'));
    const signed = auth.signAnswer('nonce-1', 200, header, body);
    assert.ok(auth.verifyAnswer('nonce-1', signed, 200, header, body));
    assert.ok(!auth.verifyAnswer('nonce-2', signed, 200, header, body), 'another request');
    assert.ok(!auth.verifyAnswer('nonce-1', signed, 404, header, body), 'another status');
    assert.ok(!auth.verifyAnswer('nonce-1', signed, 200, header, bodyDigest(Buffer.from('v2'))));
    headers['x-diststore-version'] = '9.0.n1';
    assert.ok(!auth.verifyAnswer('nonce-1', signed, 200, header, body), 'another version');
    assert.ok(!auth.verifyAnswer('nonce-1', undefined, 200, header, body), 'unsigned');
  });

  test('a sealed stream opens whole, however it is cut, and refuses a change, a cut or another nonce', async () => {
    const { auth } = clockAt(1);
    const chunks = [Buffer.from('first chunk'), Buffer.from('second')];
    const sealed = Buffer.concat([...auth.seal('n', chunks)]);
    const open = async (bytes: Buffer[], nonce = 'n') => {
      const out: Buffer[] = [];
      for await (const chunk of auth.open(nonce, bytes)) out.push(chunk);
      return Buffer.concat(out).toString();
    };
    const byteByByte = [...sealed].map((b) => Buffer.from([b]));
    assert.equal(await open(byteByByte), 'first chunksecond');
    await assert.rejects(open([sealed], 'other'), /not authentic/);
    await assert.rejects(open([sealed.subarray(0, sealed.length - 40)]), /cut short/);
    const tampered = Buffer.from(sealed);
    tampered[6] = (tampered[6] as number) ^ 1;
    await assert.rejects(open([tampered]), /not authentic/);
  });
});
