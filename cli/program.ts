import { Command, type HelpContext, InvalidArgumentError, Option } from 'commander';
import { parseVersion } from '../cluster/version.js';
import { NodeClient, type WriteOptions } from './node-client.js';
import { readValue, type ValueSource } from './value-source.js';

/** The streams a command reads and writes; passed in so nothing reaches for globals. */
export interface Io {
  stdin: AsyncIterable<unknown> & { isTTY?: boolean };
  stdout: { write(chunk: string | Uint8Array): unknown };
  stderr: { write(chunk: string): unknown };
}

interface GlobalOptions {
  node: string;
  timeoutMs: number;
  token?: string;
}

interface PostFlags {
  file?: string;
  type?: string;
  ttl?: number;
  ifVersion?: string;
  ifAbsent?: boolean;
}

// The daemon's default address: a node on this machine answers without any flag.
const DEFAULT_NODE = 'http://127.0.0.1:8181';
// Longer than a lookup plus a fetch plus a write's replication, short enough for scripts.
const DEFAULT_TIMEOUT_MS = 5000;
// The daemon's own TTL limit (ten years), checked here so a typo is a usage error.
const MAX_TTL_SECONDS = 10 * 365 * 86_400;

const integer = (min: number, max: number) => (text: string) => {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
  }
  return Number(text);
};

/** A node's base URL, without the trailing slash the routes are appended after. */
const nodeUrl = (text: string) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:8181');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError('expected an http:// or https:// URL');
  }
  if (url.search || url.hash) throw new InvalidArgumentError('expected a URL without ? or #');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
};

const contentType = (text: string) => {
  if (!/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;[ -~]*)?$/.test(text)) {
    throw new InvalidArgumentError('expected a content type such as image/png');
  }
  return text;
};

const version = (text: string) => {
  if (!parseVersion(text)) {
    throw new InvalidArgumentError('expected a version as a write answers it');
  }
  return text;
};

const KEY = 'the key: any text (1 to 1024 UTF-8 bytes by default)';

const HELP_AFTER = `
Values come from the argument, else --file PATH, else standard input (also when the value
or PATH is -). A value that looks like an option goes after --: diststore post k -- --x.

Environment:
  DISTSTORE_NODE   the node to talk to when --node is not given
  DISTSTORE_TOKEN  the node's client token when --token is not given (unlike --token, it
                   does not show in ps)

Exit codes:
  0  done
  1  not found (404)
  2  usage error: a bad or missing argument, unknown command or option
  3  node unreachable: connection refused, timed out, host not found
  4  any other error answer (409 conflict, 413 too large, 503 not ready, ...)

Examples:
  diststore post greeting hello
  diststore --node http://127.0.0.1:8183 get greeting
  diststore post logo --file logo.png --type image/png
  tar c dir | diststore post backup --ttl 3600
  diststore post lock me --if-absent || echo "somebody holds the lock"
`;

/** commander's Command, except that a missing command is a one-line usage error, not the help. */
class Program extends Command {
  override help(context?: HelpContext): never;
  override help(transform: (text: string) => string): never;
  override help(arg?: HelpContext | ((text: string) => string)): never {
    // commander shows the whole help on stderr when no known command is named; say what is wanted.
    if (typeof arg === 'object' && arg.error) {
      const names = this.commands.map((c) => c.name()).filter((name) => name !== 'help');
      this.error(`expected a command: one of ${names.join(', ')}`);
    }
    return typeof arg === 'function' ? super.help(arg) : super.help(arg);
  }
}

/** Builds the diststore command line; actions write to `io` and throw CliError on failure. */
export function buildProgram(io: Io): Command {
  const program = new Program('diststore')
    .description('read, write and delete keys of a diststore cluster through one of its nodes')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // One line, like every other failure, with the way to the usage.
      outputError: (text, write) =>
        write(`diststore: ${text.replace(/^error: /, '').trim()} (see diststore --help)\n`),
    })
    .allowExcessArguments(false)
    .addOption(
      new Option('--node <url>', 'the node to talk to')
        .env('DISTSTORE_NODE')
        .default(DEFAULT_NODE)
        .argParser(nodeUrl),
    )
    .addOption(
      new Option('--token <token>', "the node's client token (if it has one)")
        .env('DISTSTORE_TOKEN')
        .argParser((text: string) => {
          if (!/^\S+$/.test(text))
            throw new InvalidArgumentError('expected a token without spaces');
          return text;
        }),
    )
    .addOption(
      new Option('--timeout-ms <ms>', 'time limit of the request')
        .default(DEFAULT_TIMEOUT_MS)
        .argParser(integer(1, 600_000)),
    )
    .addHelpText('after', HELP_AFTER);

  const client = (command: Command) => {
    const { node, timeoutMs, token } = command.optsWithGlobals<GlobalOptions>();
    return new NodeClient({ node, timeoutMs, token });
  };
  const printJson = (value: unknown, indent?: number) =>
    io.stdout.write(`${JSON.stringify(value, null, indent)}\n`);

  program
    .command('get')
    .description('print the value of a key (asks the cluster when this node lacks it)')
    .argument('<key>', KEY)
    .action(async (key: string, _flags, command: Command) => {
      io.stdout.write(await client(command).get(key));
    });

  program
    .command('get-local')
    .description("print this node's copy of a key, without asking the cluster")
    .argument('<key>', KEY)
    .action(async (key: string, _flags, command: Command) => {
      io.stdout.write(await client(command).get(key, true));
    });

  const post = async (key: string, value: string | undefined, flags: PostFlags, c: Command) => {
    const source: ValueSource = { argument: value, file: flags.file, type: flags.type };
    const options: WriteOptions = {
      local: c.name() === 'post-local',
      ttlSeconds: flags.ttl,
      ifVersion: flags.ifVersion,
      ifAbsent: flags.ifAbsent,
    };
    printJson(await client(c).post(key, await readValue(source, io), options));
  };
  const valueOptions = (command: Command) =>
    command
      .argument('<key>', KEY)
      .argument('[value]', 'the value (default: --file, else standard input)')
      .option('--file <path>', 'read the value from a file (- for standard input)')
      .addOption(
        new Option(
          '--type <type>',
          'content type to store (default: text for an argument, else application/octet-stream)',
        ).argParser(contentType),
      );

  valueOptions(
    program
      .command('post')
      .description('store a value on this node and on the masters, print the answer'),
  )
    .addOption(
      new Option('--ttl <seconds>', 'the key is gone everywhere after this many seconds').argParser(
        integer(1, MAX_TTL_SECONDS),
      ),
    )
    .addOption(
      new Option('--if-version <version>', 'write only if the key is at this version')
        .argParser(version)
        .conflicts('ifAbsent'),
    )
    .option('--if-absent', 'write only if the key does not exist')
    .action(post);

  valueOptions(
    program.command('post-local').description('store a value on this node only, print the answer'),
  ).action(post);

  program
    .command('delete')
    .description('delete a key everywhere, print the answer')
    .argument('<key>', KEY)
    .action(async (key: string, _flags, command: Command) => {
      printJson(await client(command).remove(key));
    });

  program
    .command('keys')
    .description("list this node's keys, one per line")
    .action(async (_flags, command: Command) => {
      for (const key of await client(command).keys()) io.stdout.write(`${key}\n`);
    });

  program
    .command('status')
    .description("print the node's view of itself and the cluster (JSON)")
    .action(async (_flags, command: Command) => {
      printJson(await client(command).status(), 2);
    });

  return program;
}
