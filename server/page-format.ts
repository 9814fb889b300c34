// How the page words what it shows; the only copy, since the cluster section is refreshed as
// HTML rendered here (GET /ui/cluster), not re-rendered by the browser.

/** The classes of a badge for a state or role word (`badge-ready`, `badge-master`...). */
export function badgeClass(word: string): string {
  return `badge badge-${word}`;
}

/** The master set, or that there is none yet. */
export function formatMasters(ids: string[]): string {
  return ids.length > 0 ? ids.join(', ') : 'none yet';
}

/** A tier of the store: its entry count and their bytes. */
export function formatTier(count: number, bytes: number): string {
  return `${count} (${formatBytes(bytes)})`;
}

/** "1 member", "3 members". */
export function formatMemberCount(count: number): string {
  return `${count} ${count === 1 ? 'member' : 'members'}`;
}

/** A clock's offset from the cluster's median: "+0.2 s", "−3600.0 s"; null: not compared yet. */
export function formatClockOffset(seconds: number | null): string {
  if (seconds === null) return 'not compared yet';
  return `${seconds < 0 ? '−' : '+'}${Math.abs(seconds).toFixed(1)} s`;
}

/** Members this node cannot hear because their packets are stamped too far from its clock. */
export function formatUnheard(count: number): string {
  return ` · ${formatMemberCount(count)} unheard: packets stamped too far from this clock`;
}

/** When a member was last heard from; this node's own row says so instead. */
export function formatSeen(ms: number, self: boolean): string {
  return self ? 'this node' : `${(ms / 1000).toFixed(1)} s ago`;
}

/** Bytes in B, KiB, MiB… with one decimal above 1 KiB. */
export function formatBytes(bytes: number): string {
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
