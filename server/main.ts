#!/usr/bin/env node
import { CommanderError } from 'commander';
import { pino } from 'pino';
import { isLmdbCommitFailure } from '../cluster/durable-store.js';
import { Metrics } from '../cluster/metrics.js';
import { ConfigError, parseConfig } from './config.js';
import { startDaemon } from './daemon.js';
import { readyMessage } from './ready-message.js';

/** The diststored entry point: config → node → listen → graceful shutdown. */
async function main(): Promise<void> {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(process.argv.slice(2));
  } catch (error) {
    if (error instanceof CommanderError) process.exit(0); // --help
    if (error instanceof ConfigError) {
      process.stderr.write(`diststored: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = pino({ level: config.logLevel, base: { node: config.id } });
  // lmdb-js rejects a promise of its own, which nobody can hold, when a commit fails: the
  // write itself is answered (507) and the store refuses writes from then on (durable-store.ts).
  // Any other unhandled rejection still ends the process, as Node's default does.
  process.on('unhandledRejection', (reason) => {
    if (isLmdbCommitFailure(reason)) {
      log.error({ err: reason }, 'lmdb failed a commit');
      return;
    }
    throw reason;
  });
  const metrics = new Metrics();
  metrics.collectProcessMetrics();
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(config, log, metrics);
  } catch (error) {
    log.fatal({ err: error }, 'cannot start');
    process.stderr.write(`diststored: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const ready = readyMessage(daemon);
  const { id, http, port, respPort } = ready;
  log.info({ id, http, port, respPort, cluster: config.cluster }, 'ready');
  // The ports first, for a parent that started it with --port 0; then pm2's wait_ready signal,
  // which must be the bare string.
  process.send?.(ready);
  process.send?.('ready');

  const shutdown = (signal: string) => {
    log.info({ signal }, 'stopping');
    daemon.stop().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

void main();
