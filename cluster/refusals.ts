import type { Logger } from 'pino';
import { dropLog } from './drop-log.js';
import type { Metrics } from './metrics.js';
import type { Peer } from './transport.js';
import { formatVersion, type HybridClock, type Version } from './version.js';

/**
 * Input from other nodes that this node will not act on, counted by reason in /metrics and
 * logged without flooding the log: packets it drops, and versions too far ahead of its clock.
 */
export class Refusals {
  private readonly log: ReturnType<typeof dropLog>;

  constructor(
    private readonly clock: HybridClock,
    private readonly now: () => number,
    private readonly metrics: Metrics,
    logger: Logger,
  ) {
    this.log = dropLog(logger, {
      line: 'refused input from the cluster',
      summary: 'more input from the cluster was refused',
    });
  }

  /** Whether our clock admits a version from another node; if not, counted and logged. */
  admits(path: string, version: Version, detail: string): boolean {
    if (this.clock.admits(version)) return true;
    this.version(path, version, detail);
    return false;
  }

  /** Throws VersionAheadError (counted and logged) for a version our clock does not admit. */
  admitOrThrow(path: string, version: Version, detail: string): void {
    if (!this.admits(path, version, detail)) this.clock.check(version);
  }

  /** Counts and logs a version from another node that our clock does not admit. */
  version(path: string, version: Version, detail: string): void {
    this.metrics.versionsRefused.inc({ path });
    const ahead = version.wall - this.now();
    this.log('version-ahead', `${path}: ${detail} at ${formatVersion(version)}, ${ahead} ms ahead`);
  }

  /** Counts and logs a packet the node will not act on. */
  packet(reason: string, detail: string, from: Peer): void {
    this.metrics.packetsDropped.inc({ reason });
    this.log(reason, detail, `${from.address}:${from.port}`);
  }
}
