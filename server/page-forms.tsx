import { formatBytes } from './page-format.js';

/** The forms' fields as the page shows them (the user's input back after an error). */
export interface FormValues {
  key?: string | undefined;
  value?: string | undefined;
  ttl?: string | undefined;
  getKey?: string | undefined;
}

/** The post form: key, value and an optional TTL, to /ui/post. */
export function PostForm({ values, maxValueBytes }: { values: FormValues; maxValueBytes: number }) {
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

/** The get form: a key, to GET /?key=. */
export function GetForm({ getKey }: { getKey?: string | undefined }) {
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
