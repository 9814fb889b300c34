import type { Logger } from 'pino';
import { isValidHttpAddress, isValidNodeId, sameHost } from './address.js';
import { hashValue } from './entry.js';
import type { Freshness } from './freshness.js';
import type { Lookup } from './lookup.js';
import type { Mastership } from './mastership.js';
import type { Membership } from './membership.js';
import type { Refusals } from './refusals.js';
import type { Store } from './store.js';
import type { Peer, Transport } from './transport.js';
import type { UntimelyMembers } from './untimely-members.js';
import type { HybridClock } from './version.js';
import type { Announce, Message, NodeState } from './wire.js';

/** What the packet handler needs of its node. */
export interface PacketHandlerOptions {
  selfId: string;
  /** This node's own HTTP address, named in its `has` answers. */
  http: string;
  boot: string;
  transport: Transport;
  membership: Membership;
  mastership: Mastership;
  store: Store;
  lookup: Lookup;
  refusals: Refusals;
  /** Moved forward by other nodes' clocks, as by their versions. */
  hybridClock: HybridClock;
  freshness: Freshness;
  log: Logger;
  /** The state this node announces (joining, ready, syncing, leaving). */
  state(): NodeState;
  /** This node's announcement as of now. */
  announcement(): Announce;
  /** Accept packets whose advertised address is not the packet's source (NAT). */
  allowAddressMismatch?: boolean | undefined;
  /** Test hook: ignore invalidation packets, as if every one were lost. */
  ignoreInvalidations?: boolean | undefined;
  /** Most members this node keeps track of; more announcers are refused. */
  maxMembers: number;
  /** Members heard only by announcements refused for their time stamps. */
  untimely: UntimelyMembers;
}

/**
 * What a node does with each packet from the cluster (design.md, "Multicast protocol"):
 * answers censuses and who-has queries, hears announcements, passes answers to the lookup,
 * applies invalidations. Every packet is checked against what its sender may say first.
 */
export class PacketHandler {
  constructor(private readonly options: PacketHandlerOptions) {}

  receive(message: Message, from: Peer): void {
    const { transport, lookup, refusals, allowAddressMismatch } = this.options;
    switch (message.kind) {
      case 'census':
        transport.unicast(this.options.announcement(), from);
        return;
      case 'announce':
        if (this.acceptAnnounce(message, from)) this.heard(message);
        return;
      case 'who-has':
        this.answerWhoHas(message.keyHash, from);
        return;
      case 'has':
        // An answer must come from the node it names, or it could send us anywhere.
        if (!allowAddressMismatch && !sameHost(message.http, from.address)) {
          refusals.packet('address-mismatch', `has answer for ${message.http}`, from);
          return;
        }
        if (!refusals.admits('who-has', message.version, `answer from ${message.node}`)) return;
        // Every answer a reader gets passes here: its log object is made only when wanted.
        if (this.options.log.isLevelEnabled('debug')) {
          const { keyHash: hash, node, version, master } = message;
          this.options.log.debug({ hash, from: node, version, m: master }, 'who-has answer');
        }
        // Only a current master's answer ends the collection early. A member's claim to be a
        // master (a minority's, back from a partition) is an answer like any member's: it may
        // hold the only copy of a write acknowledged over there. A stranger's is refused.
        if (message.master && !this.fromMaster(message.node, from)) {
          if (this.options.membership.get(message.node)?.http !== message.http) {
            refusals.packet('not-master', `has answer claiming m=1 from ${message.node}`, from);
            return;
          }
          lookup.answer(message.keyHash, { ...message, master: false });
          return;
        }
        lookup.answer(message.keyHash, message);
        return;
      case 'absent':
        if (!this.fromMaster(message.node, from)) {
          refusals.packet('not-master', `absent answer from ${message.node}`, from);
          return;
        }
        lookup.answer(message.keyHash, { absent: message.node });
        return;
      case 'invalidate':
        this.invalidate(message, from);
        return;
    }
  }

  private invalidate(message: Extract<Message, { kind: 'invalidate' }>, from: Peer): void {
    const { store, mastership, refusals, selfId } = this.options;
    // A master hears its own invalidations (multicast loops back): nothing to do, nothing wrong.
    if (this.options.ignoreInvalidations || message.node === selfId) return;
    // Only the masters apply writes, so only they can say a copy is stale.
    if (!this.fromMaster(message.node, from)) {
      refusals.packet('not-master', `invalidation from ${message.node}`, from);
      return;
    }
    const boot = this.options.membership.get(message.node)?.boot ?? '';
    this.options.freshness.heard(message.node, boot, message.seq, 'invalidation');
    // Masters converge by replication: there only a cached copy can be stale, so the primary
    // tier (with a data dir, an lmdb read per key) is not searched. Elsewhere even our
    // own earlier write is superseded.
    const primaryToo = !mastership.isMaster;
    for (const { keyHash, version } of message.changes) {
      if (!refusals.admits('invalidation', version, `from ${message.node}`)) continue;
      const key = primaryToo ? store.keyForHash(keyHash) : store.cachedKeyForHash(keyHash);
      if (key === undefined) continue;
      const dropped = store.invalidate(key, version, primaryToo);
      // For tracing a stale read (--log-level debug): when this node learnt a copy was stale.
      if (dropped) this.options.log.debug({ key, version, from: message.node }, 'invalidated');
    }
  }

