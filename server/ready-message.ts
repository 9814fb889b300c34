import type { Daemon } from './daemon.js';

/**
 * What a started daemon tells the process that forked it, over IPC: the ports it bound, which
 * differ from its flags when those were 0. Sent before pm2's plain 'ready' (wait_ready).
 */
export interface ReadyMessage {
  event: 'ready';
  /** The node id: --id, else the advertised address with the bound port. */
  id: string;
  /** The advertised HTTP address, host:port. */
  http: string;
  port: number;
  /** The RESP port, when --resp-port is set. */
  respPort: number | undefined;
}

/** The ready message of a started daemon. */
export function readyMessage({ node, http, port, respPort }: Daemon): ReadyMessage {
  return { event: 'ready', id: node.id, http, port, respPort };
}

/** True for a ReadyMessage (an IPC message is whatever a child sends). */
export function isReadyMessage(message: unknown): message is ReadyMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as ReadyMessage).event === 'ready' &&
    typeof (message as ReadyMessage).port === 'number'
  );
}
