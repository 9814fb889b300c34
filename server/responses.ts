import type { Entry } from '../cluster/entry.js';
import type { WriteResult } from '../cluster/node.js';
import { VERSION_HEADER } from '../cluster/peer-client.js';
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

/** The raw value with its content type and version. */
export function valueResponse(entry: Entry): Response {
  return new Response(entry.value as Uint8Array<ArrayBuffer>, {
    headers: { 'content-type': entry.type, [VERSION_HEADER]: formatVersion(entry.version) },
  });
}
