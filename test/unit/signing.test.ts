import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import packet, { type Packet } from 'dns-packet';
import { authHeader, isAuthentic } from '../../cluster/request-auth.js';
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
    assert.deepEqual(signer.verify(old), { rejected: 'clock-skew' }, 'outside the window');
  });
});

describe('request authentication', () => {
  test('a signed request verifies; another path, method, secret or time does not', () => {
    const now = 5_000_000;
    const header = authHeader(SECRET, 'POST', '/internal/replicate?key=a', now);
    assert.ok(isAuthentic(SECRET, header, 'POST', '/internal/replicate?key=a', now + 1000));
    assert.ok(!isAuthentic(SECRET, header, 'POST', '/internal/replicate?key=b', now));
    assert.ok(!isAuthentic(SECRET, header, 'GET', '/internal/replicate?key=a', now));
    assert.ok(
      !isAuthentic('another-secret-entirely', header, 'POST', '/internal/replicate?key=a', now),
    );
    assert.ok(!isAuthentic(SECRET, header, 'POST', '/internal/replicate?key=a', now + 60_000));
    assert.ok(!isAuthentic(SECRET, undefined, 'POST', '/internal/replicate?key=a', now));
    assert.ok(!isAuthentic(SECRET, 'garbage', 'POST', '/internal/replicate?key=a', now));
  });
});
