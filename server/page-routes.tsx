import { type Context, Hono } from 'hono';
import { html } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Entry } from '../cluster/entry.js';
import type { DistNode } from '../cluster/node.js';
import { formatVersion } from '../cluster/version.js';
import { bodyLimit } from './body-limit.js';
import { errorAnswer } from './error-answer.js';
import { readWriteForm } from './form.js';
import type { Limits } from './limits.js';
import { type FormValues, type Outcome, Page } from './page.js';
import { requestKey } from './request-key.js';

type Failure = Extract<Outcome, { kind: 'failed' }>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The HTML page at `/` and its form post, `/ui/post`. Both work without JavaScript: each
 * answers the whole page with the outcome shown, under the status the JSON API would use.
 */
export function pageRoutes(node: DistNode, limits: Limits): Hono {
  const app = new Hono();
  const render = (
    c: Context,
    status: ContentfulStatusCode,
    outcome?: Outcome,
    form?: FormValues,
  ) => {
    const page = (
      <Page
        status={node.status()}
        maxValueBytes={limits.maxValueBytes}
        outcome={outcome}
        form={form}
      />
    );
    return c.html(html`<!doctype html>${page}`, status);
  };

  // As for /post: urlencoded text can take three bytes per value byte.
  const formLimit = bodyLimit({
    maxSize: 3 * (limits.maxValueBytes + limits.maxKeyBytes) + 64 * 1024,
    onError: (c) =>
      render(c, 413, {
        kind: 'failed',
        action: 'post',
        status: 413,
        code: 'value_too_large',
        error: `the body is over the limit for a value of ${limits.maxValueBytes} bytes`,
      }),
  });

  app.get('/', async (c) => {
    if (!new URL(c.req.url).searchParams.has('key')) return render(c, 200);
    let key: string | undefined;
    try {
      key = requestKey(c, '', limits);
      const entry = await node.read(key);
      if (!entry) return render(c, 404, { kind: 'not-found', key }, { getKey: key });
      return render(c, 200, found(key, entry), { getKey: key });
    } catch (error) {
      const failure = failureOf(error, 'get');
      if (!failure) throw error;
      return render(c, failure.status, failure, { getKey: key ?? c.req.query('key') });
    }
  });

  app.post('/ui/post', formLimit, async (c) => {
    // Kept to show the user's input again when the write is refused.
    const copy = c.req.raw.clone();
    try {
      const form = await readWriteForm(c.req.raw, limits);
      const result = await node.write(form.key, form.value, form.type, {
        ttlSeconds: form.ttlSeconds,
        condition: form.condition,
      });
      const stored: Outcome = {
        kind: 'stored',
        key: result.key,
        version: formatVersion(result.version),
        masters: result.masters,
        lost: result.lost,
        ttlSeconds: form.ttlSeconds,
      };
      return render(c, 200, stored, { getKey: result.key });
    } catch (error) {
      const failure = failureOf(error, 'post');
      if (!failure) throw error;
      return render(c, failure.status, failure, await submitted(copy));
    }
  });
  return app;
}

/** A value as the page shows it: text when it is UTF-8, else its size and type. */
function found(key: string, entry: Entry): Outcome {
  let text: string | undefined;
  try {
    text = utf8.decode(entry.value);
  } catch {
    text = undefined;
  }
  return {
    kind: 'found',
    key,
    version: formatVersion(entry.version),
    type: entry.type,
    bytes: entry.value.length,
    text,
    expiresInSeconds:
      entry.expiresAt === undefined
        ? undefined
        : Math.max(0, Math.ceil((entry.expiresAt - Date.now()) / 1000)),
  };
}

/** The errors the JSON API answers with a status and code, shown on the page instead. */
function failureOf(error: unknown, action: Failure['action']): Failure | undefined {
  const answer = errorAnswer(error);
  if (!answer) return undefined;
  const { error: text, code, current, version, masters } = answer.body;
  const failure: Failure = { kind: 'failed', action, status: answer.status, code, error: text };
  if (current !== undefined) failure.current = current;
  if (code === 'replication_failed' && version && masters) failure.written = { version, masters };
  return failure;
}

/** The post form's fields as submitted, leniently decoded: only to fill the form again. */
async function submitted(request: Request): Promise<FormValues> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return {};
  try {
    const fields = new URLSearchParams(await request.text());
    return {
      key: fields.get('key') ?? undefined,
      value: fields.get('value') ?? undefined,
      ttl: fields.get('ttl') ?? undefined,
    };
  } catch {
    return {};
  }
}
