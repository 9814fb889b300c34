/** What Freshness needs: the clock, the lease, and whom to tell of a lapse. */
export interface FreshnessOptions {
  /** The monotonic clock (Clock.monotonic): a lease is a span of time, not a date. */
  now: () => number;
  /** How long a master's last word keeps our copies servable (a few announce intervals). */
  leaseMs: number;
  /** Told of every lapse, for the metrics and the log. */
  onRevalidate?: (reason: RevalidationReason) => void;
}

export type RevalidationReason = 'gap' | 'master-restart' | 'masters-changed' | 'stalled';

/** What this node last heard from one master. */
interface MasterWord {
  /** Number of the last invalidation received (or announced) from it. */
  seq: number;
  boot: string;
  heardAt: number;
}

/**
 * Whether this node may serve the copies it holds without asking the cluster (design.md,
 * reads). A copy held here is current only as long as every invalidation the masters sent
 * reached us. Each master numbers its invalidations and announces the last number it sent;
 * this node trusts its copies while
 * - it has heard from every current master within the lease (a master counts itself), and
 * - no invalidation went missing: no gap in a master's numbers, no master set change, no stall
 *   of this process since the copy was checked.
 * When either fails, a copy is served only after a lookup has checked it against the masters
 * (`verified`); the checks restart after every lapse (`revalidate`).
 */
export class Freshness {
  private readonly masters = new Map<string, MasterWord>();
  /** Keys checked against the masters since the last lapse; undefined: none to check. */
  private verifiedKeys: Set<string> | undefined;
  /** Lapses so far: a check of every copy counts only if no lapse came while it ran. */
  private lapses = 0;

  constructor(private readonly options: FreshnessOptions) {}

  /**
   * An invalidation numbered `seq`, or an announcement saying `seq` was the last one sent,
   * from master `id`. A number we did not see coming means invalidations were lost.
   */
  heard(id: string, boot: string, seq: number, kind: 'invalidation' | 'announce'): void {
    const last = this.masters.get(id);
    const now = this.options.now();
    this.masters.set(id, { seq, boot, heardAt: now });
    if (!last) return;
    if (last.boot !== boot) {
      this.revalidate('master-restart');
      return;
    }
    const expected = kind === 'invalidation' ? last.seq + 1 : last.seq;
    if (seq > expected) this.revalidate('gap');
  }

  /** The master set changed: its new members' invalidations are not numbered from ours. */
  mastersChanged(ids: readonly string[]): void {
    for (const id of this.masters.keys()) if (!ids.includes(id)) this.masters.delete(id);
    this.revalidate('masters-changed');
  }

  /** Invalidations may have been lost while we looked away (a stall, a lapse we noticed). */
  revalidate(reason: RevalidationReason): void {
    this.verifiedKeys = new Set();
    this.lapses++;
    this.options.onRevalidate?.(reason);
  }

  /** The lapse copies wait to be checked after, to hand to `checkedAll`; undefined: none. */
  get pendingLapse(): number | undefined {
    return this.verifiedKeys ? this.lapses : undefined;
  }

  /**
   * Every copy held was checked against the masters after `lapse` (CopyCheck): all are
   * current, unless another lapse came in the meantime, whose losses the check may have missed.
   */
  checkedAll(lapse: number): boolean {
    if (lapse !== this.lapses) return false;
    this.verifiedKeys = undefined;
    return true;
  }

  /** Every copy held here is known current (a rejoin reconciled with the masters). */
  trustAll(): void {
    this.verifiedKeys = undefined;
  }

  /** A copy of `key` was just checked against the masters, or written through them. */
  verified(key: string): void {
    this.verifiedKeys?.add(key);
  }

  /**
   * Whether a copy of `key` held here may be served as it is. `masterIds` are the current
   * masters other than this node: each must have been heard from within the lease.
   */
  servable(key: string, masterIds: readonly string[]): boolean {
    if (this.verifiedKeys && !this.verifiedKeys.has(key)) return false;
    const oldest = this.options.now() - this.options.leaseMs;
    return masterIds.every((id) => (this.masters.get(id)?.heardAt ?? -Infinity) >= oldest);
  }
}
