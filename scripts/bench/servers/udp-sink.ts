// Baseline: a bare node:dgram socket in a fleet's multicast group that reads every datagram
// and does nothing with it: the floor under what a bystander node spends on others' misses.
// Usage: udp-sink.ts <port> (group 239.255.49.83 on 127.0.0.1, as the bench fleet's nodes).
// Exits when the bench that forked it goes away.
import dgram from 'node:dgram';

const GROUP = '239.255.49.83';
const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: udp-sink.ts <port>\n');
  process.exit(2);
}
let received = 0;
const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
socket.on('message', () => {
  received++;
});
socket.bind(port, GROUP, () => {
  socket.addMembership(GROUP, '127.0.0.1');
  process.send?.('ready');
});
process.on('disconnect', () => {
  process.stderr.write(`udp-sink: ${received} datagrams\n`);
  process.exit(0);
});
