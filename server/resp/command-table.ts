import type { ArgDoc, CommandSpec, Encoded, Reply, RespContext, Session } from './command.js';
import { dataCommands } from './data-commands.js';
import { isOtherType, otherTypeCommand } from './other-types.js';
import { array, bulk, error, integer, map, type Protocol, set, simple } from './reply.js';
import { err, RespError, toRespError } from './resp-error.js';
import { serverCommands } from './server-commands.js';

/** COMMAND INFO's entry of a command (Redis 7's ten fields). */
function info(spec: CommandSpec, protocol: Protocol): Buffer {
  const [first, last, step] = spec.keys;
  return array([
    bulk(spec.name.toLowerCase()),
    integer(spec.arity),
    set(
      spec.flags.map((f) => simple(f)),
      protocol,
    ),
    integer(first),
    integer(last),
    integer(step),
    set([simple(`@${spec.group}`)], protocol),
    set([], protocol),
    array([]),
    array([]),
  ]);
}

function argDoc(arg: ArgDoc, protocol: Protocol): Buffer {
  const flags = [arg.optional && 'optional', arg.multiple && 'multiple'].filter(
    (f): f is string => typeof f === 'string',
  );
  const pairs: [string, Buffer][] = [
    ['name', bulk(arg.name)],
    ['type', bulk(arg.type)],
  ];
  if (arg.token) pairs.push(['token', bulk(arg.token)]);
  if (flags.length > 0)
    pairs.push([
      'flags',
      set(
        flags.map((f) => simple(f)),
        protocol,
      ),
    ]);
  if (arg.arguments) {
    pairs.push(['arguments', array(arg.arguments.map((a) => argDoc(a, protocol)))]);
  }
  return map(pairs, protocol);
}

/** COMMAND DOCS's entry: what redis-cli shows as help and hints. */
function docs(spec: CommandSpec, protocol: Protocol): Buffer {
  return map(
    [
      ['summary', bulk(spec.summary)],
      ['since', bulk(spec.since)],
      ['group', bulk(spec.group)],
      ['complexity', bulk(spec.keys[1] === -1 ? 'O(N)' : 'O(1)')],
      ['arguments', array(spec.args.map((a) => argDoc(a, protocol)))],
    ],
    protocol,
  );
}

/** The unknown-command error, worded as Redis words it. */
function unknown(args: Buffer[]): RespError {
  let shown = '';
  for (const arg of args.slice(1)) {
    if (shown.length >= 128) break;
    shown += `'${arg.toString('utf8', 0, 128 - shown.length)}' `;
  }
  return err(
    `unknown command '${args[0]?.toString('utf8', 0, 128)}', with args beginning with: ${shown}`,
    'unknown_command',
  );
}

/** Every command by name, and the one place a command is looked up, checked and counted. */
export class CommandTable {
  private readonly commands = new Map<string, CommandSpec>();

  constructor() {
    const command: CommandSpec = {
      name: 'COMMAND',
      arity: -1,
      flags: [],
      keys: [0, 0, 0],
      group: 'server',
      summary: 'The commands this server knows: COMMAND, COUNT, INFO, DOCS, LIST',
      since: '2.8.13',
      args: [{ name: 'subcommand', type: 'string', optional: true }],
      run: (args, session) => this.command(args, session.protocol),
    };
    for (const spec of [...dataCommands, ...serverCommands, command]) {
      this.commands.set(spec.name, spec);
      this.commands.set(spec.name.toLowerCase(), spec);
    }
  }

  /** Runs one command; errors become error replies, never exceptions. */
  execute(args: Buffer[], session: Session, context: RespContext): Reply {
    const metrics = context.node.metrics;
    const raw = (args[0] as Buffer).toString('latin1');
    const spec = this.commands.get(raw) ?? this.commands.get(raw.toUpperCase());
    try {
      if (!spec) {
        metrics.countRespCommand('unknown');
        if (!isOtherType(raw)) throw unknown(args);
        if (!session.authed) throw new RespError('NOAUTH', 'Authentication required.', 'no_auth');
        throw otherTypeCommand(raw, args, context);
      }
      metrics.countRespCommand(spec.name.toLowerCase());
      const { arity } = spec;
      if (arity > 0 ? args.length !== arity : args.length < -arity) {
        throw err(`wrong number of arguments for '${spec.name.toLowerCase()}' command`);
      }
      if (!session.authed && !spec.flags.includes('no-auth')) {
        throw new RespError('NOAUTH', 'Authentication required.', 'no_auth');
      }
      const reply = spec.run(args, session, context);
      return reply instanceof Promise ? reply.catch((e) => this.failed(e, context)) : reply;
    } catch (e) {
      return this.failed(e, context);
    }
  }

  private failed(e: unknown, context: RespContext): Encoded | Promise<Encoded> {
    // A WRONGTYPE check has to look the key up first.
    if (e instanceof Promise) return e.then((resolved) => this.failed(resolved, context));
    const answer = toRespError(e, context.log);
    if (answer.refusal) context.node.metrics.respRefusals.inc({ reason: answer.refusal });
    return error(answer.line);
  }

  private command(args: Buffer[], protocol: Protocol): Buffer {
    const specs = [...new Set(this.commands.values())];
    const named = (from: number) =>
      args
        .slice(from)
        .map((a) => this.commands.get(a.toString('latin1').toUpperCase()))
        .filter((s): s is CommandSpec => s !== undefined);
    const sub = args[1]?.toString('latin1').toUpperCase();
    switch (sub) {
      case undefined:
        return array(specs.map((s) => info(s, protocol)));
      case 'COUNT':
        return integer(specs.length);
      case 'LIST':
        return array(specs.map((s) => bulk(s.name.toLowerCase())));
      case 'INFO':
        return array((args.length > 2 ? named(2) : specs).map((s) => info(s, protocol)));
      case 'DOCS':
        return map(
          (args.length > 2 ? named(2) : specs).map((s) => [
            s.name.toLowerCase(),
            docs(s, protocol),
          ]),
          protocol,
        );
      default:
        throw err(`unknown subcommand '${args[1]?.toString('utf8')}'. Try COMMAND HELP.`);
    }
  }
}
