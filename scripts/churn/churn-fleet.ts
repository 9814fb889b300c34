import { randomBytes } from 'node:crypto';
import type { NodeStatus } from '../../cluster/node-status.js';
import { NetnsFleet } from '../../test/netns/harness.js';

/**
 * The churn run's fleet: test/netns/harness.ts's NetnsFleet (namespaces, signals, links,
 * teardown even on failure, restarts that wait for the old process to be gone), with what
 * churn adds around it: a data dir and the cluster secret for every node, and the master set
 * as the fleet sees it.
 */

/** A random cluster secret of 32 characters. */
export function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}

export interface ChurnFleetOptions {
  count: number;
  /** Directory under which node i keeps its data in `n<i>/`. */
  dataRoot: string;
  secret: string;
  announceMs: number;
  /** The nodes' --log-level (default: DISTSTORE_TEST_LOG, else info). */
  logLevel?: string;
}

export class ChurnFleet {
  private constructor(readonly fleet: NetnsFleet) {}

  /** Namespaces for `count` nodes, every node started and agreeing on masters. */
  static async up({
    count,
    dataRoot,
    secret,
    announceMs,
    logLevel,
  }: ChurnFleetOptions): Promise<ChurnFleet> {
    const fleet = await NetnsFleet.up(count, 'churn', {
      announceMs,
      args: ['--secret', secret, ...(logLevel ? ['--log-level', logLevel] : [])],
      perNode: (index) => ['--data-dir', `${dataRoot}/n${index}`],
    });
    try {
      await fleet.startAll();
      await fleet.settled(fleet.nodes, 30_000);
    } catch (error) {
      await fleet.down();
      throw error;
    }
    return new ChurnFleet(fleet);
  }

  get urls(): string[] {
    return this.fleet.nodes.map((n) => `http://${n.id}`);
  }

  /** Starts node `index` again (its data dir and the secret); waits until it answers /health. */
  async start(index: number, timeoutMs = 30_000): Promise<void> {
    await this.fleet.start(index, timeoutMs);
  }

  /** Every node's /status (undefined when it does not answer within 2 s). */
  private statuses(): Promise<(NodeStatus | undefined)[]> {
    return Promise.all(
      this.fleet.nodes.map(async (n) => {
        try {
          const response = await fetch(n.url('/status'), { signal: AbortSignal.timeout(2000) });
          return (await response.json()) as NodeStatus;
        } catch {
          return undefined;
        }
      }),
    );
  }

  /** Each node's master set as `epoch:id,id` (`no answer` for a silent node). */
  async masterSets(): Promise<string[]> {
    return (await this.statuses()).map((s) =>
      s ? `${s.masters.epoch}:${s.masters.ids.join(',')}` : 'no answer',
    );
  }

  /**
   * Indices of the masters most answering nodes agree on (answers within 2 s); empty when no
   * node answers.
   */
  async masters(): Promise<number[]> {
    const statuses = await this.statuses();
    const votes = new Map<string, number>();
    for (const s of statuses) {
      if (!s) continue;
      const set = s.masters.ids.join(',');
      votes.set(set, (votes.get(set) ?? 0) + 1);
    }
    const [best] = [...votes].sort((a, b) => b[1] - a[1])[0] ?? [''];
    const ids = best ? best.split(',') : [];
    return this.fleet.nodes.filter((n) => ids.includes(n.id)).map((n) => n.index);
  }

  down(): Promise<void> {
    return this.fleet.down();
  }
}
