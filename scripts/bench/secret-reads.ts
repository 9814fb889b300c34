import { randomBytes } from 'node:crypto';
import { BenchFleet } from './fleet.js';
import { absentReads, firstRemoteReads, type Reads } from './lookups.js';
import type { Settings } from './settings.js';

/** The read steps again on a fleet with a cluster secret. */
export interface SecretReads {
  remote: Reads;
  absent: Reads;
}

/**
 * First remote reads and absent reads on a 3-node fleet with a cluster secret. A node refuses
 * to start off loopback without one (protected mode), so every fleet on a LAN signs each
 * packet and each node-to-node request and answer: these are the figures such a fleet gets,
 * beside the loopback fleet's without a secret.
 */
export async function secretReads(settings: Settings): Promise<SecretReads> {
  const fleet = new BenchFleet(undefined, { DISTSTORE_SECRET: randomBytes(32).toString('hex') });
  try {
    await fleet.open(3);
    const { writer, reader, watched } = await fleet.writerAndReader();
    const { remote } = await firstRemoteReads(writer, reader, watched, settings);
    const absent = await absentReads(reader, watched, settings);
    return { remote, absent };
  } finally {
    await fleet.close();
  }
}
