import { createHash } from 'node:crypto';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { DistNode } from '../cluster/node.js';

/** What /status answers, which the page renders. */
export type ClusterStatus = ReturnType<DistNode['status']>;

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

/** The forms' fields as the page shows them (the user's input back after an error). */
export interface FormValues {
  key?: string | undefined;
  value?: string | undefined;
  ttl?: string | undefined;
  getKey?: string | undefined;
}

export interface PageProps {
  status: ClusterStatus;
  maxValueBytes: number;
  outcome?: Outcome | undefined;
  form?: FormValues | undefined;
  /** The node has a client token: the header offers to sign out. */
  signedIn?: boolean | undefined;
}

/** The whole page: the forms, the answer to the last one, and the cluster as this node sees it. */
export function Page({ status, maxValueBytes, outcome, form = {}, signedIn }: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`diststore · ${status.node.id}`}</title>
        <style dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        <header class="top">
          <h1>diststore</h1>
          <p>
            node <code>{status.node.id}</code> in cluster <code>{status.node.cluster}</code>
          </p>
          {signedIn && (
            <form method="post" action="/ui/logout" class="sign-out">
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        <main>
          <div class="forms">
            <PostForm values={form} maxValueBytes={maxValueBytes} />
            <GetForm getKey={form.getKey} />
          </div>
          {outcome && <Result outcome={outcome} />}
          <ClusterSection status={status} />
        </main>
        <script dangerouslySetInnerHTML={{ __html: SCRIPT }} />
      </body>
    </html>
  );
}

function PostForm({ values, maxValueBytes }: { values: FormValues; maxValueBytes: number }) {
  return (
    <form
      class="card"
      method="post"
      action="/ui/post"
      enctype="application/x-www-form-urlencoded"
      data-testid="post-form"
    >
      <h2>Post a value</h2>
      <label for="post-key">Key</label>
      <input id="post-key" name="key" required autocomplete="off" value={values.key ?? ''} />
      <label for="post-value">Value</label>
      <textarea id="post-value" name="value" rows={4} aria-describedby="post-value-hint">
        {values.value ?? ''}
      </textarea>
      <p class="hint" id="post-value-hint">
        Text, at most {formatBytes(maxValueBytes)}. Stored here and on both masters.
      </p>
      <label for="post-ttl">
        TTL in seconds <span class="optional">(optional)</span>
      </label>
      <input
        id="post-ttl"
        name="ttl"
        type="number"
        min="1"
        step="1"
        inputmode="numeric"
        placeholder="never expires"
        value={values.ttl ?? ''}
      />
      <button type="submit">Post</button>
    </form>
  );
}

function GetForm({ getKey }: { getKey?: string | undefined }) {
  return (
    <form class="card" method="get" action="/" data-testid="get-form">
      <h2>Get a value</h2>
      <label for="get-key">Key</label>
      <input id="get-key" name="key" required autocomplete="off" value={getKey ?? ''} />
      <p class="hint">
        This node's copy if it has one, else the newest version anywhere in the cluster.
      </p>
      <button type="submit">Get</button>
    </form>
  );
}

