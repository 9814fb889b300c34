import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { netnsSkipReason } from '../../test/netns/harness.js';
import { check } from './checker.js';
import type { History } from './history.js';
import { runChurn } from './run.js';
import { reportText, summaryTable } from './summary.js';

/**
 * npm run churn -- --seed N --steps M [--runs K]
 * npm run churn -- --recheck test-output/churn-<seed>-<steps>.json …  (judges saved runs again)
 * Runs K seeded churn schedules (seeds N, N+1, …) on a 5-node namespace fleet, prints the
 * figures and writes each run's history and report to test-output/churn-<seed>-<steps>.json.
 * Exit 0 when no acknowledged write was lost and every run agreed within --agree-ms after its
 * last heal, 1 otherwise, 2 on bad usage, 3 when this host cannot make namespaces.
 */

const USAGE =
  'usage: npm run churn -- --seed N --steps M [--runs K] [--agree-ms 10000] (root, iproute2)\n' +
  '       npm run churn -- --recheck <run.json>...';

function main(): Promise<number> | number {
  let values: {
    seed?: string;
    steps?: string;
    runs?: string;
    'agree-ms'?: string;
    recheck?: boolean;
    help?: boolean;
  };
  let files: string[];
  try {
    ({ values, positionals: files } = parseArgs({
      allowPositionals: true,
      options: {
        recheck: { type: 'boolean' },
        seed: { type: 'string' },
        steps: { type: 'string' },
        runs: { type: 'string' },
        'agree-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`churn: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.recheck) return recheck(files);
  if (files.length > 0) {
    console.error(`churn: unexpected arguments ${files.join(' ')}\n${USAGE}`);
    return 2;
  }
  const seed = Number(values.seed ?? Date.now() % 1_000_000);
  const steps = Number(values.steps ?? 15);
  const runs = Number(values.runs ?? 1);
  const agreeMs = Number(values['agree-ms'] ?? 10_000);
  if (![seed, steps, runs, agreeMs].every((n) => Number.isInteger(n) && n >= 0) || steps < 1) {
    console.error(`churn: --seed, --steps, --runs and --agree-ms take whole numbers\n${USAGE}`);
    return 2;
  }
  const why = netnsSkipReason();
  if (why) {
    console.error(`churn: cannot run here: ${why}`);
    return 3;
  }
  return runAll(seed, steps, runs, agreeMs);
}

async function runAll(first: number, steps: number, runs: number, agreeMs: number) {
  mkdirSync('test-output', { recursive: true });
  const reports = [];
  let failed = false;
  for (let seed = first; seed < first + runs; seed++) {
    console.log(`churn: seed ${seed}, ${steps} steps`);
    const { history, report } = await runChurn({
      seed,
      steps,
      log: (line) => console.log(`  ${line}`),
      logsTo: `test-output/churn-${seed}-${steps}`,
    });
    const file = `test-output/churn-${seed}-${steps}.json`;
    writeFileSync(file, JSON.stringify({ report, history }, null, 1));
    console.log(
      `${reportText(report, 5, history.finalMasters)}\n  (all of it in ${file}, the nodes' logs in test-output/churn-${seed}-${steps}-n<i>.log)\n`,
    );
    reports.push(report);
    if (report.lostKeys > 0 || report.agreementMs === undefined || report.agreementMs > agreeMs) {
      failed = true;
      console.log(
        `FAILED seed ${seed}: replay with npm run churn -- --seed ${seed} --steps ${steps}`,
      );
    }
  }
  if (reports.length > 1) console.log(summaryTable(reports));
  return failed ? 1 : 0;
}

/** Judges saved histories again with this checker (e.g. after the checker changed). */
function recheck(files: string[]): number {
  const reports = files.map((file) => {
    const { history } = JSON.parse(readFileSync(file, 'utf8')) as { history: History };
    const report = check(history);
    console.log(`${file}\n${reportText(report, 5, history.finalMasters)}\n`);
    return report;
  });
  if (reports.length > 1) console.log(summaryTable(reports));
  return 0;
}

process.exitCode = await main();
