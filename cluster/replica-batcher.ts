import type { Entry } from './entry.js';

/** Sends a batch of entries to one peer; resolves with its acknowledgement. */
export type SendBatch<Ack> = (peer: string, entries: [string, Entry][]) => Promise<Ack>;

export interface ReplicaBatcherOptions<Ack> {
  send: SendBatch<Ack>;
  /**
   * Requests to one peer at a time; further writes wait and leave together in the next. One
   * makes the batches largest, and measured cheapest and fastest (docs/performance.md).
   */
  maxInFlight?: number;
  /** Most value bytes in one request (a single larger entry still goes, alone). */
  maxBatchBytes?: number;
}

interface Waiting<Ack> {
  key: string;
  entry: Entry;
  resolve: (ack: Ack) => void;
  reject: (error: unknown) => void;
}

interface PeerQueue<Ack> {
  waiting: Waiting<Ack>[];
  inFlight: number;
}

/**
 * Coalesces replicated writes to each master. A write to an idle peer leaves at once, so a
 * lone write waits for nothing; while a request to that peer is under way (`maxInFlight`),
 * the writes arriving meanwhile queue up and leave together when it returns. Under load a
 * request carries many entries, so the per-request cost (HTTP, parsing, an invalidation
 * packet) is paid once per batch instead of once per write. Each write learns the outcome of
 * the request that carried it.
 */
export class ReplicaBatcher<Ack> {
  private readonly peers = new Map<string, PeerQueue<Ack>>();
  private readonly send: SendBatch<Ack>;
  private readonly maxInFlight: number;
  private readonly maxBatchBytes: number;

  constructor({ send, maxInFlight = 1, maxBatchBytes = 1024 * 1024 }: ReplicaBatcherOptions<Ack>) {
    if (!(maxInFlight >= 1)) throw new RangeError('maxInFlight must be at least 1');
    this.send = send;
    this.maxInFlight = maxInFlight;
    this.maxBatchBytes = maxBatchBytes;
  }

  /** Queues one entry for a peer's next batch; resolves with the acknowledgement of its batch. */
  add(peer: string, key: string, entry: Entry): Promise<Ack> {
    let queue = this.peers.get(peer);
    if (!queue) {
      queue = { waiting: [], inFlight: 0 };
      this.peers.set(peer, queue);
    }
    const sent = new Promise<Ack>((resolve, reject) => {
      queue.waiting.push({ key, entry, resolve, reject });
    });
    this.pump(peer, queue);
    return sent;
  }

  private pump(peer: string, queue: PeerQueue<Ack>): void {
    while (queue.inFlight < this.maxInFlight && queue.waiting.length > 0) {
      const batch = this.take(queue);
      queue.inFlight++;
      this.send(
        peer,
        batch.map(({ key, entry }) => [key, entry]),
      )
        .then(
          (ack) => {
            for (const write of batch) write.resolve(ack);
          },
          (error: unknown) => {
            for (const write of batch) write.reject(error);
          },
        )
        .finally(() => {
          queue.inFlight--;
          if (queue.inFlight === 0 && queue.waiting.length === 0) this.peers.delete(peer);
          else this.pump(peer, queue);
        });
    }
  }

  /** The oldest waiting writes, up to the byte limit (at least one). */
  private take(queue: PeerQueue<Ack>): Waiting<Ack>[] {
    let bytes = 0;
    let count = 0;
    for (const write of queue.waiting) {
      bytes += write.entry.value.length;
      if (count > 0 && bytes > this.maxBatchBytes) break;
      count++;
    }
    return queue.waiting.splice(0, count);
  }
}
