import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { check } from '../../scripts/churn/checker.js';
import type { Fault, History, Observation, Op, Round } from '../../scripts/churn/history.js';
import { chooseSide, chooseTarget, makeSchedule } from '../../scripts/churn/schedule.js';
import { logAround } from '../../scripts/churn/summary.js';

/** Version `wall.0.n0`: a larger wall is newer. */
const v = (wall: number) => `${wall}.0.n0`;

function write(key: string, value: string, start: number, end: number, version?: number): Op {
  const op: Op = { type: 'write', client: 'w0', node: 0, key, value, start, end, status: 200 };
  if (version === undefined) return { ...op, status: 0, error: 'timeout' };
  return { ...op, version: v(version) };
}

function read(key: string, start: number, end: number, got: number | 404 | 503, node = 1): Op {
  const op: Op = { type: 'read', client: 'r0', node, key, start, end, status: 200 };
  if (got === 404) return { ...op, status: 404, error: 'not_found' };
  if (got === 503) return { ...op, status: 503, error: 'lookup_incomplete' };
  return { ...op, version: v(got), value: `value-${got}` };
}

/** One round in which each of `nodes` answers `answers[key]` (a version's wall, or 404). */
function round(start: number, end: number, answers: Record<string, (number | 404)[]>): Round {
  const observations: Observation[] = Object.entries(answers).flatMap(([key, perNode]) =>
    perNode.map(
      (got, node): Observation =>
        got === 404
          ? { node, key, status: 404 }
          : { node, key, status: 200, version: v(got), value: `value-${got}` },
    ),
  );
  return { start, end, observations };
}

function history(ops: Op[], faults: Fault[], rounds: Round[], nodeCount = 2): History {
  const keys = [...new Set(ops.map((o) => o.key))];
  return {
    seed: 7,
    steps: faults.length,
    nodeCount,
    keys,
    ops,
    faults,
    lastHeal: 1000,
    quiet: 1000,
    rounds,
    finalMasters: [],
  };
}

const partition: Fault = {
  step: 1,
  kind: 'partition',
  nodes: [1],
  masters: [],
  masterSet: [0, 2],
  start: 100,
  end: 400,
};
const pause: Fault = {
  step: 2,
  kind: 'pause',
  nodes: [0],
  masters: [0],
  masterSet: [0, 2],
  start: 500,
  end: 700,
};