/** The answer to the last form, as a person reads it. */
function Result({ outcome }: { outcome: Outcome }) {
  switch (outcome.kind) {
    case 'stored':
      return (
        <section class="result ok" data-testid="result" data-outcome="stored" aria-live="polite">
          <h2 data-testid="result-title">
            Stored <q>{outcome.key}</q>
          </h2>
          <dl class="facts">
            <dt>Version</dt>
            <dd>
              <code data-testid="result-version">{outcome.version}</code>
            </dd>
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
            <dt>Version</dt>
            <dd>
              <code data-testid="result-version">{outcome.version}</code>
            </dd>
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

/**
 * The cluster as this node sees it. The inline script re-renders it from /status with the same
 * ids and classes, so keep the two in step.
 */
function ClusterSection({ status }: { status: ClusterStatus }) {
  const members = [...status.members].sort((a, b) => a.id.localeCompare(b.id));
  return (
    <section class="card cluster" id="cluster" aria-labelledby="cluster-title">
      <div class="cluster-head">
        <h2 id="cluster-title">Cluster</h2>
        <p class="hint" id="refreshed" data-testid="refreshed" aria-live="off">
          As of page load
        </p>
      </div>
      <dl class="tiles">
        <div>
          <dt>This node</dt>
          <dd>
            <code id="node-id" data-testid="node-id">
              {status.node.id}
            </code>
          </dd>
        </div>
        <div>
          <dt>State</dt>
          <dd>
            <span id="node-state" data-testid="node-state" class={badgeClass(status.node.state)}>
              {status.node.state}
            </span>
          </dd>
        </div>
        <div>
          <dt>Role</dt>
          <dd>
            <span id="node-role" data-testid="node-role" class={badgeClass(status.node.role)}>
              {status.node.role}
            </span>
          </dd>
        </div>
        <div>
          <dt>Epoch</dt>
          <dd id="epoch" data-testid="epoch">
            {status.masters.epoch}
          </dd>
        </div>
        <div class="wide">
          <dt>Masters</dt>
          <dd id="masters" data-testid="masters">
            {formatMasters(status.masters.ids)}
          </dd>
        </div>
        <div>
          <dt>Primary entries</dt>
          <dd id="store-primary" data-testid="store-primary">
            {formatTier(status.store.primary, status.store.primaryBytes)}
          </dd>
        </div>
        <div>
          <dt>Cached copies</dt>
          <dd id="store-cached" data-testid="store-cached">
            {formatTier(status.store.cached, status.store.cachedBytes)}
          </dd>
        </div>
      </dl>
      <table data-testid="members">
        <caption id="members-caption">{formatMemberCount(members.length)}</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col" class="num">
              Keys
            </th>
            <th scope="col">State</th>
            <th scope="col">Master</th>
            <th scope="col" class="num">
              Last seen
            </th>
          </tr>
        </thead>
        <tbody id="members-body">
          {members.map((m) => {
            const self = m.id === status.node.id;
            // This node is alive by definition, whatever the age of its own announcement.
            const alive = m.alive || self;
            return (
              <tr data-testid="member-row" class={self ? 'self' : ''}>
                <th scope="row">
                  <code>{m.id}</code>
                </th>
                <td class="num">{m.keys}</td>
                <td>
                  <span class={badgeClass(alive ? m.state : 'silent')}>
                    {alive ? m.state : `${m.state}, silent`}
                  </span>
                </td>
                <td>{m.master ? 'master' : '–'}</td>
                <td class="num">{formatSeen(m.lastSeenMs, self)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

// The formatting below is repeated in SCRIPT (plain browser JavaScript); change both together.

function badgeClass(word: string): string {
  return `badge badge-${word}`;
}

function formatMasters(ids: string[]): string {
  return ids.length > 0 ? ids.join(', ') : 'none yet';
}

function formatTier(count: number, bytes: number): string {
  return `${count} (${formatBytes(bytes)})`;
}

function formatMemberCount(count: number): string {
  return `${count} ${count === 1 ? 'member' : 'members'}`;
}

function formatSeen(ms: number, self: boolean): string {
  return self ? 'this node' : `${(ms / 1000).toFixed(1)} s ago`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Polls /status every 2 s and re-renders the cluster section only, with textContent. */
const SCRIPT = `
(function () {
  'use strict';
  var section = document.getElementById('cluster');
  if (!section || !window.fetch) return;

  function byId(id) { return document.getElementById(id); }
  function setText(id, text) { var el = byId(id); if (el) el.textContent = text; }
  function setBadge(id, word) {
    var el = byId(id);
    if (!el) return;
    el.textContent = word;
    el.className = badgeClass(word);
  }
  function badgeClass(word) { return 'badge badge-' + word; }
  function formatMasters(ids) { return ids.length > 0 ? ids.join(', ') : 'none yet'; }
  function formatTier(count, bytes) { return count + ' (' + formatBytes(bytes) + ')'; }
  function formatMemberCount(count) { return count + (count === 1 ? ' member' : ' members'); }
  function formatSeen(ms, self) { return self ? 'this node' : (ms / 1000).toFixed(1) + ' s ago'; }
  function formatBytes(bytes) {
    if (bytes < 1024) return bytes + ' B';
    var units = ['KiB', 'MiB', 'GiB', 'TiB'];
    var value = bytes / 1024;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
    return value.toFixed(1) + ' ' + units[unit];
  }
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function memberRow(m, selfId) {
    var self = m.id === selfId;
    var alive = m.alive || self;
    var row = el('tr', undefined, self ? 'self' : '');
    row.setAttribute('data-testid', 'member-row');
    var head = el('th');
    head.scope = 'row';
    head.appendChild(el('code', m.id));
    row.appendChild(head);
    row.appendChild(el('td', String(m.keys), 'num'));
    var state = el('td');
    state.appendChild(el('span', alive ? m.state : m.state + ', silent',
      badgeClass(alive ? m.state : 'silent')));
    row.appendChild(state);
    row.appendChild(el('td', m.master ? 'master' : '\\u2013'));
    row.appendChild(el('td', formatSeen(m.lastSeenMs, self), 'num'));
    return row;
  }

  function render(s) {
    setText('node-id', s.node.id);
    setBadge('node-state', s.node.state);
    setBadge('node-role', s.node.role);
    setText('masters', formatMasters(s.masters.ids));
    setText('epoch', String(s.masters.epoch));
    setText('store-primary', formatTier(s.store.primary, s.store.primaryBytes));
    setText('store-cached', formatTier(s.store.cached, s.store.cachedBytes));
    var members = s.members.slice().sort(function (a, b) { return a.id.localeCompare(b.id); });
    setText('members-caption', formatMemberCount(members.length));
    var body = byId('members-body');
    if (body) body.replaceChildren.apply(body, members.map(function (m) {
      return memberRow(m, s.node.id);
    }));
  }

  function refresh() {
    fetch('/status', { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (s) {
        render(s);
        section.classList.remove('stale');
        setText('refreshed', 'Updated ' + new Date().toLocaleTimeString() + ', every 2 s');
      })
      .catch(function (error) {
        section.classList.add('stale');
        setText('refreshed', 'Cannot reach this node (' + error.message + '); retrying');
      })
      .then(function () { setTimeout(refresh, 2000); });
  }
  setTimeout(refresh, 2000);
})();
`;

export const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f4f6f9; --card: #ffffff; --text: #1c2330; --muted: #5d6878; --line: #dfe4eb;
  --accent: #2457c5; --accent-text: #ffffff; --stripe: #f8f9fb; --self: #eef3ff;
  --ok-bg: #e8f6ee; --ok-line: #9bd3b1; --warn-bg: #fff6e0; --warn-line: #f0cf7a;
  --err-bg: #fdecec; --err-line: #eba3a3; --code-bg: #eef1f5;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12161d; --card: #1b212b; --text: #e3e8ef; --muted: #98a3b3; --line: #2e3744;
    --accent: #6f9bff; --accent-text: #0b1020; --stripe: #1f2631; --self: #1f2a40;
    --ok-bg: #15301f; --ok-line: #2f6b45; --warn-bg: #33290f; --warn-line: #7a6222;
    --err-bg: #3a1717; --err-line: #8a3a3a; --code-bg: #262e3a;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
}
code, pre, input, textarea { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
code { font-size: 0.9em; }
.top { background: var(--card); border-bottom: 1px solid var(--line); }
.top, main { padding-left: max(1.25rem, calc((100% - 68rem) / 2)); padding-right: max(1.25rem, calc((100% - 68rem) / 2)); }
.top { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; padding-top: 0.9rem; padding-bottom: 0.9rem; }
.top h1 { margin: 0; font-size: 1.35rem; letter-spacing: 0.01em; }
.top p { margin: 0; color: var(--muted); }
main { padding-top: 1.25rem; padding-bottom: 2rem; display: grid; gap: 1.25rem; }
h2 { margin: 0 0 0.75rem; font-size: 1.1rem; }
.card, .result { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1.1rem 1.25rem; }
.forms { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1.25rem; align-items: start; }
form { display: flex; flex-direction: column; }
label { font-weight: 600; margin: 0.5rem 0 0.25rem; }
.optional { font-weight: normal; color: var(--muted); }
input, textarea {
  font-size: 0.95rem; padding: 0.45rem 0.6rem; border: 1px solid var(--line); border-radius: 6px;
  background: var(--bg); color: var(--text); width: 100%;
}
textarea { resize: vertical; }
input:focus, textarea:focus, button:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.hint { color: var(--muted); font-size: 0.85rem; margin: 0.3rem 0 0; }
button {
  align-self: flex-start; margin-top: 0.9rem; padding: 0.45rem 1.3rem; font: inherit; font-weight: 600;
  color: var(--accent-text); background: var(--accent); border: 0; border-radius: 6px; cursor: pointer;
}
button:hover { filter: brightness(1.1); }
.result.ok { background: var(--ok-bg); border-color: var(--ok-line); }
.result.warn { background: var(--warn-bg); border-color: var(--warn-line); }
.result.error { background: var(--err-bg); border-color: var(--err-line); }
.result h2 { overflow-wrap: anywhere; }
.result p { margin: 0.25rem 0; }
.result a { color: var(--accent); }
.value {
  margin: 0 0 0.75rem; padding: 0.7rem 0.9rem; background: var(--card); border: 1px solid var(--line);
  border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 20rem; overflow: auto;
}
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.5rem 0 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.cluster-head { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
.cluster-head .hint { margin: 0; }
.cluster.stale .tiles, .cluster.stale table { opacity: 0.55; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 0.75rem; margin: 0 0 1rem; }
.tiles .wide { grid-column: span 2; }
@media (max-width: 40rem) { .tiles { grid-template-columns: repeat(2, 1fr); } }
.tiles div { border: 1px solid var(--line); border-radius: 8px; padding: 0.55rem 0.75rem; background: var(--stripe); }
.tiles dt { color: var(--muted); font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; }
.tiles dd { margin: 0.15rem 0 0; font-weight: 600; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; }
caption { text-align: left; color: var(--muted); font-size: 0.85rem; padding-bottom: 0.4rem; }
th, td { text-align: left; padding: 0.45rem 0.7rem; border-bottom: 1px solid var(--line); }
thead th { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
tbody th { font-weight: normal; }
tbody tr:nth-child(even) { background: var(--stripe); }
tbody tr.self { background: var(--self); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge {
  display: inline-block; padding: 0.05rem 0.55rem; border-radius: 999px; font-size: 0.85rem;
  font-weight: 600; background: var(--code-bg); color: var(--muted);
}
.badge-ready { background: #d7f2e1; color: #17683a; }
.badge-syncing, .badge-joining { background: #fff0c7; color: #7a5600; }
.badge-leaving, .badge-silent { background: #fbdada; color: #9b1c1c; }
.badge-master { background: #dde7ff; color: #1d48a8; }
.sign-out { margin-left: auto; }
.sign-out button { margin-top: 0; }
.signin { max-width: 26rem; }
`;

let headers: Record<string, string> | undefined;

/**
 * Headers of every HTML page: a CSP that lets run only the page's own inline script and style
 * (by hash), talk only to this node and be framed by nobody (clickjacking).
 */
export function pageHeaders(): Record<string, string> {
  const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
  headers ??= {
    'content-security-policy': [
      "default-src 'none'",
      `script-src ${hash(SCRIPT)}`,
      `style-src ${hash(STYLE)}`,
      "connect-src 'self'",
      "img-src 'self'",
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
  };
  return headers;
}
