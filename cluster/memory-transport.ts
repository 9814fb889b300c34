import type { MessageHandler, Peer, Transport } from './transport.js';
import type { Message } from './wire.js';

/**
 * An in-memory datagram network for unit tests of the cluster logic: every transport made
 * from one bus hears every multicast; delivery is asynchronous, like UDP, and can be cut.
 */
export class MemoryBus {
  private readonly members = new Map<number, MessageHandler[]>();
  private nextPort = 1;
  /** When false, nothing is delivered (a partition of everyone). */
  connected = true;

  transport(): Transport {
    const port = this.nextPort++;
    const handlers: MessageHandler[] = [];
    this.members.set(port, handlers);
    const self: Peer = { address: 'memory', port };
    const deliver = (message: Message, targets: number[]) => {
      if (!this.connected) return;
      for (const target of targets) {
        const receivers = this.members.get(target);
        if (!receivers) continue;
        queueMicrotask(() => {
          for (const handler of receivers) handler(message, self);
        });
      }
    };
    return {
      multicast: (message) => deliver(message, [...this.members.keys()]),
      unicast: (message, to) => deliver(message, [to.port]),
      onMessage: (handler) => {
        handlers.push(handler);
      },
      close: async () => {
        this.members.delete(port);
      },
    };
  }
}
