import type { HeaderOf, Refusal } from './refusals.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Refuses state-changing requests a browser sends on behalf of another site (a form post or a
 * fetch from a page elsewhere): 403 `cross_site_request`. Browsers say where a request comes
 * from in `Origin` and `Sec-Fetch-Site`; programs (curl, the CLI, other services) send
 * neither and pass. `allowedOrigins` is --cors-origin: those origins (or all, with '*') pass.
 */
export function crossSiteRefusal(
  method: string,
  header: HeaderOf,
  allowedOrigins: string[],
): Refusal | undefined {
  if (!STATE_CHANGING.has(method)) return undefined;
  const why = crossSiteReason(
    header('origin'),
    header('sec-fetch-site'),
    header('host'),
    allowedOrigins,
  );
  if (why === undefined) return undefined;
  return {
    reason: 'cross_site',
    detail: why,
    status: 403,
    code: 'cross_site_request',
    message: `refused: ${why}; a page on another site may not change this node's data (allow its origin with --cors-origin)`,
  };
}

/** Why a request is cross-site, or undefined when it is from this node's own page or no browser. */
export function crossSiteReason(
  origin: string | undefined,
  fetchSite: string | undefined,
  host: string | undefined,
  allowedOrigins: string[],
): string | undefined {
  if (origin !== undefined) {
    if (allowedOrigins.includes('*') || allowedOrigins.includes(origin)) return undefined;
    // Sandboxed frames, data: URLs and the like: nobody can be allowed as "null".
    if (origin === 'null') return 'the request comes from an opaque origin (Origin: null)';
    if (host !== undefined && hostOf(origin) === host.toLowerCase()) return undefined;
    return `the request comes from ${origin}`;
  }
  // Other ports of the same host are "same-site" but still another origin.
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') {
    return `the request comes from another origin (Sec-Fetch-Site: ${fetchSite})`;
  }
  return undefined;
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}
