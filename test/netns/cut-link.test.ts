import { describe, test } from 'node:test';
import { waitFor } from '../support/wait-for.js';
import { type NetnsNode, netnsSkipReason, readVersion, useNetnsFleet, write } from './harness.js';

describe('cut link (network namespaces)', { skip: netnsSkipReason(), timeout: 120_000 }, () => {
  const fleet = useNetnsFleet(3, 'cut');

  test('a non-master whose link was cut comes back and reads the keys written meanwhile', async () => {
    const f = fleet();
    const masters = await f.settled();
    const cut = f.nodes.find((n) => !masters.ids.includes(n.id)) as NetnsNode;
    const others = f.nodes.filter((n) => n !== cut);
    await write(cut, 'before-cut', 'old');

    await f.cut(cut.index);
    await waitFor(async () => {
      const statuses = await Promise.all(others.map((n) => n.status()));
      return statuses.every((s) => s.members.find((m) => m.id === cut.id)?.alive === false);
    }, 'the others to see the cut node as dead');
    const written = new Map<string, string>();
    for (let i = 0; i < 10; i++) {
      await write(others[i % 2] as NetnsNode, `meanwhile-${i}`, `v${i}`);
      written.set(`meanwhile-${i}`, `v${i}`);
    }
    await write(others[0] as NetnsNode, 'before-cut', 'new');
    written.set('before-cut', 'new');

    await f.heal();
    const after = await f.settled();
    console.log(
      `NOTE cut-heal masters before=${masters.epoch}:${masters.ids.join(',')} after=${after.epoch}:${after.ids.join(',')}`,
    );
    for (const [key, value] of written) {
      await waitFor(
        async () => (await readVersion(cut, '/get', key))?.value === value,
        `${key}=${value} on the node that was cut`,
      );
    }
  });
});
