import { integerArg, word } from './arguments.js';
import { err, syntaxError } from './resp-error.js';

/** SET's options as diststore supports them. */
export interface SetOptions {
  /** Seconds until the entry is gone everywhere (EX s, or PX ms ÷ 1000). */
  ttlSeconds: number | undefined;
  /** NX: only if the key does not exist (diststore's ifAbsent, decided on a master). */
  ifAbsent: boolean;
  /** XX: only if it exists (a compare-and-set against the version read). */
  ifExists: boolean;
}

/** Parses `[EX s|PX ms] [NX|XX]` from `args[from]` on. */
export function parseSetOptions(args: Buffer[], from: number, command: string): SetOptions {
  const options: SetOptions = { ttlSeconds: undefined, ifAbsent: false, ifExists: false };
  for (let i = from; i < args.length; i++) {
    const option = word(args[i]);
    if (option === 'NX' || option === 'XX') {
      if (options.ifAbsent || options.ifExists) throw syntaxError();
      if (option === 'NX') options.ifAbsent = true;
      else options.ifExists = true;
    } else if (option === 'EX' || option === 'PX') {
      if (options.ttlSeconds !== undefined || i + 1 >= args.length) throw syntaxError();
      const amount = integerArg(args[++i]);
      if (amount <= 0) throw err(`invalid expire time in '${command}' command`);
      options.ttlSeconds = option === 'EX' ? amount : amount / 1000;
    } else if (['GET', 'KEEPTTL', 'EXAT', 'PXAT'].includes(option)) {
      throw err(`diststore's ${command.toUpperCase()} does not take ${option}`);
    } else {
      throw syntaxError();
    }
  }
  return options;
}
