import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { dropLog } from '../cluster/drop-log.js';
import { type DurableStore, openDurableStore } from '../cluster/durable-store.js';
import { Metrics } from '../cluster/metrics.js';
import { DistNode } from '../cluster/node.js';
import { PeerClient } from '../cluster/peer-client.js';
import { createUdpTransport } from '../cluster/udp-transport.js';
import { keyHash } from '../cluster/wire.js';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { fullCollection, heapUsed, IdleCollector, loopBusyFraction } from './idle-collector.js';
import { RespServer } from './resp/resp-server.js';

/** A running node with its HTTP server. */
export interface Daemon {
  node: DistNode;
  /** The advertised HTTP address, host:port with the port actually bound (--port 0 too). */
  http: string;
  /** The HTTP port actually bound. */
  port: number;
  /** The RESP port, when --resp-port is set. */
  respPort: number | undefined;
  /** Goodbye on multicast, finish in-flight requests, close everything. Safe to call twice. */
  stop(): Promise<void>;
}

/** How long in-flight requests may take to finish at shutdown. */
export const DRAIN_MS = 5000;
/**
 * How often a node with a data dir asks whether its file has grown loose (and at its start):
 * a master's writes loosen it slowly, and each compaction copies the whole file.
 */
const COMPACTION_CHECK_MS = 60 * 60 * 1000;

/** Starts a node: listen, bind multicast, join the cluster. Failures to bind reject. */
export async function startDaemon(
  config: Config,
  log: Logger,
  metrics = new Metrics(),
): Promise<Daemon> {
  let app: Hono | undefined;
  // The server listens before the node exists so that the advertised port is known; until the
  // node has joined, every request is answered 503.
  const server = createAdaptorServer({
    serverOptions: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.requestTimeoutMs,
      // How often Node checks those limits; its default of 30 s would blur a short limit.
      connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs),
    },
    // The env carries node's request, which a refused body is drained from (unread-body.ts).
    fetch: (request: Request, env: unknown) =>
      app
        ? app.fetch(request, env)
        : Response.json({ error: 'starting', code: 'not_ready' }, { status: 503 }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new Error(`cannot listen on ${config.bind}:${config.port}: ${error.message}`)),
    );
    server.listen(config.port, config.bind, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let durable: DurableStore | undefined;
  if (config.dataDir) {
    try {
      durable = await openDurableStore(config.dataDir, (key) => keyHash(config.cluster, key));
    } catch (error) {
      server.close();
      throw error;
    }
    log.info({ dataDir: config.dataDir, entries: durable.count }, 'data dir opened');
  } else {
    log.warn('no --data-dir: this node keeps its entries in memory only and loses them on restart');
  }
  for (const warning of config.warnings ?? []) log.warn(warning);
  if (!config.secret) {
    log.warn(
      'no --secret: cluster traffic is unauthenticated; anyone on the network can join or forge answers',
    );
  }
  const http = `${config.advertise}:${port}`;
  const id = config.id ?? http;
  const logDrop = dropLog(log);
  let transport: Awaited<ReturnType<typeof createUdpTransport>>;
  let node: DistNode | undefined;
  try {
    transport = await createUdpTransport({
      cluster: config.cluster,
      group: config.multicastGroup,
      port: config.multicastPort,
      interface: config.multicastInterface,
      ttl: config.multicastTtl,
      secret: config.secret,
      peers: config.peers,
      multicast: config.multicast,
      onDrop: (reason, detail, from) => {
        metrics.packetsDropped.inc({ reason });
        logDrop(reason, detail, from);
      },
      onPacket: (direction, kind) => metrics.countPacket(direction, kind),
      // Until the node exists, every query is decoded (it answers none while joining anyway).
      mayAnswerWhoHas: (hash) => node?.mayAnswerWhoHas(hash) ?? true,
    });
  } catch (error) {
    server.close();
    await durable?.close();
    throw error;
  }
  node = new DistNode(
    {
      id,
      http,
      cluster: config.cluster,
      lookupTimeoutMs: config.lookupTimeoutMs,
      announceMs: config.announceMs,
      cacheTtlSeconds: config.cacheTtlSeconds,
      cacheMaxKeys: config.cacheMaxKeys,
      cacheMaxBytes: config.cacheMaxBytes,
      tombstoneTtlSeconds: config.tombstoneTtlSeconds,
      ignoreInvalidations: config.dropInvalidations,
      writeAcks: config.writeAcks,
      joinWindowMs: Math.min(500, config.announceMs),
      allowAddressMismatch: config.allowAddressMismatch,
      maxClockSkewMs: config.maxClockSkewSeconds * 1000,
      maxClockOffsetMs: config.maxClockOffsetSeconds * 1000,
      maxMembers: config.maxMembers,
    },
    {
      transport,
      peers: new PeerClient({ requestTimeoutMs: config.peerTimeoutMs, secret: config.secret }),
      durable,
      logger: log,
      metrics,
    },
  );
  app = createApp(node, config, log);
  let resp: RespServer | undefined;
  let respPort: number | undefined;
  if (config.respPort !== undefined) {
    resp = new RespServer({
      node,
      limits: config,
      clientToken: config.clientToken,
      log,
      bind: config.bind,
      port: config.respPort,
    });
    try {
      respPort = await resp.listen();
    } catch (error) {
      server.close();
      await node.close();
      await durable?.close();
      throw error;
    }
    log.info({ bind: config.bind, port: respPort }, 'RESP port open');
  }
  await node.start();
  const idle = new IdleCollector({
    heapUsed,
    busyFraction: loopBusyFraction(),
    collect: fullCollection(),
  });
  const idleChecks = setInterval(() => {
    const before = heapUsed();
    if (!idle.check()) return;
    metrics.idleCollections.inc();
    log.debug({ freedBytes: before - heapUsed() }, 'garbage collected while idle (first pass)');
  }, config.announceMs).unref();

  const compact = async () => {
    const result = await durable?.compact();
    if (result?.compacted) {
      metrics.dataFileCompactions.inc();
      const { fromBytes, toBytes, entries, seconds } = result;
      log.info(
        { fromBytes, toBytes, entries, seconds },
        'data file compacted (rewritten in key order)',
      );
    } else if (result?.reason === 'no room for a copy') {
      log.warn(
        { dataDir: config.dataDir },
        'data file loose but not compacted: no disk room for a copy',
      );
    }
  };
  const checkCompaction = () =>
    compact().catch((error) => log.error({ err: error }, 'data file compaction failed'));
  if (durable) checkCompaction();
  const compactionChecks = durable && setInterval(checkCompaction, COMPACTION_CHECK_MS).unref();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(idleChecks);
      clearInterval(compactionChecks);
      node.leave();
      // RESP clients finish what they asked meanwhile, within the same drain time.
      const respClosed = resp?.close(DRAIN_MS);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if ('closeIdleConnections' in server) server.closeIdleConnections();
      const drained = await Promise.race([
        closed.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(resolve, DRAIN_MS, false).unref()),
      ]);
      if (!drained) {
        log.warn('in-flight requests did not finish in time; closing their connections');
        if ('closeAllConnections' in server) server.closeAllConnections();
      }
      await respClosed;
      await node.close();
      await durable?.close();
    })();
    return stopping;
  };
  return { node, http, port, respPort, stop };
}
