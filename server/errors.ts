import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DiststoreError } from '../cluster/errors.js';

/** An error a client caused or must know about, with a stable code and an HTTP status. */
export class HttpError extends DiststoreError {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const badRequest = (code: string, message: string) => new HttpError(400, code, message);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);
