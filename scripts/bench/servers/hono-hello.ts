// Baseline: hono's hello world on @hono/node-server. Usage: hono-hello.ts <port>
// Listens on 127.0.0.1 only; exits when the bench that forked it goes away.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: hono-hello.ts <port>\n');
  process.exit(2);
}
const app = new Hono();
app.get('/', (c) => c.text('Hello, World!'));
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => process.send?.('ready'));
process.on('disconnect', () => process.exit(0));
