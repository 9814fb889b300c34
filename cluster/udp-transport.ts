import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import makeMdns from 'multicast-dns';
import { OwnDatagrams } from './own-datagrams.js';
import { guardSocket, isPlausibleDns } from './packet-guard.js';
import { PacketSigner, type Rejection } from './signing.js';
import type { MessageHandler, Peer, Transport, UntimelyHandler } from './transport.js';
import { UnicastPeers } from './unicast-peers.js';
import { type DropReason, type Message, Wire, WireError } from './wire.js';

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
  /**
   * Whether this node could answer a who-has query for a key hash (see
   * DistNode.mayAnswerWhoHas). Queries it could not are counted and dropped from their raw
   * bytes, before any decoding or signature check: most queries a node hears are others'
   * misses, and a fleet's nodes each hear all of them.
   */
  mayAnswerWhoHas?: (keyHash: string) => boolean;
}

/** How long after a query its answers are taken (longer than any lookup waits). */
const ANSWERS_TAKEN_MS = 10_000;

/** Which messages each socket takes; anything else arriving there is unsolicited. */
const GROUP_KINDS: ReadonlySet<Message['kind']> = new Set([
  'who-has',
  'census',
  'announce',
  'invalidate',
]);

/**
 * The real transport: multicast-dns over sockets we create and configure ourselves, so none
 * of its defaults (all interfaces, outgoing 0.0.0.0, ttl 0 → 255) can apply.
 * - The listener is bound to the group address and port: Linux then hands it only the group's
 *   datagrams, never unicast from any host that can reach the port.
 * - The query socket is bound to an ephemeral port on the interface address, so unicast
 *   answers reach the asking node even when many nodes share a host; it takes only answers to
 *   its own outstanding queries.
 * - With --peers (or --no-multicast) a unicast socket is bound to the interface address and
 *   the cluster port, for the peers' packets.
 */
