import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';

type Answer = {
  status: number;
  body: { version?: string; current?: string | null; code?: string };
};

async function post(node: NodeProcess, fields: Record<string, string>): Promise<Answer> {
  const response = await node.post('/post', fields);
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

describe('conditional writes are decided on the masters', () => {
  const fleet = useFleet(4);
  let members: NodeProcess[];
  before(async () => {
    const masters = (await fleet.node(0).status()).masters.ids;
    members = fleet.nodes.filter((n) => !masters.includes(n.id));
  });

  test('two racers with the same ifVersion: exactly one wins, the other gets 409', async () => {
    const [a, b] = members as [NodeProcess, NodeProcess];
    const first = await post(a, { key: 'cas', value: 'v0' });
    const version = first.body.version as string;
    for (let round = 0; round < 10; round++) {
      const current = (await a.get('/get/cas')).headers.get('x-diststore-version') as string;
      const answers = await Promise.all([
        post(a, { key: 'cas', value: `a${round}`, ifVersion: current }),
        post(b, { key: 'cas', value: `b${round}`, ifVersion: current }),
      ]);
      const statuses = answers.map((x) => x.status).sort();
      assert.deepEqual(statuses, [200, 409], `round ${round}`);
      const loser = answers.find((x) => x.status === 409) as Answer;
      const winner = answers.find((x) => x.status === 200) as Answer;
      assert.equal(loser.body.code, 'conflict');
      assert.equal(loser.body.current, winner.body.version);
      // Every node reads the winner's value.
      for (const node of fleet.nodes) {
        const read = await node.get('/get/cas');
        assert.equal(read.headers.get('x-diststore-version'), winner.body.version);
      }
    }
    assert.notEqual(version, undefined);
  });

  test('ifAbsent: one of two racers creates the key', async () => {
    const [a, b] = members as [NodeProcess, NodeProcess];
    const answers = await Promise.all([
      post(a, { key: 'once', value: 'from a', ifAbsent: '1' }),
      post(b, { key: 'once', value: 'from b', ifAbsent: '1' }),
    ]);
    assert.deepEqual(answers.map((x) => x.status).sort(), [200, 409]);
    const winner = answers[0]?.status === 200 ? 'from a' : 'from b';
    assert.equal(await (await fleet.node(0).get('/get/once')).text(), winner);
  });

  test('a stale ifVersion and a bad condition change nothing', async () => {
    const node = members[0] as NodeProcess;
    const written = await post(node, { key: 'guarded', value: 'kept' });
    const stale = await post(node, { key: 'guarded', value: 'lost', ifVersion: '1.0.nobody' });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.current, written.body.version);
    const bad = await post(node, { key: 'guarded', value: 'lost', ifVersion: 'yesterday' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'bad_condition');
    assert.equal(await (await node.get('/get/guarded')).text(), 'kept');
  });
});
