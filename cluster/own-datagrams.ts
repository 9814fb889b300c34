/**
 * The last datagrams of one kind this node multicast, so that it knows them by their bytes
 * when multicast loopback brings them back to its own listener, and need not decode them.
 * Only an exact copy matches, and each once: a copy of our own packet is all a stranger could
 * get dropped this way, and it would be ignored after decoding anyway.
 */
export class OwnDatagrams {
  private readonly sent: Buffer[] = [];

  constructor(private readonly capacity: number) {}

  remember(bytes: Buffer): void {
    this.sent.push(bytes);
    if (this.sent.length > this.capacity) this.sent.shift();
  }

  /** Whether `datagram` is one of those remembered (then forgotten: each comes back once). */
  take(datagram: Buffer): boolean {
    const at = this.sent.findIndex(
      (sent) => sent.length === datagram.length && sent.equals(datagram),
    );
    if (at < 0) return false;
    this.sent.splice(at, 1);
    return true;
  }
}
