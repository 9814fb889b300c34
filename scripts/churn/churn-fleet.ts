import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Status } from '../../test/integration/fleet.js';
import { waitFor } from '../../test/integration/fleet.js';
import { NetnsFleet } from '../../test/netns/harness.js';

/**
 * The churn run's fleet: test/netns/harness.ts's NetnsFleet (namespaces, signals, links,
 * teardown even on failure), with what churn adds around it: a data dir and the cluster
 * secret for every node, restarts that wait for the old process to be gone, and the master
 * set as the fleet sees it.
 */

const SCRIPT = fileURLToPath(new URL('../netns-fleet', import.meta.url));
const run = promisify(execFile);

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
}

export class ChurnFleet {
  private constructor(
    readonly fleet: NetnsFleet,
    private readonly options: ChurnFleetOptions,
  ) {}

  /** Namespaces for `count` nodes, every node started and agreeing on masters. */
  static async up(options: ChurnFleetOptions): Promise<ChurnFleet> {
    const fleet = await NetnsFleet.up(options.count, 'churn');
    const churn = new ChurnFleet(fleet, options);
    try {
      await Promise.all(fleet.nodes.map((n) => churn.start(n.index)));
      await fleet.settled(fleet.nodes, 30_000);
    } catch (error) {
      await fleet.down();
      throw error;
    }
    return churn;
  }

  get urls(): string[] {
    return this.fleet.nodes.map((n) => `http://${n.id}`);
  }

  /** Starts node `index` with its data dir and the secret; waits until it answers /health. */
  async start(index: number, timeoutMs = 30_000): Promise<void> {
    const { dataRoot, secret, announceMs } = this.options;
    const args = [
      '--data-dir',
      `${dataRoot}/n${index}`,
      '--secret',
      secret,
      '--announce-ms',
      String(announceMs),
      '--log-level',
      process.env.DISTSTORE_TEST_LOG ?? 'info',
    ];
    const deadline = Date.now() + timeoutMs;
    // After a SIGTERM the old process drains for up to 5 s, and a killed one may not be gone
    // yet: the script refuses to start a node that is still running, so try again until then.
    await waitFor(
      async () => {
        try {
          await run(SCRIPT, ['start', this.fleet.name, String(index), '--', ...args]);
          return true;
        } catch (error) {
          if (/running already/.test(String((error as { stderr?: string }).stderr))) return false;
          throw error;
        }
      },
      `node ${index}'s old process to exit`,
      Math.max(1000, deadline - Date.now() - 1000),
    );
    const node = this.fleet.node(index);
    await waitFor(
      async () => (await node.get('/health')).ok,
      `node ${index} (${node.id}) to answer /health; its log:\n${this.fleet.log(index).slice(-4000)}`,
      Math.max(1000, deadline - Date.now()),
    );
  }

  /** Every node's /status (undefined when it does not answer within 2 s). */
  private statuses(): Promise<(Status | undefined)[]> {
    return Promise.all(
      this.fleet.nodes.map(async (n) => {
        try {
          const response = await fetch(n.url('/status'), { signal: AbortSignal.timeout(2000) });
          return (await response.json()) as Status;
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
