import { type Entry, hashValue } from './entry.js';
import { compareVersions } from './version.js';
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
  /** Fetches the value from the node that answered; undefined if it no longer has it. */
  fetch: (answer: HasAnswer, key: string) => Promise<Entry | undefined>;
  /** Reports how a lookup ended, for the metrics. */
  onOutcome?: (outcome: LookupOutcome, ms: number) => void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => { unref?(): unknown };
  clearTimer?: (timer: never) => void;
}

export type LookupOutcome = 'found' | 'absent' | 'deleted' | 'timeout' | 'fetch-failed';

interface Pending {
  answers: HasAnswer[];
  absent: Set<string>;
  done: () => void;
}

/**
 * Finds keys this node lacks: one who-has query per key at a time (concurrent readers share
 * it), answers collected until the first master answer, every master saying absent, or the
 * timeout; then the newest version is fetched, falling back to the next answer on failure.
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

  /** The newest entry anyone holds for the key, fetched; undefined when nobody has it. */
  find(key: string, keyHash: string): Promise<Entry | undefined> {
    let lookup = this.inFlight.get(key);
    if (!lookup) {
      lookup = this.run(key, keyHash).finally(() => this.inFlight.delete(key));
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
    if (answer.master) pending.done();
  }

  private async run(key: string, keyHash: string): Promise<Entry | undefined> {
    const started = this.now();
    const answers = await this.collect(keyHash);
    const report = (outcome: LookupOutcome) =>
      this.options.onOutcome?.(outcome, this.now() - started);
    if (answers.timedOut && answers.list.length === 0) {
      report('timeout');
      return undefined;
    }
    if (answers.list.length === 0) {
      report('absent');
      return undefined;
    }
    const newestFirst = answers.list.sort((a, b) => compareVersions(b.version, a.version));
    // The newest version is a deletion: nothing older may come back.
    if (newestFirst[0]?.deleted) {
      report('deleted');
      return undefined;
    }
    for (const answer of newestFirst) {
      // A deletion newer than every copy still to try hides them all.
      if (answer.deleted) break;
      try {
        const entry = await this.options.fetch(answer, key);
        // The hash named in the answer guards against a wrong or forged answer.
        if (entry && hashValue(entry.value) === answer.valueHash) {
          report('found');
          return entry;
        }
      } catch {
        // try the next answer
      }
    }
    report('fetch-failed');
    return undefined;
  }

  private collect(keyHash: string): Promise<{ list: HasAnswer[]; timedOut: boolean }> {
    return new Promise((resolve) => {
      let timedOut = false;
      const pending: Pending = {
        answers: [],
        absent: new Set(),
        done: () => {
          this.clearTimer(timer);
          this.pending.delete(keyHash);
          resolve({ list: pending.answers, timedOut });
        },
      };
      const timer = this.setTimer(() => {
        // Timers run before I/O in Node's event loop: after a busy stretch, answers that
        // arrived in time may still be unread. Let them in first (setImmediate runs after I/O).
        setImmediate(() => {
          if (this.pending.get(keyHash) !== pending) return;
          timedOut = true;
          pending.done();
        });
      }, this.options.timeoutMs);
      this.pending.set(keyHash, pending);
      this.options.ask(keyHash);
      // We are the only ready master and lack the key: nobody else's word is awaited.
      if (this.options.mastersToHear()?.length === 0) pending.done();
    });
  }
}
