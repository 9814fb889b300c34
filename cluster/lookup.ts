import { type Entry, hashValue, makeTombstone } from './entry.js';
import { LookupIncompleteError } from './errors.js';
import { compareVersions, isNewer, type Version } from './version.js';
import type { Message } from './wire.js';

/** A node's answer that it holds a key (a `has` message without its routing fields). */
export type HasAnswer = Omit<Extract<Message, { kind: 'has' }>, 'kind' | 'keyHash'>;

export interface LookupOptions {
  /** How long to collect answers when no master settles it. */
  timeoutMs: number;
  /** Sends the who-has query for a key hash. */
  ask: (keyHash: string) => void;
  /**
   * Ids of the masters whose `absent` answers settle a miss (ready masters other than us);
   * undefined when no master can settle it, so only answers or the timeout end the wait.
   */
  mastersToHear: () => readonly string[] | undefined;
  /**
   * Whether a master's `has` answer ends the wait (default: every master's). A master still
   * syncing may answer with a version older than the other master's: it does not.
   */
  settles?: (master: string) => boolean;
  /** Fetches the value from the node that answered; undefined if it no longer has it. */
  fetch: (answer: HasAnswer, key: string) => Promise<Entry | undefined>;
  /**
   * Starts fetching the key from a ready master at once, alongside the who-has query, or
   * returns undefined when no master can be asked (see Lookup). Its entry counts as that
   * master's answer.
   */
  fetchEarly?: (key: string, keyHash: string) => EarlyFetch | undefined;
  /** Reports how a lookup ended, for the metrics. */
  onOutcome?: (outcome: LookupOutcome, ms: number) => void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => { unref?(): unknown };
  clearTimer?: (timer: never) => void;
}

/** A fetch from a master started with the who-has query. */
export interface EarlyFetch {
  /** The master asked. */
  from: string;
  /** Its entry (a tombstone too); undefined if it lacks the key. */
  entry: Promise<Entry | undefined>;
}

/** How many times a who-has query is sent when nobody answers it. */
const ASKS = 2;

export type LookupOutcome = 'found' | 'absent' | 'deleted' | 'timeout' | 'fetch-failed';

interface Collected {
  list: HasAnswer[];
  absent: ReadonlySet<string>;
  timedOut: boolean;
}

interface Pending {
  answers: HasAnswer[];
  absent: Set<string>;
  done: () => void;
}

/**
 * Finds keys this node lacks: one who-has query per key at a time (concurrent readers share
 * it), answers collected until the first master answer, every master saying absent, or the
 * timeout; then the newest version is fetched, falling back to the next answer on failure.
 *
 * With `fetchEarly`, the value is also fetched from one ready master while the query is out.
 * A master holds every key written through it, and the lookup would end on its answer
 * anyway: its value, when it has one, ends the lookup one round trip sooner. Answers newer
 * than it (a copy written elsewhere and not yet replicated) still win.
 */
export class Lookup {
  private readonly inFlight = new Map<string, Promise<Entry | undefined>>();
  private readonly pending = new Map<string, Pending>();
  private readonly now: () => number;
  private readonly setTimer: NonNullable<LookupOptions['setTimer']>;
  private readonly clearTimer: (timer: unknown) => void;

  constructor(private readonly options: LookupOptions) {
    this.now = options.now ?? performance.now.bind(performance);
    this.setTimer = options.setTimer ?? setTimeout;
    this.clearTimer = (options.clearTimer ?? clearTimeout) as (timer: unknown) => void;
  }

