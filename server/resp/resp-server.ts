import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { DistNode } from '../../cluster/node.js';
import type { Limits } from '../limits.js';
import type { RespContext } from './command.js';
import { CommandTable } from './command-table.js';
import { RespConnection } from './connection.js';
import { KeyScan } from './key-scan.js';

export interface RespServerOptions {
  node: DistNode;
  limits: Limits;
  /** When set, clients must AUTH with it; when not, only loopback clients are served. */
  clientToken: string | undefined;
  log: Logger;
  bind: string;
  port: number;
}

/** Loopback addresses, IPv4 (also IPv4-mapped) and IPv6. */
function isLoopback(address: string | undefined): boolean {
  return (
    address !== undefined &&
    (address.startsWith('127.') || address.startsWith('::ffff:127.') || address === '::1')
  );
}

/** The RESP port: speaks Redis's protocol with diststore's meaning (see README). */
export class RespServer {
  private readonly server: Server;
  private readonly connections = new Set<RespConnection>();
  private readonly context: RespContext;
  private nextId = 1;

  constructor(private readonly options: RespServerOptions) {
    const table = new CommandTable();
    this.context = {
      node: options.node,
      limits: options.limits,
      clientToken: options.clientToken,
      log: options.log,
      port: () => (this.server.address() as AddressInfo | null)?.port ?? options.port,
      startedAt: Date.now(),
      sessions: () => this.connections,
      keyScan: new KeyScan(options.node.store),
    };
    // noDelay: a reply is one write; Nagle would hold it back waiting for an ACK.
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket, table));
    options.node.metrics.countRespConnections(() => this.connections.size);
  }

  /** Listens on the configured address; rejects with a message naming it. */
  async listen(): Promise<number> {
    const { bind, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (e) =>
        reject(new Error(`cannot listen for RESP on ${bind}:${port}: ${e.message}`)),
      );
      this.server.listen(port, bind, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * Stops accepting, lets every connection finish what it was asked (no new commands are
   * read), then closes them; what is still open after `drainMs` is cut.
   */
  async close(drainMs: number): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.drain();
    const drained = await Promise.race([
      Promise.all([...this.connections].map((c) => c.closed)).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(resolve, drainMs, false).unref()),
    ]);
    if (!drained) {
      this.options.log.warn('RESP commands did not finish in time; closing their connections');
      for (const connection of this.connections) connection.destroy();
    }
    await stopped;
  }

  private accept(socket: Socket, table: CommandTable): void {
    if (!this.options.clientToken && !isLoopback(socket.remoteAddress)) {
      // Redis's protected mode: without a token, only this machine may use the port.
      this.options.node.metrics.respRefusals.inc({ reason: 'protected_mode' });
      socket.end(
        '-DENIED diststore is in protected mode: no client token is set, so only loopback clients are served. Set --client-token (clients then AUTH), or bind the RESP port to loopback.\r\n',
      );
      return;
    }
    const connection = new RespConnection(this.nextId++, socket, table, this.context);
    this.connections.add(connection);
    void connection.closed.then(() => this.connections.delete(connection));
  }
}
