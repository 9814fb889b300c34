import { createHmac, timingSafeEqual } from 'node:crypto';
import packet, { type Answer, type Packet } from 'dns-packet';

/**
 * Authenticated cluster traffic. Every multicast or unicast packet carries, as its last
 * additional record, a TXT `sig._diststore.local` with a timestamp and an HMAC-SHA256 of the
 * timestamp and the packet without that record. A packet without it, with a wrong MAC, out
 * of the replay window, or seen before, is rejected.
 */

const SIG_NAME = 'sig._diststore.local';

/**
 * Why a packet was refused. `clock-skew`: authentic, but stamped further from our clock than
 * the window, so one of the two clocks is off (or it is a replay of an old packet).
 */
export type Rejection = 'unsigned' | 'forged' | 'replayed' | 'clock-skew';

export class PacketSigner {
  /** MACs accepted within the window, to refuse exact replays; pruned as they age out. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly secret: string,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The packet with its signature record appended. */
  sign(message: Packet): Packet {
    const t = String(this.now());
    const mac = this.mac(t, message);
    const sig: Answer = { name: SIG_NAME, type: 'TXT', ttl: 0, data: [`t=${t}`, `mac=${mac}`] };
    return { ...message, additionals: [...(message.additionals ?? []), sig] };
  }

  /** The packet without its signature if it is authentic and fresh, else why not. */
  verify(received: Packet): { packet: Packet } | { rejected: Rejection } {
    const additionals = received.additionals ?? [];
    const sig = additionals[additionals.length - 1];
    if (!sig || sig.name !== SIG_NAME || sig.type !== 'TXT') return { rejected: 'unsigned' };
    const fields = new Map(
      (Array.isArray(sig.data) ? sig.data : [sig.data]).map((item) => {
        const text = item.toString();
        return [text.slice(0, text.indexOf('=')), text.slice(text.indexOf('=') + 1)] as const;
      }),
    );
    const t = fields.get('t') ?? '';
    const mac = fields.get('mac') ?? '';
    const unsigned = { ...received, additionals: additionals.slice(0, -1) };
    const expected = Buffer.from(this.mac(t, unsigned));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { rejected: 'forged' };
    }
    const at = Number(t);
    const now = this.now();
    if (!Number.isFinite(at) || Math.abs(now - at) > this.windowMs)
      return { rejected: 'clock-skew' };
    this.prune(now);
    if (this.seen.has(mac)) return { rejected: 'replayed' };
    this.seen.set(mac, at);
    return { packet: unsigned };
  }

  private mac(t: string, message: Packet): string {
    const bytes = packet.encode({ ...message, additionals: message.additionals ?? [] });
    return createHmac('sha256', this.secret).update(t).update(bytes).digest('base64url');
  }

  private prune(now: number): void {
    for (const [mac, at] of this.seen) {
      if (Math.abs(now - at) <= this.windowMs) break; // insertion order is roughly time order
      this.seen.delete(mac);
    }
  }
}
