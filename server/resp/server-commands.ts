import { tokenMatches } from '../client-token.js';
import { integerArg, word } from './arguments.js';
import type { CommandSpec, RespContext, Session } from './command.js';
import { globToRegExp } from './glob.js';
import { DISTSTORE_VERSION, infoText, REDIS_VERSION } from './info.js';
import { array, bulk, integer, map, nil, OK, PONG, type Protocol } from './reply.js';
import { err, RespError, syntaxError, wrongArity } from './resp-error.js';

/** Answers AUTH and HELLO … AUTH: marks the session authenticated or throws WRONGPASS. */
function authenticate(
  session: Session,
  context: RespContext,
  user: string,
  password: Buffer,
): void {
  if (!context.clientToken) {
    throw err(
      'AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
  }
  // One user, Redis's `default`; the password is the client token.
  if (user !== 'default' || !tokenMatches(context.clientToken, password)) {
    throw new RespError(
      'WRONGPASS',
      'invalid username-password pair or user is disabled.',
      'wrong_password',
    );
  }
  session.authed = true;
}

/** Client names are printable ASCII without spaces, as in Redis. */
function clientName(arg: Buffer | undefined): string | undefined {
  const name = arg?.toString('latin1') ?? '';
  if (!/^[!-~]*$/.test(name)) {
    throw err('Client names cannot contain spaces, newlines or special characters.');
  }
  return name === '' ? undefined : name;
}

/** One CLIENT INFO / CLIENT LIST line. */
function clientLine(session: Session, now: number): string {
  return [
    `id=${session.id}`,
    `addr=${session.remote}`,
    `laddr=${session.local}`,
    `name=${session.name ?? ''}`,
    `age=${Math.floor((now - session.createdAt) / 1000)}`,
    `idle=${Math.floor((now - session.lastCommandAt) / 1000)}`,
    'flags=N',
    'db=0',
    'user=default',
    `resp=${session.protocol}`,
    `lib-name=${session.lib.name}`,
    `lib-ver=${session.lib.version}`,
  ].join(' ');
}

/** The few CONFIG GET answers clients ask for (redis-benchmark asks for save and appendonly). */
const CONFIG: Record<string, string> = {
  save: '',
  appendonly: 'no',
  databases: '1',
  maxmemory: '0',
};

function helloReply(session: Session): Buffer {
  return map(
    [
      ['server', bulk('redis')],
      ['version', bulk(REDIS_VERSION)],
      ['proto', integer(session.protocol)],
      ['id', integer(session.id)],
      ['mode', bulk('standalone')],
      ['role', bulk('master')],
      ['modules', array([])],
      ['diststore', bulk(DISTSTORE_VERSION)],
    ],
    session.protocol,
  );
}

function spec(
  name: string,
  arity: number,
  flags: string[],
  summary: string,
  run: CommandSpec['run'],
  args: CommandSpec['args'] = [],
): CommandSpec {
  const group = name === 'AUTH' || name === 'HELLO' || name === 'CLIENT' ? 'connection' : 'server';
  return { name, arity, flags, keys: [0, 0, 0], group, summary, since: '1.0.0', args, run };
}

/** Connection and server commands: PING, AUTH, HELLO, CLIENT, INFO… */
export const serverCommands: CommandSpec[] = [
  spec(
    'PING',
    -1,
    ['fast'],
    'PONG, or the message given',
    (args) => {
      if (args.length > 2) throw wrongArity('ping');
      return args[1] === undefined ? PONG : bulk(args[1]);
    },
    [{ name: 'message', type: 'string', optional: true }],
  ),
  spec('ECHO', 2, ['fast'], 'The message given', (args) => bulk(args[1] as Buffer), [
    { name: 'message', type: 'string' },
  ]),
  spec('QUIT', 1, ['fast', 'no-auth'], 'Closes the connection', (_args, session) => {
    session.quit();
    return OK;
  }),
  spec(
    'SELECT',
    2,
    ['fast'],
    'Database 0 is the only one',
    (args) => {
      if (integerArg(args[1]) !== 0) throw err('DB index is out of range');
      return OK;
    },
    [{ name: 'index', type: 'integer' }],
  ),
  spec(
    'AUTH',
    -2,
    ['fast', 'no-auth'],
    'Authenticates the connection with the client token (user: default)',
    (args, session, context) => {
      if (args.length > 3) throw syntaxError();
      const [user, password] =
        args.length === 3 ? [args[1]?.toString('utf8') ?? '', args[2]] : ['default', args[1]];
      authenticate(session, context, user, password as Buffer);
      return OK;
    },
    [
      { name: 'username', type: 'string', optional: true },
      { name: 'password', type: 'string' },
    ],
  ),
  spec(
    'HELLO',
    -1,
    ['fast', 'no-auth'],
    'Chooses RESP2 or RESP3, optionally authenticates and names the connection',
    (args, session, context) => {
      let protocol: Protocol = session.protocol;
      if (args.length > 1) {
        const asked = integerArg(args[1]);
        if (asked !== 2 && asked !== 3) {
          throw new RespError('NOPROTO', 'unsupported protocol version');
        }
        protocol = asked;
      }
      let name: string | undefined | null = null;
      for (let i = 2; i < args.length; i++) {
        const option = word(args[i]);
        if (option === 'AUTH' && i + 2 < args.length) {
          authenticate(
            session,
            context,
            args[i + 1]?.toString('utf8') ?? '',
            args[i + 2] as Buffer,
          );
          i += 2;
        } else if (option === 'SETNAME' && i + 1 < args.length) {
          name = clientName(args[++i]);
        } else {
          throw err(`Syntax error in HELLO option '${args[i]?.toString('utf8')}'`);
        }
      }
      if (!session.authed) {
        throw new RespError(
          'NOAUTH',
          'HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
          'no_auth',
        );
      }
      session.protocol = protocol;
      if (name !== null) session.name = name;
      return helloReply(session);
    },
    [
      { name: 'protover', type: 'integer', optional: true },
      {
        name: 'auth',
        type: 'block',
        token: 'AUTH',
        optional: true,
        arguments: [
          { name: 'username', type: 'string' },
          { name: 'password', type: 'string' },
        ],
      },
      { name: 'clientname', type: 'string', token: 'SETNAME', optional: true },
    ],
  ),
  spec(
    'CLIENT',
    -2,
    [],
    'SETNAME, GETNAME, ID, INFO, LIST, SETINFO of this connection',
    (args, session, context) => {
      const sub = word(args[1]);
      const now = Date.now();
      switch (sub) {
        case 'SETNAME':
          if (args.length !== 3) throw wrongArity('client|setname');
          session.name = clientName(args[2]);
          return OK;
        case 'GETNAME':
          return session.name === undefined ? nil(session.protocol) : bulk(session.name);
        case 'ID':
          return integer(session.id);
        case 'INFO':
          return bulk(`${clientLine(session, now)}\n`);
        case 'LIST':
          return bulk([...context.sessions()].map((s) => `${clientLine(s, now)}\n`).join(''));
        case 'SETINFO': {
          if (args.length !== 4) throw wrongArity('client|setinfo');
          const attribute = word(args[2]);
          const value = args[3]?.toString('latin1') ?? '';
          if (!/^[!-~]*$/.test(value))
            throw err(`${attribute} cannot contain spaces, newlines or special characters.`);
          if (attribute === 'LIB-NAME') session.lib.name = value;
          else if (attribute === 'LIB-VER') session.lib.version = value;
          else throw err(`Unrecognized option '${args[2]?.toString('utf8')}'`);
          return OK;
        }
        default:
          throw err(`unknown subcommand '${args[1]?.toString('utf8')}'. Try CLIENT HELP.`);
      }
    },
    [{ name: 'subcommand', type: 'string' }],
  ),
  spec(
    'INFO',
    -1,
    [],
    'The node and the cluster, as /status shows them, in INFO form',
    (args, _session, context) => bulk(infoText(context, args[1]?.toString('utf8'))),
    [{ name: 'section', type: 'string', optional: true, multiple: true }],
  ),
  spec(
    'CONFIG',
    -2,
    [],
    'CONFIG GET of the few settings clients ask for; nothing can be set',
    (args, session) => {
      if (word(args[1]) !== 'GET') {
        throw err(
          `diststore's settings are flags of diststored; CONFIG ${word(args[1])} is not supported`,
        );
      }
      const pairs: [string, Buffer][] = [];
      for (const arg of args.slice(2)) {
        const pattern = globToRegExp(arg.toString('utf8').toLowerCase());
        for (const [name, value] of Object.entries(CONFIG)) {
          if (pattern.test(name) && !pairs.some(([n]) => n === name))
            pairs.push([name, bulk(value)]);
        }
      }
      return map(pairs, session.protocol);
    },
    [{ name: 'parameter', type: 'string', multiple: true }],
  ),
];
