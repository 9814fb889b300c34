import got, { type Got } from 'got';
import { answerError, CliError, EXIT, transportError } from './errors.js';

/** Where the client sends its requests and how long it waits for one. */
export interface NodeClientOptions {
  /** Base URL of the node, without a trailing slash (e.g. `http://127.0.0.1:8181`). */
  node: string;
  /** Time limit of the whole request, connect to last byte. */
  timeoutMs: number;
  /** The node's client token, sent as `Authorization: Bearer`; none when the node needs none. */
  token?: string | undefined;
}

/** A value to store: text (stored as UTF-8 text) or bytes with their content type. */
export type Value = { text: string } | { bytes: Buffer; type: string };

/** What a write may add to its key and value. */
export interface WriteOptions {
  /** `/post-local`: this node only, not replicated to the masters. */
  local?: boolean;
  ttlSeconds?: number | undefined;
  ifVersion?: string | undefined;
  ifAbsent?: boolean | undefined;
}

interface Answer {
  status: number;
  body: Buffer;
}

/**
 * One node's client API over got: one request per call, an explicit time limit and no
 * retries, because a retried write is a second write and the user decides whether to retry.
 */
export class NodeClient {
  private readonly http: Got;

  constructor(private readonly options: NodeClientOptions) {
    this.http = got.extend({
      timeout: { request: options.timeoutMs },
      retry: { limit: 0 },
      // Error answers carry diststore's JSON; they are read, not thrown.
      throwHttpErrors: false,
      headers: {
        'user-agent': 'diststore-cli',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
    });
  }

  /** The raw value of a key; `local` reads this node's copy only, never the cluster. */
  async get(key: string, local = false): Promise<Buffer> {
    const route = local ? 'get-local' : 'get';
    const answer = await this.request(`${route} ${quote(key)}`, 'GET', keyUrl(route, key));
    return answer.body;
  }

  /** Stores a value (multipart, so bytes arrive intact); answers the node's JSON. */
  async post(key: string, value: Value, options: WriteOptions = {}): Promise<unknown> {
    const form = new FormData();
    form.set('key', key);
    if ('text' in value) form.set('value', value.text);
    // A file part keeps its bytes and content type; a text field would be stored as text.
    else
      form.set(
        'value',
        new Blob([value.bytes as Uint8Array<ArrayBuffer>], { type: value.type }),
        'value',
      );
    if (options.ttlSeconds !== undefined) form.set('ttl', String(options.ttlSeconds));
    if (options.ifVersion !== undefined) form.set('ifVersion', options.ifVersion);
    if (options.ifAbsent) form.set('ifAbsent', '1');
    const route = options.local ? 'post-local' : 'post';
    const action = `${route} ${quote(key)}`;
    return json(action, await this.request(action, 'POST', route, form));
  }

  /** Deletes a key everywhere (a tombstone here and on the masters); answers the JSON. */
  async remove(key: string): Promise<unknown> {
    const action = `delete ${quote(key)}`;
    return json(action, await this.request(action, 'DELETE', keyUrl('keys', key)));
  }

  /** This node's keys (JSON, so keys holding newlines stay whole). */
  async keys(): Promise<string[]> {
    const keys = json('keys', await this.request('keys', 'GET', 'keys?format=json'));
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
      throw new CliError(EXIT.failed, 'keys: the node did not answer a JSON array of keys');
    }
    return keys;
  }

  /** The node's view of itself and the cluster, as the node answers it. */
  async status(): Promise<unknown> {
    return json('status', await this.request('status', 'GET', 'status'));
  }

  /** One request; anything but a 2xx answer becomes a CliError carrying its exit code. */
  private async request(
    action: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: FormData,
  ): Promise<Answer> {
    const { node, timeoutMs } = this.options;
    let answer: Answer;
    try {
      const response = await this.http(`${node}/${path}`, {
        method,
        body,
        responseType: 'buffer',
      });
      answer = { status: response.statusCode, body: response.body };
    } catch (error) {
      throw transportError(error, action, node, timeoutMs);
    }
    if (answer.status < 200 || answer.status > 299) {
      throw answerError(action, answer.status, answer.body);
    }
    return answer;
  }
}

/** `?key=` rather than the path: the only form that carries `.`, `..` and slashes as-is. */
function keyUrl(route: string, key: string): string {
  return `${route}?key=${encodeURIComponent(key)}`;
}

function quote(key: string): string {
  return JSON.stringify(key);
}

function json(action: string, answer: Answer): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch (error) {
    throw new CliError(EXIT.failed, `${action}: the node answered ${answer.status} without JSON`, {
      cause: error,
    });
  }
}
