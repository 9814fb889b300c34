import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { Anomaly } from '../../scripts/churn/checker.js';
import { runChurn } from '../../scripts/churn/run.js';
import { logAround, reportText } from '../../scripts/churn/summary.js';
import { netnsSkipReason } from './harness.js';

/**
 * A short randomized churn run (issue 13): 4 seeded faults (kill -9, SIGTERM, SIGSTOP,
 * partitions, cuts; masters targeted about half the time) on 5 namespace nodes with data dirs,
 * under 8 writers and 3 readers on 40 keys. A failure prints its seed and the command that
 * replays it.
 *
 * The seed is fixed (2: a partition splitting the masters, a SIGTERM, a paused master, a
 * master killed with -9) so that a run in `npm test` replays the same faults;
 * DISTSTORE_CHURN_SEED=<n> runs another seed, DISTSTORE_CHURN_SEED=random a new one each run,
 * and `npm run churn` runs long schedules (docs/reliability.md, "Churn").
 *
 * Asserted: no acknowledged write lost; every node agrees on every key within 10 s of the
 * last heal; no false 404 (a read answers 404 only when the masters said the key is absent),
 * but for the one the design allows: during a partition, for a key written only on its other
 * side (README, "During a partition"); no stale read more than 1 s after the last fault was
 * undone. Reported in the FIGURE line: those allowed 404s, stale reads during and just after
 * faults, and 503s (honest unavailability).
 */

const STEPS = 4;
const AGREE_WITHIN_MS = 10_000;
const SEED_SETTING = process.env.DISTSTORE_CHURN_SEED ?? '2';
const seed =
  SEED_SETTING === 'random' ? Math.floor(Math.random() * 1_000_000) : Number(SEED_SETTING);

describe('churn: random faults under a concurrent workload (network namespaces)', {
  skip: netnsSkipReason(),
  timeout: 120_000,
}, () => {
  test(`seed ${seed}: no acknowledged write lost, no false 404, agreement within 10 s of the last heal`, async () => {
    const replay = `replay: DISTSTORE_CHURN_SEED=${seed} node --import tsx --test test/netns/churn.test.ts, or npm run churn -- --seed ${seed} --steps ${STEPS}`;
    // Debug-level logs kept, so that a failure shows how the reading node served the read.
    mkdirSync('test-output', { recursive: true });
    const logsTo = `test-output/churn-test-${seed}`;
    const { report, history } = await runChurn({
      seed,
      steps: STEPS,
      agreementTimeoutMs: 15_000,
      logLevel: 'debug',
      logsTo,
    });
    const f = report.figures;
    console.log(
      `FIGURE churn seed=${seed} steps=${STEPS} writes_acked=${report.writes.ok}/${report.writes.attempted} reads_ok=${report.reads.ok}/${report.reads.attempted} lost=${report.lostKeys} lost_everywhere=${report.lostEverywhere} false_404_in_partition=${f.falseMissInPartition} false_404_outside=${f.falseMissOutsidePartition} false_404_across_partition=${f.falseMissAcrossPartition} stale_in_partition=${f.staleInPartition} stale_outside=${f.staleOutsidePartition} stale_late_after_fault=${f.staleLateAfterFault} unavailable_503_writes=${report.writes.unavailable} unavailable_503_reads=${report.reads.unavailable} agreement_ms=${report.agreementMs === undefined ? 'never' : Math.round(report.agreementMs)} agreement_first_round=${report.agreedInFirstRound}`,
    );
    // The anomalies, each with the faults around it (the first few of each kind).
    console.log(reportText(report, 3, history.finalMasters));
    const trace = (a: Anomaly | undefined) => {
      if (!a || history.startedAt === undefined) return '';
      const log = readFileSync(`${logsTo}-n${a.op.node}.log`, 'utf8');
      const lines = logAround(a, log, history.startedAt);
      return `\nnode ${a.op.node}'s log before its read of ${a.op.key} (ms since the run began):\n${lines.join('\n')}`;
    };
    const firstWrong = [...report.falseMisses, ...report.staleReads].find(
      (a) => !a.acrossPartition && (a.kind === 'false-404' || !a.duringFault),
    );
    const failure = `\n${reportText(report, 5, history.finalMasters)}${trace(firstWrong)}\n${replay}`;
    assert.equal(report.lostKeys, 0, `acknowledged writes lost (seed ${seed})${failure}`);
    assert.equal(
      report.falseMisses.filter((a) => !a.acrossPartition).length,
      0,
      `false 404s (seed ${seed})${failure}`,
    );
    assert.equal(
      f.staleLateAfterFault,
      0,
      `stale reads >1 s after a fault (seed ${seed})${failure}`,
    );
    assert.ok(
      report.agreementMs !== undefined && report.agreementMs <= AGREE_WITHIN_MS,
      `nodes agreed after ${report.agreementMs ?? 'never'} ms, over ${AGREE_WITHIN_MS} (seed ${seed})${failure}`,
    );
  });
});
