import type { Announce, Message } from './wire.js';

/** Where a unicast packet came from, and where a reply goes. */
export interface Peer {
  address: string;
  port: number;
}

export type MessageHandler = (message: Message, from: Peer) => void;

/** An authentic announcement refused for its time stamp, `aheadMs` from our clock. */
export type UntimelyHandler = (announce: Announce, from: Peer, aheadMs: number) => void;

/**
 * How a node talks to the cluster over datagrams. The real one is UDP multicast
 * (udp-transport.ts); tests of the cluster logic may use the in-memory one.
 */
export interface Transport {
  /** Sends to the whole cluster: queries from the query socket (answers come back to it). */
  multicast(message: Message): void;
  /** Sends to one peer, e.g. an answer to the socket a query came from. */
  unicast(message: Message, to: Peer): void;
  /** Registers the receiver of every accepted message. */
  onMessage(handler: MessageHandler): void;
  /**
   * Registers the receiver of authentic announcements refused for their time stamps (with a
   * cluster secret only; see UntimelyMembers).
   */
  onUntimely?(handler: UntimelyHandler): void;
  /** Releases sockets; safe to call twice. */
  close(): Promise<void>;
}
