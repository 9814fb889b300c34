import { createHmac, timingSafeEqual } from 'node:crypto';
import packet, { type Answer, type Packet, type TxtData } from 'dns-packet';
import { HEADER_BYTES, nameBytes } from './wire.js';

/**
 * Authenticated cluster traffic. Every multicast or unicast packet carries, as its last
 * additional record, a TXT `sig._diststore.local` with a timestamp and an HMAC-SHA256 of the
 * timestamp and the packet without that record. A packet without it, with a wrong MAC, out
 * of the replay window, or seen before, is rejected.
 */

const SIG_NAME = 'sig._diststore.local';
const SIG_NAME_BYTES = nameBytes(SIG_NAME);
/** A record's type, class, TTL and data length: the bytes between its name and its data. */
const RECORD_FIXED_BYTES = 10;
/** Where a DNS header counts its additional records. */
const ADDITIONALS_AT = 10;
/** Characters of a MAC: HMAC-SHA256's 32 bytes in base64url. */
const MAC_CHARS = 43;
/** DNS type TXT and class IN, as a signature record carries them. */
const TXT = 16;
const IN = 1;

/**
 * Why a packet was refused. `clock-skew`: authentic, but stamped further from our clock than
 * the window, so one of the two clocks is off (or it is a replay of an old packet).
 */
export type Rejection = 'unsigned' | 'forged' | 'replayed' | 'clock-skew';

export class PacketSigner {
  /** MACs accepted within the window, to refuse exact replays; pruned as they age out. */
  private readonly seen = new Map<string, number>();
  /** The secret's bytes: an HMAC given the string would encode it again each time. */
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.key = Buffer.from(secret);
  }

  /** The packet with its signature record appended. */
  sign(message: Packet): Packet {
    const t = String(this.now());
    const mac = this.mac(t, message);
    const sig: Answer = { name: SIG_NAME, type: 'TXT', ttl: 0, data: [`t=${t}`, `mac=${mac}`] };
    return { ...message, additionals: [...(message.additionals ?? []), sig] };
  }

  /**
   * The bytes of `sign(message)`, made without encoding the packet twice: the message is
   * encoded once into a buffer with room for the signature record, its MAC taken over those
   * bytes, and the record written after them.
   */
  signedBytes(message: Packet): Buffer {
    const t = String(this.now());
    const length = packet.encodingLength(message);
    const bytes = Buffer.allocUnsafe(length + sigRecordLength(t.length, MAC_CHARS));
    packet.encode(message, bytes, 0);
    const mac = createHmac('sha256', this.key)
      .update(t)
      .update(bytes.subarray(0, length))
      .digest('base64url');
    bytes.writeUInt16BE(bytes.readUInt16BE(ADDITIONALS_AT) + 1, ADDITIONALS_AT);
    writeSigRecord(bytes, length, t, mac);
    return bytes;
  }

  /**
   * The packet without its signature if it is authentic and fresh, else why not. Given the
   * datagram it was decoded from, the MAC is taken over those bytes (the signature record cut
   * off, the header's count of additional records one less): what the sender encoded and
   * signed, without encoding the packet again here.
   */
  verify(
    received: Packet,
    datagram?: Buffer,
  ): { packet: Packet } | { rejected: Rejection; aheadMs?: number } {
    const additionals = received.additionals ?? [];
    const sig = additionals[additionals.length - 1];
    if (!sig || sig.name !== SIG_NAME || sig.type !== 'TXT') return { rejected: 'unsigned' };
    let t = '';
    let mac = '';
    for (const item of Array.isArray(sig.data) ? sig.data : [sig.data]) {
      const text = item.toString();
      if (text.startsWith('t=')) t = text.slice(2);
      else if (text.startsWith('mac=')) mac = text.slice(4);
    }
    const unsigned = { ...received, additionals: additionals.slice(0, -1) };
    const computed = datagram
      ? this.macOfDatagram(t, datagram, sigRecordBytes(sig.data))
      : this.mac(t, unsigned);
    if (computed === undefined) return { rejected: 'forged' };
    const expected = Buffer.from(computed);
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { rejected: 'forged' };
    }
    const at = Number(t);
    const now = this.now();
    if (!Number.isFinite(at)) return { rejected: 'clock-skew' };
    if (Math.abs(now - at) > this.windowMs) return { rejected: 'clock-skew', aheadMs: at - now };
    this.prune(now);
    if (this.seen.has(mac)) return { rejected: 'replayed' };
    this.seen.set(mac, at);
    return { packet: unsigned };
  }

  private mac(t: string, message: Packet): string {
    const bytes = packet.encode({ ...message, additionals: message.additionals ?? [] });
    return createHmac('sha256', this.key).update(t).update(bytes).digest('base64url');
  }

  /** The MAC of a datagram whose last `sigBytes` are its signature record (see verify). */
  private macOfDatagram(t: string, datagram: Buffer, sigBytes: number): string | undefined {
    const end = datagram.length - sigBytes;
    if (
      end < HEADER_BYTES ||
      datagram.compare(
        SIG_NAME_BYTES,
        0,
        SIG_NAME_BYTES.length,
        end,
        end + SIG_NAME_BYTES.length,
      ) !== 0
    ) {
      return undefined; // not laid out as a signer writes it: it was not signed as it is
    }
    const header = Buffer.from(datagram.subarray(0, HEADER_BYTES));
    header.writeUInt16BE(header.readUInt16BE(ADDITIONALS_AT) - 1, ADDITIONALS_AT);
    return createHmac('sha256', this.key)
      .update(t)
      .update(header)
      .update(datagram.subarray(HEADER_BYTES, end))
      .digest('base64url');
  }

  private prune(now: number): void {
    for (const [mac, at] of this.seen) {
      if (Math.abs(now - at) <= this.windowMs) break; // insertion order is roughly time order
      this.seen.delete(mac);
    }
  }
}

/** Bytes of a signature record as the signer writes it: name, fixed fields, TXT strings. */
function sigRecordBytes(txt: TxtData): number {
  let data = 0;
  for (const item of Array.isArray(txt) ? txt : [txt]) data += 1 + Buffer.byteLength(item);
  return SIG_NAME_BYTES.length + RECORD_FIXED_BYTES + data;
}

/** Bytes of the record `writeSigRecord` writes for a time and a MAC of these lengths. */
function sigRecordLength(tChars: number, macChars: number): number {
  return SIG_NAME_BYTES.length + RECORD_FIXED_BYTES + (1 + 2 + tChars) + (1 + 4 + macChars);
}

/**
 * Writes at `at` the signature record, as dns-packet encodes a TXT answer with TTL 0 and the
 * strings `t=<t>` and `mac=<mac>` (ASCII both).
 */
function writeSigRecord(bytes: Buffer, at: number, t: string, mac: string): void {
  let offset = at + SIG_NAME_BYTES.copy(bytes, at);
  offset = bytes.writeUInt16BE(TXT, offset);
  offset = bytes.writeUInt16BE(IN, offset);
  offset = bytes.writeUInt32BE(0, offset);
  offset = bytes.writeUInt16BE(2 + t.length + 1 + 4 + mac.length + 1, offset);
  for (const text of [`t=${t}`, `mac=${mac}`]) {
    bytes[offset++] = text.length;
    offset += bytes.write(text, offset, 'latin1');
  }
}