  /**
   * The newest entry anyone holds for the key, fetched (a tombstone when it was deleted);
   * undefined when a master said nobody has it. Throws LookupIncompleteError when the
   * cluster did not settle it: no master's word in time, or no holder handed it over.
   * `known`: a version a master said exists (the caller's copy was invalidated by it). When
   * no master's word came, what the other answers hold is no proof that it is gone: unless
   * one holds a version at least as new, the lookup is incomplete.
   */
  find(key: string, keyHash: string, known?: Version): Promise<Entry | undefined> {
    let lookup = this.inFlight.get(key);
    if (!lookup) {
      lookup = this.run(key, keyHash, known).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, lookup);
    }
    return lookup;
  }

  /** Feeds an answer to the lookup waiting on that key hash, if any. */
  answer(keyHash: string, answer: HasAnswer | { absent: string }): void {
    const pending = this.pending.get(keyHash);
    if (!pending) return;
    if ('absent' in answer) {
      pending.absent.add(answer.absent);
      const awaited = this.options.mastersToHear();
      if (awaited?.every((id) => pending.absent.has(id))) pending.done();
      return;
    }
    pending.answers.push(answer);
    if (answer.master && (this.options.settles?.(answer.node) ?? true)) pending.done();
  }

  private async run(key: string, keyHash: string, known?: Version): Promise<Entry | undefined> {
    const started = this.now();
    const report = (outcome: LookupOutcome) =>
      this.options.onOutcome?.(outcome, this.now() - started);
    const early = this.startEarly(key, keyHash);
    const answers = await this.collect(keyHash);
    const fromMaster = await early?.result();
    if (
      fromMaster &&
      !answers.list.some((a) => compareVersions(a.version, fromMaster.version) > 0) &&
      this.vouchedFor(fromMaster, early?.from, answers.list)
    ) {
      report(fromMaster.deleted ? 'deleted' : 'found');
      return fromMaster;
    }
    // A miss is a miss only when the masters said so: the silence of one, even with the other
    // saying absent, proves nothing (it may hold a write the other has not synced yet).
    if (answers.timedOut && answers.list.length === 0) {
      report('timeout');
      throw new LookupIncompleteError('timeout');
    }
    if (answers.list.length === 0) {
      report('absent');
      return undefined;
    }
    const newestFirst = answers.list.sort((a, b) => compareVersions(b.version, a.version));
    if (answers.timedOut && known && isNewer(known, newestFirst[0]?.version)) {
      report('timeout');
      throw new LookupIncompleteError('timeout');
    }
    // The newest version is a deletion: nothing older may come back.
    const newest = newestFirst[0];
    if (newest?.deleted) {
      report('deleted');
      return makeTombstone(newest.version);
    }
    // The newest version a master named: a copy older than it is known to be stale, so it is
    // not served when the newer ones cannot be fetched (503, and the reader asks again).
    const floor = newestFirst.find((a) => a.master)?.version;
    for (const answer of newestFirst) {
      // A deletion newer than every copy still to try hides them all.
      if (answer.deleted || (floor && isNewer(floor, answer.version))) break;
      try {
        const entry = await this.options.fetch(answer, key);
        if (entry && fetchedAsAnswered(entry, answer)) {
          report('found');
          return entry;
        }
      } catch {
        // try the next answer
      }
    }
    report('fetch-failed');
    throw new LookupIncompleteError('fetch-failed');
  }

  /**
   * Whether an early fetch's entry agrees with what its master said of that version in its
   * who-has answer, when one came: a value whose hash differs is not taken.
   */
  private vouchedFor(entry: Entry, master: string | undefined, answers: HasAnswer[]): boolean {
    const said = answers.find(
      (a) => a.node === master && compareVersions(a.version, entry.version) === 0,
    );
    return !said || said.valueHash === hashValue(entry.value);
  }

  /**
   * Starts the early fetch, if any; an entry ends the collection of answers at once. When the
   * collection ends first (another master's answer came sooner), the fetch already under way
   * is waited for, but no longer than the lookup timeout: a master that hangs costs that
   * much, then the answers are fetched from as without it.
   */
  private startEarly(key: string, keyHash: string) {
    const early = this.options.fetchEarly?.(key, keyHash);
    if (!early) return undefined;
    const entry = early.entry.then(
      (found) => {
        if (found) this.pending.get(keyHash)?.done();
        return found;
      },
      () => undefined,
    );
    return {
      from: early.from,
      result: () =>
        new Promise<Entry | undefined>((resolve) => {
          const timer = this.setTimer(() => resolve(undefined), this.options.timeoutMs);
          void entry.then((found) => {
            this.clearTimer(timer);
            resolve(found);
          });
        }),
    };
  }

  private collect(keyHash: string): Promise<Collected> {
    return new Promise((resolve) => {
      let timedOut = false;
      const pending: Pending = {
        answers: [],
        absent: new Set(),
        done: () => {
          this.clearTimer(timer);
          this.pending.delete(keyHash);
          resolve({ list: pending.answers, absent: pending.absent, timedOut });
        },
      };
      let asked = 1;
      const expire = () => {
        // Timers run before I/O in Node's event loop: after a busy stretch, answers that
        // arrived in time may still be unread. Let them in first (setImmediate runs after I/O).
        setImmediate(() => {
          if (this.pending.get(keyHash) !== pending) return;
          // Nobody at all answered: the query or its answers may have been lost. Ask once
          // more before the read is given up as incomplete.
          if (asked < ASKS && pending.answers.length === 0) {
            asked++;
            timer = this.setTimer(expire, this.options.timeoutMs);
            this.options.ask(keyHash);
            return;
          }
          timedOut = true;
          pending.done();
        });
      };
      let timer = this.setTimer(expire, this.options.timeoutMs);
      this.pending.set(keyHash, pending);
      this.options.ask(keyHash);
      // We are the only ready master and lack the key: nobody else's word is awaited.
      if (this.options.mastersToHear()?.length === 0) pending.done();
    });
  }
}

/**
 * Whether a fetched entry is what its answer named: the hash in the answer guards against a
 * wrong or forged answer. A version newer than the one answered is the holder's since (a write
 * that came between its answer and the fetch, churn seeds 119 and 120: refused, the lookup
 * fell back to an older copy), newer still and taken.
 */
function fetchedAsAnswered(entry: Entry, answer: HasAnswer): boolean {
  return hashValue(entry.value) === answer.valueHash || isNewer(entry.version, answer.version);
}
