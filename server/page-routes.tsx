import { type Context, Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Entry } from '../cluster/entry.js';
import type { DistNode } from '../cluster/node.js';
import { formatVersion } from '../cluster/version.js';
import { bodyLimit } from './body-limit.js';
import { TOKEN_COOKIE } from './client-auth.js';
import { tokenMatches } from './client-token.js';
import { errorAnswer } from './error-answer.js';
import { readWriteForm } from './form.js';
import type { Limits } from './limits.js';
import { Page } from './page.js';
import { ClusterSection } from './page-cluster.js';
import type { FormValues } from './page-forms.js';
import { pageHeaders } from './page-headers.js';
import type { Outcome } from './page-result.js';
import { type RecordRefusal, refusedRequest } from './refusals.js';
import { requestKey } from './request-key.js';
import { SignInPage } from './sign-in-page.js';

type Failure = Extract<Outcome, { kind: 'failed' }>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** How long a browser keeps the client token once signed in. */
const TOKEN_COOKIE_SECONDS = 30 * 86_400;

/** What the page needs besides the limits: the client token, if any, and the refusal counter. */
export interface PageOptions extends Limits {
  clientToken?: string | undefined;
  onRefused?: RecordRefusal | undefined;
}

/** The sign-in form, answered 401 (with the page's headers). */
export async function signInResponse(error?: string): Promise<Response> {
  const page = await html`<!doctype html>${<SignInPage error={error} />}`;
  return new Response(String(page), {
    status: 401,
    headers: { ...pageHeaders(), 'content-type': 'text/html; charset=UTF-8' },
  });
}

/**
 * The HTML page at `/` and its form post, `/ui/post`. Both work without JavaScript: each
 * answers the whole page with the outcome shown, under the status the JSON API would use.
 * `/ui/cluster` is the page's cluster section alone, which the page's script swaps in.
 */
export function pageRoutes(node: DistNode, limits: PageOptions): Hono {
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
        signedIn={limits.clientToken !== undefined}
      />
    );
    return c.html(html`<!doctype html>${page}`, status, pageHeaders());
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

  // Sign in: the token from a form (no JavaScript needed) into an HttpOnly, SameSite=Strict
  // cookie, which the client routes take in place of the Authorization header.
  const tokenLimit = bodyLimit({
    maxSize: 8 * 1024,
    onError: () => signInResponse('That is too long for a token.'),
  });
  app.post('/ui/login', tokenLimit, async (c) => {
    const token = limits.clientToken;
    if (token === undefined) return c.redirect('/', 303);
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const given = typeof form.token === 'string' ? form.token.trim() : undefined;
    if (!tokenMatches(token, given)) {
      limits.onRefused?.(
        refusedRequest(c.req.raw, c.req.path, c.env),
        'bad_token',
        'the sign-in form gave a wrong token',
      );
      return signInResponse('That token is not this node’s.');
    }
    setCookie(c, TOKEN_COOKIE, token, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: TOKEN_COOKIE_SECONDS,
    });
    return c.redirect('/', 303);
  });
  app.post('/ui/logout', (c) => {
    deleteCookie(c, TOKEN_COOKIE, { path: '/' });
    return c.redirect('/', 303);
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

  // The cluster section as an HTML fragment, never cached: the page refreshes itself with it.
  app.get('/ui/cluster', (c) =>
    c.html(<ClusterSection status={node.status()} />, 200, {
      ...pageHeaders(),
      'cache-control': 'no-store',
    }),
  );

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
