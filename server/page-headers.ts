import { createHash } from 'node:crypto';
import { SCRIPT } from './page-script.js';
import { STYLE } from './page-style.js';

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
