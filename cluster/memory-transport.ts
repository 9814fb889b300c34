import type { MessageHandler, Peer, Transport, UntimelyHandler } from './transport.js';
import type { Message } from './wire.js';

/**
 * An in-memory datagram network for unit tests of the cluster logic: every transport made
 * from one bus hears every multicast; delivery is asynchronous, like UDP, and can be cut.
 */
export class MemoryBus {
  private readonly members = new Map<
    number,
    { name: string; handlers: MessageHandler[]; untimely: UntimelyHandler[] }
  >();
  private nextPort = 1;
  /**
   * Whether a packet from one member (by name) reaches another: a partition cuts some pairs,
   * a test may drop some kinds of message.
   */
  reachable: (from: string, to: string, message: Message) => boolean = () => true;
  /**
   * As with a cluster secret: how far a packet from one member is stamped from another's
   * clock, when that is past the signing window (the packet is refused; an announcement still
   * names its sender, see UntimelyMembers); undefined when it is taken.
   */
  refusedStamp: (from: string, to: string) => number | undefined = () => undefined;

  /** A member's transport; `name` (default: its port) is what `reachable` is asked about. */
  transport(name?: string): Transport {
    const port = this.nextPort++;
    const self: Peer = { address: 'memory', port };
    const member = {
      name: name ?? String(port),
      handlers: [] as MessageHandler[],
      untimely: [] as UntimelyHandler[],
    };
    this.members.set(port, member);
    const deliver = (message: Message, targets: number[]) => {
      for (const target of targets) {
        const receiver = this.members.get(target);
        if (!receiver || !this.reachable(member.name, receiver.name, message)) continue;
        const aheadMs = this.refusedStamp(member.name, receiver.name);
        if (aheadMs !== undefined) {
          if (message.kind !== 'announce') continue;
          queueMicrotask(() => {
            for (const handler of receiver.untimely) handler(message, self, aheadMs);
          });
          continue;
        }
        queueMicrotask(() => {
          for (const handler of receiver.handlers) handler(message, self);
        });
      }
    };
    return {
      // Like the UDP transport, which drops its own packets looped back, a sender never hears
      // its own multicast.
      multicast: (message) =>
        deliver(
          message,
          [...this.members.keys()].filter((p) => p !== port),
        ),
      unicast: (message, to) => deliver(message, [to.port]),
      onMessage: (handler) => {
        member.handlers.push(handler);
      },
      onUntimely: (handler) => {
        member.untimely.push(handler);
      },
      close: async () => {
        this.members.delete(port);
      },
    };
  }
}
