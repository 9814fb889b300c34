import dgram from 'node:dgram';
import type { Packet } from 'dns-packet';
import makeMdns from 'multicast-dns';
import { guardSocket, isPlausibleDns } from './packet-guard.js';
import { PacketSigner, type Rejection } from './signing.js';
import type { MessageHandler, Peer, Transport } from './transport.js';
import { UnicastPeers } from './unicast-peers.js';
import { type DropReason, type Message, Wire, WireError } from './wire.js';

type MdnsSend = { send(packet: Packet, to: Peer, callback: () => void): void };

export interface UdpTransportOptions {
  cluster: string;
  group: string;
  port: number;
  /** Address of the interface multicast goes out of and is joined on; always explicit. */
  interface: string;
  ttl: number;
  /** Unicast fallback: also send everything to these UDP endpoints (and peers they report). */
  peers?: Peer[];
  /** false: unicast only (clouds without multicast); the port is then this node's alone. */
  multicast?: boolean;
  /** With a secret, every packet is signed and only authentic, fresh packets are accepted. */
  secret?: string | undefined;
  /** Called for every packet that is not accepted (the socket handler never throws). */
  onDrop: (reason: DropReason | Rejection, detail: string, from?: string) => void;
  /** Called for every packet sent and accepted, for the metrics. */
  onPacket?: (direction: 'in' | 'out', kind: Message['kind']) => void;
}

/**
 * The real transport: multicast-dns over two sockets we create and configure ourselves, so
 * none of its defaults (all interfaces, outgoing 0.0.0.0, ttl 0 → 255) can apply.
 * The listener holds the group port; the query socket has an ephemeral port, so unicast
 * answers reach the asking node even when many nodes share a host.
 */
export async function createUdpTransport(options: UdpTransportOptions): Promise<Transport> {
  const { group, port, ttl, onDrop, onPacket } = options;
  const useMulticast = options.multicast !== false;
  const wire = new Wire(options.cluster);
  const signer = options.secret ? new PacketSigner(options.secret) : undefined;
  // Without multicast nothing needs the port shared, and sharing it would silently split
  // unicast traffic between two nodes: bind it exclusively.
  const listenerSocket = await bindSocket(port, '0.0.0.0', options.interface, ttl, useMulticast);
  if (useMulticast) {
    try {
      listenerSocket.addMembership(group, options.interface);
    } catch (error) {
      listenerSocket.close();
      throw new Error(`cannot join multicast group ${group} on ${options.interface}: ${error}`);
    }
  }
  const querySocket = await bindSocket(0, '0.0.0.0', options.interface, ttl, true);
  const peers = new UnicastPeers(options.peers ?? [], [
    `127.0.0.1:${port}`,
    `${options.interface}:${port}`,
  ]);
  // bind:false and multicast:false: the sockets are bound and configured above already.
  const common = { ip: group, port, bind: false as const, multicast: false };
  const implausible = (message: Buffer, rinfo: dgram.RemoteInfo) =>
    onDrop(
      'malformed',
      `not a diststore packet (${message.length} bytes)`,
      `${rinfo.address}:${rinfo.port}`,
    );
  // Our own who-has queries come back to our listener (multicast loopback, which other nodes
  // on this host need): the query socket's port is ours alone, so they are dropped undecoded.
  const ownPort = querySocket.address().port;
  const ownAddresses = new Set(['127.0.0.1', options.interface]);
  const ownQuery = (rinfo: dgram.RemoteInfo) =>
    rinfo.port === ownPort && ownAddresses.has(rinfo.address);
  const listener = makeMdns({
    ...common,
    socket: guardSocket(listenerSocket, isPlausibleDns, implausible, ownQuery),
  });
  const query = makeMdns({
    ...common,
    socket: guardSocket(querySocket, isPlausibleDns, implausible),
  });
  const handlers: MessageHandler[] = [];
  let closed = false;

  const receive = (packet: makeMdns.ResponsePacket | makeMdns.QueryPacket, rinfo: Peer) => {
    let message: Message;
    const from = `${rinfo.address}:${rinfo.port}`;
    try {
      // Decoded first so that other clusters' packets count as foreign, not as forged.
      message = wire.decode(packet);
    } catch (error) {
      if (error instanceof WireError) onDrop(error.reason, error.message, from);
      else onDrop('malformed', String(error), from);
      return;
    }
    const verdict = signer?.verify(packet);
    if (verdict && 'rejected' in verdict) {
      onDrop(verdict.rejected, `${message.kind} packet`, from);
      return;
    }
    onPacket?.('in', message.kind);
    // An announce comes from its sender's listener port: that is where it takes unicast.
    if (message.kind === 'announce' && peers.active)
      peers.learn({ address: rinfo.address, port: rinfo.port }, message.peers);
    for (const handler of handlers) handler(message, { address: rinfo.address, port: rinfo.port });
  };
  for (const mdns of [listener, query]) {
    mdns.on('packet', receive);
    // Undecodable datagrams arrive as warnings from multicast-dns.
    mdns.on('warning', (error: Error) => onDrop('malformed', error.message));
    mdns.on('error', (error: Error) => onDrop('malformed', `socket error: ${error.message}`));
  }

  const send = (mdns: makeMdns.MulticastDNS, message: Message, targets: Peer[]) => {
    if (closed || targets.length === 0) return;
    onPacket?.('out', message.kind);
    const withPeers =
      message.kind === 'announce' && peers.active ? { ...message, peers: peers.report() } : message;
    const encoded = wire.encode(withPeers);
    const signed = signer ? signer.sign(encoded) : encoded;
    // `send` is multicast-dns's general sender (query/respond wrap it); its typings omit it.
    for (const to of targets) (mdns as unknown as MdnsSend).send(signed, { ...to }, () => {});
  };

  return {
    multicast(message) {
      const fromQuerySocket = message.kind === 'who-has' || message.kind === 'census';
      const targets = useMulticast ? [{ address: group, port }, ...peers.all()] : peers.all();
      send(fromQuerySocket ? query : listener, message, targets);
    },
    unicast(message, to) {
      send(listener, message, [to]);
    },
    onMessage(handler) {
      handlers.push(handler);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([
        new Promise<void>((resolve) => listener.destroy(() => resolve())),
        new Promise<void>((resolve) => query.destroy(() => resolve())),
      ]);
    },
  };
}

const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

function bindSocket(
  port: number,
  address: string,
  iface: string,
  ttl: number,
  reuseAddr: boolean,
): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr });
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      try {
        socket.setMulticastInterface(iface);
        socket.setMulticastTTL(ttl);
        socket.setMulticastLoopback(true);
        // Room for a burst of answers (hundreds of concurrent lookups) without drops.
        socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
      } catch (error) {
        socket.close();
        reject(new Error(`cannot use ${iface} for multicast: ${error}`));
        return;
      }
      resolve(socket);
    });
  });
}