describe('churn checker', () => {
  test('a clean history: nothing lost, no anomaly, agreement measured from the last heal', () => {
    const ops = [
      write('a', 'value-10', 0, 10, 10),
      read('a', 20, 30, 10),
      write('a', 'value-50', 40, 50, 50),
      read('a', 60, 70, 50),
    ];
    const report = check(history(ops, [], [round(1000, 1150, { a: [50, 50] })]));
    assert.equal(report.lostKeys, 0);
    assert.deepEqual(report.staleReads, []);
    assert.deepEqual(report.falseMisses, []);
    assert.equal(report.agreementMs, 150);
    assert.equal(report.agreedInFirstRound, true, 'an upper bound: the first round agreed');
    assert.deepEqual(report.disagreements, []);
    assert.equal(report.writes.ok, 2);
    assert.equal(report.reads.ok, 2);
  });

  test('a read concurrent with a write may answer the old version: not stale', () => {
    const ops = [write('a', 'value-10', 0, 10, 10), write('a', 'value-50', 40, 80, 50)];
    ops.push(read('a', 60, 90, 10));
    assert.deepEqual(check(history(ops, [], [round(1000, 1010, { a: [50, 50] })])).staleReads, []);
  });

  test('a read older than a write acknowledged before it began is stale, with its faults', () => {
    const ops = [
      write('a', 'value-10', 0, 10, 10),
      write('a', 'value-50', 40, 50, 50),
      read('a', 200, 210, 10),
      read('a', 2000, 2010, 10),
    ];
    const report = check(history(ops, [partition, pause], [round(3000, 3010, { a: [50, 50] })]));
    assert.equal(report.staleReads.length, 2);
    const [during, late] = report.staleReads;
    assert.equal(during?.inPartition, true);
    assert.deepEqual(during?.faultsActive, ['#1 partition {1} 0.1–0.4 s']);
    assert.equal(during?.expected, v(50));
    assert.deepEqual(during?.expectedWrite, { node: 0, start: 40, end: 50 });
    assert.equal(late?.inPartition, false);
    assert.equal(late?.lastFaultEnded?.agoMs, 1300);
    assert.match(late?.lastFaultEnded?.fault ?? '', /#2 pause \{0\} masters \{0\}/);
    assert.deepEqual(report.figures, {
      staleInPartition: 1,
      staleOutsidePartition: 1,
      staleJustAfterHeal: 0,
      staleLateAfterFault: 1,
      falseMissInPartition: 0,
      falseMissOutsidePartition: 0,
      falseMissAcrossPartition: 0,
    });
  });

  test('a stale read within 1 s after a heal is counted apart from other stale reads', () => {
    const ops = [
      write('a', 'value-10', 0, 10, 10),
      write('a', 'value-50', 40, 50, 50),
      read('a', 900, 910, 10), // 500 ms after the partition healed
      read('a', 1500, 1510, 10), // 1.1 s after
    ];
    const report = check(history(ops, [partition], [round(3000, 3010, { a: [50, 50] })]));
    assert.equal(report.figures.staleOutsidePartition, 2);
    assert.equal(report.figures.staleJustAfterHeal, 1);
    assert.equal(report.figures.staleLateAfterFault, 1);
  });

  test('a 404 after an acknowledged write is a false miss; before any, it is not', () => {
    const ops = [
      read('a', 0, 5, 404),
      write('a', 'value-10', 10, 20, 10),
      read('a', 15, 25, 404),
      read('a', 600, 610, 404),
    ];
    const report = check(history(ops, [partition, pause], [round(1000, 1010, { a: [10, 10] })]));
    assert.equal(report.falseMisses.length, 1);
    assert.equal(report.falseMisses[0]?.op.start, 600);
    assert.equal(report.falseMisses[0]?.inPartition, false);
    assert.equal(report.falseMisses[0]?.duringFault, true);
    assert.equal(report.figures.falseMissOutsidePartition, 1);
    assert.equal(report.reads.notFound, 3);
  });

  test('a 404 on one side of a partition for a key written only on the other is told apart', () => {
    // Node 1 is cut off by `partition` (100–400 ms); node 0 writes.
    const onNode1 = (op: Op): Op => ({ ...op, node: 1 });
    const ops = [
      write('a', 'value-150', 150, 160, 150), // on node 0, during the partition
      read('a', 200, 210, 404, 1), // node 1, other side, before the heal: the allowed 404
      read('a', 220, 230, 404, 0), // node 0, same side: false
      onNode1(write('b', 'value-20', 20, 30, 20)), // before the partition
      onNode1(write('b', 'value-150', 150, 160, 150)), // on node 1, during it
      read('b', 200, 210, 404, 0), // b existed before the cut: false
    ];
    const report = check(
      history(ops, [partition], [round(1000, 1010, { a: [150, 150], b: [150, 150] })]),
    );
    assert.deepEqual(
      report.falseMisses.map((a) => [a.op.key, a.op.node, a.acrossPartition]),
      [
        ['a', 1, true],
        ['a', 0, false],
        ['b', 0, false],
      ],
    );
    assert.equal(report.figures.falseMissInPartition, 3);
    assert.equal(report.figures.falseMissAcrossPartition, 1);
  });

  test('503s are counted apart, never as misses or stale reads', () => {
    const ops = [write('a', 'value-10', 0, 10, 10), read('a', 20, 30, 503)];
    ops.push({ ...write('a', 'value-20', 40, 50, 20), status: 503, version: undefined });
    const report = check(history(ops, [], [round(1000, 1010, { a: [10, 10] })]));
    assert.equal(report.reads.unavailable, 1);
    assert.equal(report.writes.unavailable, 1);
    assert.equal(report.writes.ok, 1);
    assert.deepEqual([report.falseMisses, report.staleReads], [[], []]);
  });

  test('a node that ends older than, or without, the newest acknowledged write lost it', () => {
    const ops = [
      write('a', 'value-10', 0, 10, 10),
      write('a', 'value-50', 40, 50, 50),
      write('b', 'value-30', 0, 10, 30),
    ];
    const report = check(history(ops, [], [round(1000, 1010, { a: [50, 10], b: [404, 30] })]));
    assert.equal(report.lostKeys, 2);
    assert.equal(report.lostEverywhere, 0, 'node 0 holds a, node 1 holds b');
    assert.deepEqual(
      report.lost.map((l) => [l.key, l.node, l.reason]),
      [
        ['a', 1, 'older'],
        ['b', 0, 'missing'],
      ],
    );
    assert.equal(report.agreementMs, undefined);
    assert.equal(report.disagreements.length, 2);
  });

  test('a newer unacknowledged write may win; a value nobody wrote is flagged', () => {
    const ops = [write('a', 'value-10', 0, 10, 10), write('a', 'value-90', 20, 1004)];
    const ok = check(history(ops, [], [round(1000, 1010, { a: [90, 90] })]));
    assert.equal(ok.lostKeys, 0);
    assert.equal(ok.agreementMs, 6, 'measured from the last write answer after the heal');
    const planted = check(history(ops, [], [round(1000, 1010, { a: [77, 77] })]));
    assert.equal(planted.lost[0]?.reason, 'unknown-value');
    const gone = check(history(ops, [], [round(1000, 1010, { a: [404, 5] })]));
    assert.equal(gone.lostEverywhere, 1);
  });

  test('agreement is the first round where every node answers the same, newest version', () => {
    const ops = [write('a', 'value-10', 0, 10, 10), write('a', 'value-50', 40, 50, 50)];
    const rounds = [
      round(1000, 1100, { a: [50, 10] }),
      round(1100, 1200, { a: [10, 10] }),
      round(1200, 1300, { a: [50, 50] }),
    ];
    const report = check(history(ops, [], rounds));
    assert.equal(report.agreementMs, 300);
    assert.equal(report.agreementRoundMs, 100);
    assert.equal(report.agreedInFirstRound, false);
  });
});

describe('churn log excerpt', () => {
  test("the reading node's lines on the key, its hash and at info or above, in the window", () => {
    const stale = check(
      history(
        [
          write('a', 'value-10', 0, 10, 10),
          write('a', 'value-50', 40, 50, 50),
          read('a', 2000, 2010, 10),
        ],
        [],
        [],
      ),
    ).staleReads[0];
    assert.ok(stale);
    const at = (ms: number, fields: object) => JSON.stringify({ time: 1_000_000 + ms, ...fields });
    const log = [
      at(500, { level: 30, msg: 'too early' }),
      at(1500, { level: 20, hash: 'hb', msg: 'who-has answer' }),
      at(1600, { level: 20, hash: 'ha', msg: 'who-has answer' }),
      at(1700, { level: 20, key: 'a', hash: 'ha', msg: 'looked up' }),
      at(1800, { level: 20, key: 'b', msg: 'served as held' }),
      at(1900, { level: 30, msg: 'master set changed' }),
      'a stack trace line',
      at(2005, { level: 20, key: 'a', msg: 'served as held' }),
      at(2500, { level: 20, key: 'a', msg: 'too late' }),
    ].join('\n');
    const lines = logAround(stale, log, 1_000_000, 1000);
    assert.deepEqual(
      lines.map((l) => l.replace(/ \{.*"msg":"([^"]+)".*$/, ' $1')),
      [
        '1600 ms who-has answer',
        '1700 ms looked up',
        '1900 ms master set changed',
        '2005 ms served as held',
      ],
    );
  });
});

describe('churn schedule', () => {
  test('the same seed gives the same schedule; another seed another', () => {
    assert.deepEqual(makeSchedule({ seed: 42, steps: 15 }), makeSchedule({ seed: 42, steps: 15 }));
    assert.notDeepEqual(
      makeSchedule({ seed: 42, steps: 15 }),
      makeSchedule({ seed: 43, steps: 15 }),
    );
  });

  test('every kind of fault appears and about half of the steps target a master', () => {
    const steps = makeSchedule({ seed: 1, steps: 400 });
    const kinds = new Set(steps.map((s) => s.kind));
    assert.deepEqual([...kinds].sort(), ['cut', 'kill9', 'partition', 'pause', 'sigterm']);
    const atMasters = steps.filter((s) => s.targetsMaster).length;
    assert.ok(atMasters > 160 && atMasters < 240, `${atMasters} of 400 target a master`);
    for (const s of steps) {
      assert.ok(s.holdMs >= 1500 && s.holdMs <= 4000);
      assert.ok(s.gapMs >= 500 && s.gapMs <= 2500);
    }
  });

  test('targets: a master when asked, else a non-master; a side of two splits the masters', () => {
    const [step] = makeSchedule({ seed: 3, steps: 1 });
    assert.ok(step);
    const masters = [1, 3];
    assert.ok(masters.includes(chooseTarget({ ...step, targetsMaster: true }, 5, masters)));
    assert.ok(!masters.includes(chooseTarget({ ...step, targetsMaster: false }, 5, masters)));
    const side = chooseSide({ ...step, sideSize: 2 }, 5, masters, 3);
    assert.equal(side.length, 2);
    assert.ok(side.includes(3));
    assert.equal(side.filter((n) => masters.includes(n)).length, 1);
  });
});
