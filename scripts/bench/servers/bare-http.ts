// Baseline: a bare node:http server answering a fixed body. Usage: bare-http.ts <port>
// Listens on 127.0.0.1 only; exits when the bench that forked it goes away.
import { createServer } from 'node:http';

const BODY = Buffer.from('Hello, World!');
const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: bare-http.ts <port>\n');
  process.exit(2);
}
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  response.end(BODY);
});
server.listen(port, '127.0.0.1', () => process.send?.('ready'));
process.on('disconnect', () => process.exit(0));
