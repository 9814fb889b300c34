import { Agent, request } from 'node:http';
import type { Observation, Round } from './history.js';
import { why } from './workload.js';

/** Connections to each node while polling: a round's reads queue on them, not on the CPU. */
const SOCKETS_PER_NODE = 8;

/**
 * Reads every key on every node, all at once, for the agreement check after the last heal.
 * Over node:http with keep-alive agents, not fetch: a round of 200 reads then costs the
 * poller (which shares the machine's two cores with five nodes) a fraction of what fetch
 * costs, so the round's length is the nodes' answer time, not the poller's.
 */
export class Poller {
  private readonly agents: Agent[];

  constructor(private readonly urls: string[]) {
    this.agents = urls.map(
      () =>
        new Agent({
          keepAlive: true,
          maxSockets: SOCKETS_PER_NODE,
          maxFreeSockets: SOCKETS_PER_NODE,
        }),
    );
  }

  async round(keys: string[], now: () => number): Promise<Round> {
    const start = now();
    const observations = await Promise.all(
      this.urls.flatMap((base, node) => keys.map((key) => this.read(node, base, key))),
    );
    return { start, end: now(), observations };
  }

  close(): void {
    for (const agent of this.agents) agent.destroy();
  }

  private read(node: number, base: string, key: string): Promise<Observation> {
    const url = new URL(`/get?key=${encodeURIComponent(key)}`, base);
    return new Promise((resolve) => {
      const req = request(url, { agent: this.agents[node], timeout: 5000 }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => resolve({ node, key, status: 0, value: why(error) }));
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status !== 200) return resolve({ node, key, status });
          const version = response.headers['x-diststore-version'];
          resolve({
            node,
            key,
            status,
            version: typeof version === 'string' ? version : undefined,
            value: Buffer.concat(chunks).toString(),
          });
        });
      });
      req.on('timeout', () => req.destroy(new Error('no answer in 5000 ms')));
      req.on('error', (error) => resolve({ node, key, status: 0, value: why(error) }));
      req.end();
    });
  }
}
