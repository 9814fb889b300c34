import { after, before } from 'node:test';
import { Fleet, type FleetOptions } from './fleet.js';

/**
 * Registers, in the enclosing describe (or file), a `before` hook that starts `count` nodes
 * and waits for them to agree on masters, and an `after` hook that stops them. Returns the
 * fleet, whose nodes are there from the `before` hook on; hooks the caller registers after
 * this call run after the fleet is up.
 */
export function useFleet(count: number, options: FleetOptions = {}): Fleet {
  const fleet = new Fleet(options);
  before(() => fleet.open(count));
  after(() => fleet.close());
  return fleet;
}
