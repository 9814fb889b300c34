import type dgram from 'node:dgram';

/** More records than any diststore packet has (an announce has one answer and a signature). */
const MAX_RECORDS = 16;

/**
 * A cheap look at a DNS header before the full decode. dns-packet trusts the header's record
 * counts and walks the buffer until it throws, which costs about a millisecond for a random
 * datagram: a garbage flood would otherwise cost far more than it should.
 */
export function isPlausibleDns(message: Buffer): boolean {
  if (message.length < 12) return false;
  const questions = message.readUInt16BE(4);
  const records = message.readUInt16BE(6) + message.readUInt16BE(8) + message.readUInt16BE(10);
  if (questions + records === 0 || questions + records > MAX_RECORDS) return false;
  // A question takes at least 5 bytes (root name, type, class), a record at least 11.
  return 12 + 5 * questions + 11 * records <= message.length;
}

/**
 * The socket as multicast-dns sees it: the same socket, but its 'message' listeners only get
 * datagrams that pass `accept`; the others go to `reject`, except those `skip` takes (our own
 * queries, queries we have nothing to answer to), which go no further.
 */
export function guardSocket(
  socket: dgram.Socket,
  accept: (message: Buffer) => boolean,
  reject: (message: Buffer, rinfo: dgram.RemoteInfo) => void,
  skip: (message: Buffer, rinfo: dgram.RemoteInfo) => boolean = () => false,
): dgram.Socket {
  return new Proxy(socket, {
    get(target, property) {
      if (property === 'on') {
        return (event: string, listener: (...args: unknown[]) => void) => {
          if (event !== 'message') return target.on(event, listener);
          return target.on(event, (message: Buffer, rinfo: dgram.RemoteInfo) => {
            if (skip(message, rinfo)) return;
            if (accept(message)) listener(message, rinfo);
            else reject(message, rinfo);
          });
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
