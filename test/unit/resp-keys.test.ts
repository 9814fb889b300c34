import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RespContext, Session } from '../../server/resp/command.js';
import { dataCommands } from '../../server/resp/data-commands.js';

/**
 * KEYS walks every key this node holds: with a data dir of millions, seconds. It does so in
 * steps, the event loop turning between them, so the node keeps answering and announcing.
 */

const keysCommand = dataCommands.find((command) => command.name === 'KEYS');

test('KEYS over a large keyspace lets the event loop turn, and answers every match', async () => {
  const count = 300_000;
  const store = {
    *readableKeys() {
      for (let i = 0; i < count; i++) yield `k${i}`;
    },
  };
  const context = { node: { store } } as unknown as RespContext;
  const session = { protocol: 2 } as Session;
  let turns = 0;
  let walking = true;
  const turn = () => {
    if (!walking) return;
    turns++;
    setImmediate(turn);
  };
  setImmediate(turn);

  const reply = await keysCommand?.run([Buffer.from('KEYS'), Buffer.from('k1*')], session, context);
  walking = false;

  assert.ok(turns > 0, 'the event loop turned during the walk');
  // k1, k10–k19, k100–k199, … k100000–k199999.
  const text = Buffer.concat([reply as Buffer | Buffer[]].flat()).toString();
  assert.ok(text.startsWith('*111111\r\n'), text.slice(0, 20));
  assert.ok(text.includes('$7\r\nk199999\r\n'));
});
