/** The style sheet of the page and its sign-in form, served inline and allowed by its hash. */
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
.badge-ready, .badge-ok, .badge-in-step { background: #d7f2e1; color: #17683a; }
.badge-syncing, .badge-joining { background: #fff0c7; color: #7a5600; }
.badge-leaving, .badge-silent, .badge-full, .badge-failed, .badge-off { background: #fbdada; color: #9b1c1c; }
.badge-master { background: #dde7ff; color: #1d48a8; }
.sign-out { margin-left: auto; }
.sign-out button { margin-top: 0; }
.signin { max-width: 26rem; }
`;
