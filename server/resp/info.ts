import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RespContext } from './command.js';

/** diststore's version, from the package.json above this file (source or dist/). */
export const DISTSTORE_VERSION = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file))
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
})();

/**
 * The Redis version INFO and HELLO claim: the RESP dialect spoken (Redis 7's commands and
 * errors). Clients read it to decide which commands to use.
 */
export const REDIS_VERSION = '7.0.0';

/** INFO: the /status facts in INFO's `# Section` / `field:value` form. */
export function infoText(context: RespContext, section: string | undefined): string {
  const { node } = context;
  const status = node.status();
  const memory = process.memoryUsage();
  const uptime = Math.floor((Date.now() - context.startedAt) / 1000);
  const sessions = [...context.sessions()];
  const sections: Record<string, [string, string | number][]> = {
    server: [
      ['redis_version', REDIS_VERSION],
      ['diststore_version', DISTSTORE_VERSION],
      ['redis_mode', 'standalone'],
      ['os', `${process.platform} ${process.arch}`],
      ['process_id', process.pid],
      ['tcp_port', context.port()],
      ['uptime_in_seconds', uptime],
      ['uptime_in_days', Math.floor(uptime / 86_400)],
      ['executable', process.argv[1] ?? ''],
    ],
    clients: [['connected_clients', sessions.length]],
    memory: [
      ['used_memory', memory.heapUsed],
      ['used_memory_rss', memory.rss],
    ],
    // loading:1 while the node joins: clients (ioredis's ready check) wait for 0.
    persistence: [['loading', status.node.state === 'joining' ? 1 : 0]],
    replication: [
      ['role', 'master'],
      ['connected_slaves', 0],
    ],
    keyspace: [['db0', `keys=${node.store.keyCount},expires=0,avg_ttl=0`]],
    diststore: [
      ['node_id', status.node.id],
      ['node_http', status.node.http],
      ['cluster', status.node.cluster],
      ['state', status.node.state],
      ['role', status.node.role],
      ['masters_epoch', status.masters.epoch],
      ['masters', status.masters.ids.join(',')],
      ['members', status.members.length],
      ...status.members.map(
        (m, i) =>
          [
            `member${i}`,
            `id=${m.id},http=${m.http},keys=${m.keys},state=${m.state},master=${m.master ? 1 : 0},alive=${m.alive ? 1 : 0},last_seen_ms=${m.lastSeenMs}`,
          ] as [string, string],
      ),
      ['primary_entries', status.store.primary],
      ['cached_entries', status.store.cached],
      ['primary_bytes', status.store.primaryBytes],
      ['cached_bytes', status.store.cachedBytes],
    ],
  };
  const wanted = section?.toLowerCase();
  const names =
    !wanted || wanted === 'all' || wanted === 'everything' || wanted === 'default'
      ? Object.keys(sections)
      : Object.keys(sections).filter((name) => name === wanted);
  return names
    .map((name) => {
      const title = `# ${name[0]?.toUpperCase()}${name.slice(1)}`;
      const lines = (sections[name] ?? []).map(([k, v]) => `${k}:${v}`);
      return [title, ...lines].join('\r\n');
    })
    .join('\r\n\r\n')
    .concat('\r\n');
}
