import type { Anomaly, Report } from './checker.js';

/**
 * The churn report as text: one table of figures per run, then the anomalies with the faults
 * around them (the first few of each kind; the JSON has all).
 */

/** The figures of several runs, one row each. */
export function summaryTable(reports: Report[]): string {
  const header = [
    'seed',
    'steps',
    'writes ok/all',
    'reads ok/all',
    'lost (gone)',
    'false 404 in/out',
    'stale in/≤1s after heal/else',
    'stale >1s after',
    '503 w/r',
    'agree ms',
  ];
  const rows = reports.map((r) => [
    String(r.seed),
    String(r.steps),
    `${r.writes.ok}/${r.writes.attempted}`,
    `${r.reads.ok}/${r.reads.attempted}`,
    `${r.lostKeys} (${r.lostEverywhere})`,
    `${r.figures.falseMissInPartition}/${r.figures.falseMissOutsidePartition}`,
    `${r.figures.staleInPartition}/${r.figures.staleJustAfterHeal}/${r.figures.staleOutsidePartition - r.figures.staleJustAfterHeal}`,
    String(r.figures.staleLateAfterFault),
    `${r.writes.unavailable}/${r.reads.unavailable}`,
    r.agreementMs === undefined
      ? 'never'
      : `${r.agreedInFirstRound ? '≤' : ''}${Math.round(r.agreementMs)}`,
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)),
  );
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** One anomaly in a line or two: the read, what was expected, the faults around it. */
export function describeAnomaly(a: Anomaly): string {
  const op = a.op;
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const got = op.status === 404 ? '404' : op.version;
  const around = [
    a.faultsActive.length > 0 ? `during ${a.faultsActive.join('; ')}` : 'no fault active',
    a.lastFaultEnded
      ? `last undone ${a.lastFaultEnded.agoMs} ms before: ${a.lastFaultEnded.fault}`
      : '',
  ].filter(Boolean);
  const w = a.expectedWrite;
  const acked = `acknowledged ${a.expected} (written on node ${w.node} at ${s(w.start)}–${s(w.end)} s)`;
  return `${a.kind} ${op.key} on node ${op.node} at ${s(op.start)}–${s(op.end)} s: got ${got}, ${acked}\n    ${around.join('\n    ')}`;
}

/** The full text report of one run. */
export function reportText(report: Report, limit = 5, finalMasters: string[] = []): string {
  const parts = [summaryTable([report])];
  if (finalMasters.length > 0)
    parts.push(`master sets at the end, by node: ${finalMasters.join(' | ')}`);
  if (report.lost.length > 0) {
    parts.push(`LOST acknowledged writes (${report.lost.length} node×key):`);
    for (const l of report.lost.slice(0, 20))
      parts.push(
        `  ${l.key} on node ${l.node}: ${l.reason}, got ${l.got}, acknowledged ${l.expected}`,
      );
  }
  if (report.disagreements.length > 0) {
    parts.push(`still disagreeing in the last round (${report.disagreements.length} keys):`);
    for (const d of report.disagreements.slice(0, 10)) parts.push(`  ${d}`);
  }
  for (const [name, list] of [
    ['false 404s', report.falseMisses],
    ['stale reads', report.staleReads],
  ] as const) {
    if (list.length === 0) continue;
    parts.push(`${name}: ${list.length} (first ${Math.min(limit, list.length)}):`);
    for (const a of list.slice(0, limit)) parts.push(`  ${describeAnomaly(a)}`);
  }
  return parts.join('\n');
}

/**
 * What the reading node logged about an anomaly (its key, or the key's hash in who-has
 * answers) and every line at info or above, from `beforeMs` before the read to its end:
 * enough to tell how it was served when only a test's output is at hand (CI).
 */
export function logAround(
  a: Anomaly,
  nodeLog: string,
  startedAt: number,
  beforeMs = 3000,
  limit = 80,
): string[] {
  const from = startedAt + a.op.start - beforeMs;
  const to = startedAt + a.op.end + 50;
  type Line = { text: string; time: number; level: number; key?: string; hash?: string };
  const inRange: Line[] = [];
  for (const text of nodeLog.split('\n')) {
    try {
      const { time = 0, level = 0, key, hash } = JSON.parse(text);
      if (time >= from && time <= to) inRange.push({ text, time, level, key, hash });
    } catch {
      // not a log line (a crash's stack trace): left out
    }
  }
  // Who-has answers name the key's hash only; the lookup's own line names both.
  const hashes = new Set(inRange.filter((l) => l.key === a.op.key && l.hash).map((l) => l.hash));
  const lines = inRange
    .filter((l) => l.key === a.op.key || (l.hash && hashes.has(l.hash)) || l.level >= 30)
    .map((l) => `${l.time - startedAt} ms ${l.text}`);
  return lines.slice(-limit);
}
