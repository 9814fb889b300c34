import { type Agent, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';

/**
 * Node-to-node HTTP over node:http rather than got: got costs about 0.45 ms of CPU per
 * request against 0.12 ms here, and every replicated write and every fetch is such a request
 * (see README, "Node-to-node HTTP"). The CLI, which makes one request per run, keeps got.
 */

/** One node-to-node HTTP request. */
export interface RequestOptions {
  agent: Agent;
  method: 'GET' | 'POST';
  /** `host:port` of the peer. */
  peer: string;
  /** Path with its query. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Time limit: for `exchange` the whole request, for `openStream` until the head is in. */
  timeoutMs: number;
}

/** A response read whole. */
export interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Sends a request and reads its whole response, within `timeoutMs` in all. */
export function exchange(options: RequestOptions): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = send(options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
      });
      response.on('error', fail);
    });
    const timer = setTimeout(() => req.destroy(timeoutError(options)), options.timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    req.on('error', fail);
  });
}

/** Sends a request and resolves with the response once its head is in; the caller reads it. */
export function openStream(options: RequestOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = send(options, (response) => {
      clearTimeout(timer);
      resolve(response);
    });
    const timer = setTimeout(() => req.destroy(timeoutError(options)), options.timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function send(options: RequestOptions, onResponse: (response: IncomingMessage) => void) {
  const { agent, method, peer, path, body } = options;
  const colon = peer.lastIndexOf(':');
  const headers = { ...options.headers };
  if (body) headers['content-length'] = String(body.length);
  const req = request(
    {
      agent,
      method,
      host: peer.slice(0, colon).replace(/^\[|\]$/g, ''),
      port: Number(peer.slice(colon + 1)),
      path,
      headers,
    },
    onResponse,
  );
  req.end(body);
  return req;
}

function timeoutError({ method, path, timeoutMs }: RequestOptions): Error {
  // ETIMEDOUT, as node's own timeouts say it: PeerError.from reads it as a timeout.
  return Object.assign(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`), {
    code: 'ETIMEDOUT',
  });
}
