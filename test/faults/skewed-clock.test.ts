import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clockMovedBy, SKIP_WITHOUT_FAKETIME } from '../support/faketime.js';
import { Fleet, type NodeProcess } from '../support/fleet.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Nodes whose clocks are wrong, by libfaketime (Debian's faketime): masters A and C on the
 * machine's clock, B an hour behind, D an hour ahead. Sequential writes across A and B end
 * with the later one everywhere; B and D are reported off the cluster's clock; D, too far
 * ahead to be admitted, takes no writes and says why.
 */

interface Written {
  version: string;
  code?: string;
  error?: string;
}

describe('nodes with wrong clocks', { skip: SKIP_WITHOUT_FAKETIME }, () => {
  let fleet: Fleet;
  let a: NodeProcess;
  let b: NodeProcess;
  let c: NodeProcess;
  let d: NodeProcess;

  before(async () => {
    fleet = await Fleet.start(2);
    b = await fleet.add([], clockMovedBy('-1h'));
    d = await fleet.add([], clockMovedBy('+1h'));
    [a, c] = [fleet.node(0), fleet.node(1)];
    const masters = await fleet.settled();
    assert.deepEqual([...masters.ids].sort(), [a.id, c.id].sort(), 'A and C stay the masters');
  });

  after(() => fleet?.close());

  async function post(node: NodeProcess, key: string, value: string) {
    const response = await node.post('/post', { key, value });
    return { status: response.status, body: (await response.json()) as Written };
  }

  async function valuesOf(key: string): Promise<string> {
    const values: string[] = [];
    for (const [name, node] of [
      ['A', a],
      ['B', b],
      ['C', c],
      ['D', d],
    ] as const) {
      const response = await node.get(`/get/${key}`);
      values.push(`${name}=${response.status === 200 ? await response.text() : response.status}`);
    }
    return values.join(' ');
  }

  test('the nodes off the cluster clock are reported, with their offsets', async () => {
    const offsetOf = async (node: NodeProcess) => (await node.status()).clock;
    await waitFor(async () => (await offsetOf(b)).off && (await offsetOf(d)).off, 'B and D off');
    const [ofA, ofB, ofD] = [await offsetOf(a), await offsetOf(b), await offsetOf(d)];
    assert.equal(ofA.off, false);
    assert.ok(Math.abs(ofA.offsetSeconds ?? Number.NaN) < 1, `A: ${ofA.offsetSeconds}`);
    assert.ok(Math.abs((ofB.offsetSeconds ?? 0) + 3600) < 5, `B: ${ofB.offsetSeconds}`);
    assert.ok(Math.abs((ofD.offsetSeconds ?? 0) - 3600) < 5, `D: ${ofD.offsetSeconds}`);
    const seenFromA = (await a.status()).members.find((m) => m.id === b.id);
    assert.ok(Math.abs((seenFromA?.clockOffsetSeconds ?? 0) + 3600) < 5);
    const gauge = await b.metric('diststore_clock_offset_seconds');
    assert.ok(Math.abs(gauge + 3600) < 5, `B's gauge: ${gauge}`);
    console.log(
      `FIGURE skewed clocks: offsets from the cluster median A ${ofA.offsetSeconds} s, B ${ofB.offsetSeconds} s, D ${ofD.offsetSeconds} s`,
    );
  });

  test('a write on the node an hour behind, after one on a master, wins everywhere', async () => {
    const first = await post(a, 'k', 'v1');
    assert.equal(first.status, 200);
    const second = await post(b, 'k', 'v2');
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(await valuesOf('k'), 'A=v2 B=v2 C=v2 D=v2');

    // A key B never held, and then back the other way.
    assert.equal((await post(a, 'fresh', 'v1')).status, 200);
    assert.equal((await post(b, 'fresh', 'v2')).status, 200);
    assert.equal(await valuesOf('fresh'), 'A=v2 B=v2 C=v2 D=v2');
    assert.equal((await post(a, 'fresh', 'v3')).status, 200);
    assert.equal(await valuesOf('fresh'), 'A=v3 B=v3 C=v3 D=v3');
  });

  test('the node an hour ahead takes no writes, says why, and stores nothing', async () => {
    const refused = await post(d, 'from-the-future', 'v');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.code, 'clock_ahead');
    assert.match(refused.body.error ?? '', /clock is ahead of the cluster's \(3\d{3}\.\d s ahead/);
    assert.equal(await valuesOf('from-the-future'), 'A=404 B=404 C=404 D=404');
  });
});