export async function createUdpTransport(options: UdpTransportOptions): Promise<Transport> {
  const { group, port, ttl, onDrop, onPacket } = options;
  const iface = options.interface;
  const useMulticast = options.multicast !== false;
  const useUnicast = !useMulticast || (options.peers ?? []).length > 0;
  const wire = new Wire(options.cluster);
  const signer = options.secret ? new PacketSigner(options.secret) : undefined;
  const opened: dgram.Socket[] = [];
  const open = async (bindPort: number, address: string, reuseAddr: boolean) => {
    const socket = await bindSocket(bindPort, address, iface, ttl, reuseAddr);
    opened.push(socket);
    return socket;
  };
  let listenerSocket: dgram.Socket | undefined;
  let unicastSocket: dgram.Socket | undefined;
  let querySocket: dgram.Socket;
  try {
    if (useMulticast) {
      listenerSocket = await open(port, group, true);
      try {
        listenerSocket.addMembership(group, iface);
      } catch (error) {
        throw new Error(`cannot join multicast group ${group} on ${iface}: ${error}`);
      }
    }
    // The unicast socket is this node's alone: shared, it would split peers' traffic silently.
    if (useUnicast) unicastSocket = await open(port, iface, false);
    querySocket = await open(0, iface, true);
  } catch (error) {
    for (const socket of opened) socket.close();
    throw error;
  }
  const peers = new UnicastPeers(options.peers ?? [], [`127.0.0.1:${port}`, `${iface}:${port}`]);
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
  const ownAddresses = new Set(['127.0.0.1', iface]);
  const ownQuery = (rinfo: dgram.RemoteInfo) =>
    rinfo.port === ownPort && ownAddresses.has(rinfo.address);
  /**
   * Our own invalidations come back to our listener too. A master under write load multicasts
   * hundreds a second: they are known by their bytes, counted as received and not decoded.
   */
  const ownInvalidations = new OwnDatagrams(OWN_INVALIDATIONS_KEPT);
  const ownInvalidation = (message: Buffer, rinfo: dgram.RemoteInfo) => {
    if (!ownAddresses.has(rinfo.address) || !ownInvalidations.take(message)) return false;
    onPacket?.('in', 'invalidate');
    return true;
  };
  const { mayAnswerWhoHas } = options;
  /** A who-has query this node has nothing to say to: counted as received, read no further. */
  const unanswerable = (message: Buffer) => {
    const hash = mayAnswerWhoHas && wire.whoHasHash(message);
    if (!hash || mayAnswerWhoHas(hash)) return false;
    onPacket?.('in', 'who-has');
    return true;
  };
  /**
   * The datagram multicast-dns is decoding: it decodes and emits the packet synchronously in
   * the socket's 'message' event, so the receiver below still sees the same datagram here and
   * can check the signature on its bytes rather than encode the packet again.
   */
  let datagram: Buffer | undefined;
  const plausible = (message: Buffer) => {
    datagram = message;
    return isPlausibleDns(message);
  };
  const mdnsOn = (
    socket: dgram.Socket,
    skip?: (message: Buffer, rinfo: dgram.RemoteInfo) => boolean,
  ) => makeMdns({ ...common, socket: guardSocket(socket, plausible, implausible, skip) });
  const listener =
    listenerSocket &&
    mdnsOn(
      listenerSocket,
      (message, rinfo) =>
        ownQuery(rinfo) || ownInvalidation(message, rinfo) || unanswerable(message),
    );
  const unicast = unicastSocket && mdnsOn(unicastSocket, unanswerable);
  const query = mdnsOn(querySocket);
  /** Key hashes of who-has queries sent, and when their answers stop being taken. */
  const asked = new Map<string, number>();
  let censusUntil = 0;
  const handlers: MessageHandler[] = [];
  const untimelyHandlers: UntimelyHandler[] = [];
  let closed = false;

  /** Whether the query socket asked for this message within the last ANSWERS_TAKEN_MS. */
  const solicited = (message: Message): boolean => {
    const now = Date.now();
    if (message.kind === 'announce') return now <= censusUntil;
    if (message.kind !== 'has' && message.kind !== 'absent') return false;
    return (asked.get(message.keyHash) ?? 0) >= now;
  };

  const receiver =
    (socket: 'group' | 'query') =>
    (packet: makeMdns.ResponsePacket | makeMdns.QueryPacket, rinfo: Peer) => {
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
      if (socket === 'group' ? !GROUP_KINDS.has(message.kind) : !solicited(message)) {
        onDrop('unsolicited', `${message.kind} packet on the ${socket} socket`, from);
        return;
      }
      const verdict = signer?.verify(packet, datagram);
      datagram = undefined;
      if (verdict && 'rejected' in verdict) {
        const { aheadMs } = verdict;
        onDrop(verdict.rejected, `${message.kind} packet${skewOf(aheadMs)}`, from);
        if (message.kind === 'announce' && aheadMs !== undefined) {
          const peer = { address: rinfo.address, port: rinfo.port };
          for (const handler of untimelyHandlers) handler(message, peer, aheadMs);
        }
        return;
      }
      onPacket?.('in', message.kind);
      // An announce comes from its sender's cluster port: that is where it takes unicast.
      if (message.kind === 'announce' && peers.active)
        peers.learn({ address: rinfo.address, port: rinfo.port }, message.peers);
      for (const handler of handlers)
        handler(message, { address: rinfo.address, port: rinfo.port });
    };
  for (const [mdns, socket] of [
    [listener, 'group'],
    [unicast, 'group'],
    [query, 'query'],
  ] as const) {
    if (!mdns) continue;
    mdns.on('packet', receiver(socket));
    // Undecodable datagrams arrive as warnings from multicast-dns.
    mdns.on('warning', (error: Error) => onDrop('malformed', error.message));
    mdns.on('error', (error: Error) => onDrop('malformed', `socket error: ${error.message}`));
  }

  /** Encodes (and signs) once, and sends the bytes from `socket` to every target. */
  const send = (socket: dgram.Socket, message: Message, targets: Peer[]) => {
    if (closed || targets.length === 0) return;
    onPacket?.('out', message.kind);
    const withPeers =
      message.kind === 'announce' && peers.active ? { ...message, peers: peers.report() } : message;
    const encoded = wire.encode(withPeers);
    const bytes = signer ? signer.signedBytes(encoded) : dnsPacket.encode(encoded);
    if (message.kind === 'invalidate' && socket === listenerSocket)
      ownInvalidations.remember(bytes);
    // With a callback, a failed send is passed to it instead of emitted: nothing to do then
    // (UDP makes no promise either way).
    for (const to of targets) socket.send(bytes, to.port, to.address, () => {});
  };

  /** Notes a query about to leave the query socket, so its answers are taken. */
  const expectAnswers = (message: Message) => {
    const now = Date.now();
    if (message.kind === 'census') censusUntil = now + ANSWERS_TAKEN_MS;
    if (message.kind !== 'who-has') return;
    asked.delete(message.keyHash); // re-inserted last: the map stays in order of expiry
    asked.set(message.keyHash, now + ANSWERS_TAKEN_MS);
    for (const [hash, expires] of asked) {
      if (expires >= now) break;
      asked.delete(hash);
    }
  };

  return {
    multicast(message) {
      const toGroup = useMulticast ? [{ address: group, port }] : [];
      if (message.kind === 'who-has' || message.kind === 'census') {
        expectAnswers(message);
        send(querySocket, message, [...toGroup, ...peers.all()]);
        return;
      }
      if (listenerSocket) send(listenerSocket, message, toGroup);
      if (unicastSocket) send(unicastSocket, message, peers.all());
    },
    unicast(message, to) {
      send((unicastSocket ?? listenerSocket) as dgram.Socket, message, [to]);
    },
    onMessage(handler) {
      handlers.push(handler);
    },
    onUntimely(handler) {
      untimelyHandlers.push(handler);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(
        [listener, unicast, query].map(
          (mdns) =>
            new Promise<void>((resolve) => (mdns ? mdns.destroy(() => resolve()) : resolve())),
        ),
      );
    },
  };
}

const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** Far more than are in flight back to us at once (a few, even at 1,000 packets a second). */
const OWN_INVALIDATIONS_KEPT = 32;

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

/**
 * How far an authentic packet refused for its time was stamped from this node's clock: one
 * of the two clocks is off, and a node more than the window off hears no other node at all.
 */
function skewOf(aheadMs: number | undefined): string {
  if (aheadMs === undefined) return '';
  const seconds = (Math.abs(aheadMs) / 1000).toFixed(1);
  return `, stamped ${seconds} s ${aheadMs > 0 ? 'ahead of' : 'behind'} this node's clock (check both clocks: NTP)`;
}
