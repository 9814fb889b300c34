import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { formatBytes } from './page-format.js';

/** What the last form submission came to, shown between the forms and the cluster. */
export type Outcome =
  | {
      kind: 'stored';
      key: string;
      version: string;
      masters: string[];
      lost: string[];
      ttlSeconds?: number | undefined;
    }
  | {
      kind: 'found';
      key: string;
      version: string;
      type: string;
      bytes: number;
      /** The value as text; undefined when it is not valid UTF-8. */
      text?: string | undefined;
      expiresInSeconds?: number | undefined;
    }
  | { kind: 'not-found'; key: string }
  | {
      kind: 'failed';
      action: 'post' | 'get';
      status: ContentfulStatusCode;
      code: string;
      error: string;
      /** A write the masters did not all acknowledge: what it was stored as, and where. */
      written?: { version: string; masters: string[] } | undefined;
      /** A conditional write that lost: the key's version (null: absent). */
      current?: string | null | undefined;
    };

/** The answer to the last form, as a person reads it. */
export function Result({ outcome }: { outcome: Outcome }) {
  switch (outcome.kind) {
    case 'stored':
      return (
        <section class="result ok" data-testid="result" data-outcome="stored" aria-live="polite">
          <h2 data-testid="result-title">
            Stored <q>{outcome.key}</q>
          </h2>
          <dl class="facts">
            <VersionFact version={outcome.version} />
            <dt>Acknowledged by</dt>
            <dd data-testid="result-masters">
              {outcome.masters.length > 0
                ? outcome.masters.join(', ')
                : 'no master yet (stored on this node only)'}
            </dd>
            {outcome.lost.length > 0 && (
              <>
                <dt>Masters found dead</dt>
                <dd>{outcome.lost.join(', ')}</dd>
              </>
            )}
            {outcome.ttlSeconds !== undefined && (
              <>
                <dt>Expires</dt>
                <dd>in {outcome.ttlSeconds} s, everywhere</dd>
              </>
            )}
          </dl>
        </section>
      );
    case 'found':
      return (
        <section class="result ok" data-testid="result" data-outcome="found" aria-live="polite">
          <h2 data-testid="result-title">
            Value of <q>{outcome.key}</q>
          </h2>
          {outcome.text === undefined ? (
            <p data-testid="result-value">
              Binary value: {formatBytes(outcome.bytes)} of <code>{outcome.type}</code>.
            </p>
          ) : (
            <pre class="value" data-testid="result-value">
              {outcome.text}
            </pre>
          )}
          <dl class="facts">
            <VersionFact version={outcome.version} />
            <dt>Type</dt>
            <dd>
              {outcome.type} ({formatBytes(outcome.bytes)})
            </dd>
            {outcome.expiresInSeconds !== undefined && (
              <>
                <dt>Expires</dt>
                <dd>in {outcome.expiresInSeconds} s</dd>
              </>
            )}
          </dl>
          <p>
            <a href={`/get?key=${encodeURIComponent(outcome.key)}`}>Raw value</a>
          </p>
        </section>
      );
    case 'not-found':
      return (
        <section
          class="result warn"
          data-testid="result"
          data-outcome="not-found"
          aria-live="polite"
        >
          <h2 data-testid="result-title">Not found</h2>
          <p>
            No node in the cluster has a value for <q>{outcome.key}</q>.
          </p>
        </section>
      );
    case 'failed':
      return (
        <section class="result error" data-testid="result" data-outcome="failed" role="alert">
          <h2 data-testid="result-title">
            {outcome.action === 'post' ? 'Not stored' : 'Could not read'}
          </h2>
          <p data-testid="result-error">{outcome.error}</p>
          <dl class="facts">
            <dt>Code</dt>
            <dd>
              <code data-testid="result-code">{outcome.code}</code> (HTTP {outcome.status})
            </dd>
            {outcome.written && (
              <>
                <dt>Written as</dt>
                <dd>
                  <code>{outcome.written.version}</code> on this node and on{' '}
                  {outcome.written.masters.length > 0
                    ? outcome.written.masters.join(', ')
                    : 'no master'}
                </dd>
              </>
            )}
            {outcome.current !== undefined && (
              <>
                <dt>Current version</dt>
                <dd>{outcome.current === null ? 'absent' : <code>{outcome.current}</code>}</dd>
              </>
            )}
          </dl>
        </section>
      );
  }
}

/** The version a value was stored as or read at. */
function VersionFact({ version }: { version: string }) {
  return (
    <>
      <dt>Version</dt>
      <dd>
        <code data-testid="result-version">{version}</code>
      </dd>
    </>
  );
}
