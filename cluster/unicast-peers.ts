import type { Peer } from './transport.js';

/** How long a learned peer is kept without being heard from. */
const FORGET_AFTER_MS = 60_000;
/** At most this many peers are reported in one announce (a TXT record stays small). */
const REPORT_MAX = 32;

/**
 * The unicast fallback's address book: the configured peers (kept forever) and peers
 * learned from announcements, either heard directly or reported by others.
 */
export class UnicastPeers {
  private readonly configured: Map<string, Peer>;
  private readonly learned = new Map<string, { peer: Peer; seen: number }>();
  /** The endpoints that are this node itself, never sent to. */
  private readonly self: Set<string>;

  constructor(
    configured: Peer[],
    selfEndpoints: string[],
    private readonly now: () => number = Date.now,
  ) {
    this.self = new Set(selfEndpoints);
    this.configured = new Map(
      configured.filter((p) => !this.self.has(endpoint(p))).map((p) => [endpoint(p), p]),
    );
  }

  /** True when unicast is in use: some peer was configured. */
  get active(): boolean {
    return this.configured.size > 0;
  }

  /** Records the sender of an announce and the peers it reports. */
  learn(from: Peer, reported: string[] = []): void {
    const at = this.now();
    for (const peer of [from, ...reported.map(parsePeer).filter((p) => p !== undefined)]) {
      const key = endpoint(peer);
      if (this.self.has(key) || this.configured.has(key)) continue;
      this.learned.set(key, { peer, seen: at });
    }
  }

  /** Every peer to send to: configured ones and those learned recently. */
  all(): Peer[] {
    const cutoff = this.now() - FORGET_AFTER_MS;
    for (const [key, { seen }] of this.learned) if (seen < cutoff) this.learned.delete(key);
    return [...this.configured.values(), ...[...this.learned.values()].map((l) => l.peer)];
  }

  /** The endpoints to report in our announce. */
  report(): string[] {
    return this.all().slice(0, REPORT_MAX).map(endpoint);
  }
}

function endpoint(peer: Peer): string {
  return `${peer.address}:${peer.port}`;
}

/** Parses `host:port`; undefined for anything else. */
export function parsePeer(text: string): Peer | undefined {
  const match = /^([A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(text);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) return undefined;
  return { address: match[1] as string, port: Number(match[2]) };
}
