import type { Entry } from '../cluster/entry.js';
import { entryHeaders } from '../cluster/peer-client.js';
import type { WriteResult } from '../cluster/replication.js';
import { formatVersion } from '../cluster/version.js';

/** The JSON answer to a write: its version and which masters hold it. */
export function writeResultJson(result: WriteResult) {
  return {
    key: result.key,
    version: formatVersion(result.version),
    masters: result.masters,
    lost: result.lost,
  };
}

/** The raw value with its content type, version and expiry. */
export function valueResponse(entry: Entry): Response {
  return new Response(entry.value as Uint8Array<ArrayBuffer>, { headers: entryHeaders(entry) });
}