  /**
   * An authentic announcement refused for its time stamp: its sender is noted as a member we
   * cannot hear (UntimelyMembers) if it could have been heard otherwise. The packet was
   * counted as dropped already. A member still alive is noted too (our clock may just have
   * jumped): it counts as unheard only once it is not (DistNode.unheardMembers).
   */
  untimely(announce: Announce, from: Peer, aheadMs: number): void {
    if (announce.node === this.options.selfId || this.senderProblem(announce, from)) return;
    this.options.untimely.heard(announce.node, aheadMs);
  }

  /** What is wrong with an announcement's sender: its id or address, or where it came from. */
  private senderProblem(
    announce: Announce,
    from: Peer,
  ): 'bad-member' | 'address-mismatch' | undefined {
    if (!isValidNodeId(announce.node) || !isValidHttpAddress(announce.http)) return 'bad-member';
    if (!this.options.allowAddressMismatch && !sameHost(announce.http, from.address)) {
      return 'address-mismatch';
    }
    return undefined;
  }

  /** Whether a packet naming `node` comes from a current master, at that master's address. */
  private fromMaster(node: string, from: Peer): boolean {
    const { mastership, selfId, allowAddressMismatch } = this.options;
    if (!mastership.set.ids.includes(node) || node === selfId) return false;
    const http = mastership.httpOf(node);
    return http !== undefined && (allowAddressMismatch || sameHost(http, from.address));
  }

  /**
   * Whether an announce may be heard: a valid id and address, the address the packet came
   * from, and room for it (a flood of made-up members would otherwise fill the member list
   * and could be elected).
   */
  private acceptAnnounce(announce: Announce, from: Peer): boolean {
    const { refusals, membership, maxMembers } = this.options;
    const problem = this.senderProblem(announce, from);
    if (problem === 'bad-member') {
      refusals.packet(problem, `announce with id ${announce.node.slice(0, 64)}`, from);
      return false;
    }
    if (problem === 'address-mismatch') {
      refusals.packet(problem, `announce of ${announce.node} for ${announce.http}`, from);
      return false;
    }
    if (!membership.get(announce.node) && membership.size >= maxMembers) {
      refusals.packet(
        'too-many-members',
        `announce of ${announce.node}: ${maxMembers} known`,
        from,
      );
      return false;
    }
    return true;
  }

  private answerWhoHas(hash: string, from: Peer): void {
    const { store, mastership, transport, selfId } = this.options;
    const state = this.options.state();
    if (state === 'joining' || state === 'leaving') return;
    const key = store.keyForHash(hash);
    const entry = key === undefined ? undefined : store.get(key);
    if (entry) {
      transport.unicast(
        {
          kind: 'has',
          keyHash: hash,
          node: selfId,
          http: this.options.http,
          version: entry.version,
          // A master still syncing, or back from a stall, may hold an older version than the
          // other master: its answer is a member's, and ends no lookup.
          master: mastership.isMaster && state === 'ready',
          valueHash: hashValue(entry.value),
          deleted: entry.deleted === true,
        },
        from,
      );
    } else if (mastership.isMaster && state === 'ready') {
      transport.unicast({ kind: 'absent', keyHash: hash, node: selfId }, from);
    }
  }

  private heard(announce: Announce): void {
    const { membership, mastership, log } = this.options;
    if (announce.node === this.options.selfId) {
      if (announce.boot !== this.options.boot) {
        log.error({ id: announce.node }, 'another node uses this node id');
      }
      return;
    }
    if (!membership.get(announce.node)) {
      log.info({ member: announce.node, http: announce.http }, 'member joined');
    }
    // A new master set is judged with what we knew of its sender before this announcement:
    // whether the sender was a complete master of the previous set, not what it is now.
    mastership.consider(
      { epoch: announce.epoch, ids: announce.masters, quorum: announce.quorum },
      `announce from ${announce.node}`,
    );
    membership.heard(announce);
    if (announce.owes || (announce.epoch > 0 && !announce.quorum)) {
      mastership.awaitResend(announce.node);
    } else {
      mastership.owesNothing(announce.node);
    }
    // Clocks move forward together (a hybrid clock never runs behind what it has heard), but
    // not to a clock past the skew bound: that one is refused, and counted.
    if (announce.clock !== undefined) {
      const clock = { wall: announce.clock, counter: 0, node: announce.node };
      if (this.options.refusals.admits('announce', clock, `clock of ${announce.node}`)) {
        this.options.hybridClock.observe(clock);
      }
    }
    if (mastership.set.ids.includes(announce.node)) {
      this.options.freshness.heard(announce.node, announce.boot, announce.inv, 'announce');
      mastership.heardFrom(announce.node);
    }
    if (announce.state === 'leaving') {
      log.info({ member: announce.node }, 'member left');
      mastership.maybeElect();
    }
  }
}
