import { existsSync, readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DiststoreError } from '../cluster/errors.js';
import type { WriteAcks } from '../cluster/protocol.js';
import type { Peer } from '../cluster/transport.js';
import { parsePeer } from '../cluster/unicast-peers.js';

/** Everything the daemon can be told, after defaults and validation. */
export interface Config {
  id: string | undefined;
  bind: string;
  advertise: string;
  /** HTTP port; 0: one the system picks (the daemon reports the real one when ready). */
  port: number;
  /** RESP (Redis protocol) port on the same --bind address (0: any free one); undefined: off. */
  respPort: number | undefined;
  cluster: string;
  multicastGroup: string;
  multicastPort: number;
  multicastInterface: string;
  multicastTtl: number;
  lookupTimeoutMs: number;
  announceMs: number;
  cacheTtlSeconds: number;
  tombstoneTtlSeconds: number;
  cacheMaxKeys: number;
  cacheMaxBytes: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  writeAcks: WriteAcks;
  peerTimeoutMs: number;
  requestTimeoutMs: number;
  logLevel: string;
  dataDir: string | undefined;
  allowAddressMismatch: boolean;
  /** Unicast fallback: UDP endpoints of other nodes (their --multicast-port). */
  peers: Peer[];
  /** false with --no-multicast: unicast to --peers only. */
  multicast: boolean;
  /** Seconds a version from another node may be ahead of this node's clock. */
  maxClockSkewSeconds: number;
  maxClockOffsetSeconds: number;
  /** Most cluster members a node keeps track of. */
  maxMembers: number;
  /** Cluster secret: signs multicast packets and /internal/ requests. */
  secret: string | undefined;
  /** Client token (--client-token/-file): when set, client routes need `Bearer <token>`. */
  clientToken: string | undefined;
  /** --insecure: run on a non-loopback address without a secret (protected mode off). */
  insecure: boolean;
  /** Things the operator should change, logged at start (e.g. a secret visible in `ps`). */
  warnings: string[];
  /** Host names clients may call this node by, besides IP addresses, localhost, --advertise. */
  allowedHosts: string[];
  /** Origins browsers may call the client API from ('*' for any); empty: no CORS. */
  corsOrigin: string[];
  /** Test hook (DISTSTORE_TEST_DROP_INVALIDATIONS=1): ignore invalidation packets. */
  dropInvalidations: boolean;
}

/** A bad flag or variable; the message names the option. */
export class ConfigError extends DiststoreError {
  readonly code = 'bad_config';
}

const integer = (min: number, max: number) => (text: string) => {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
  }
  return Number(text);
};
const ipv4 = (text: string) => {
  if (!isIPv4(text)) throw new InvalidArgumentError('expected an IPv4 address');
  return text;
};
const multicastGroup = (text: string) => {
  const first = Number(ipv4(text).split('.')[0]);
  if (first < 224 || first > 239)
    throw new InvalidArgumentError(
      'expected an IPv4 multicast address (224.0.0.0–239.255.255.255)',
    );
  return text;
};
const pattern = (re: RegExp, what: string) => (text: string) => {
  if (!re.test(text)) throw new InvalidArgumentError(what);
  return text;
};

/** The options, each with its variable and its default (why it is the default, on its line). */
function options(): Option[] {
  const opt = (flags: string, env: string, description: string) =>
    new Option(flags, description).env(`DISTSTORE_${env}`);
  return [
    opt('--id <id>', 'ID', 'unique node id (default: the advertised host:port)').argParser(
      pattern(/^[A-Za-z0-9._:[\]-]{1,200}$/, 'expected 1 to 200 letters, digits and . _ : - [ ]'),
    ),
    // Loopback: a node is safe on a single machine until told otherwise.
    opt('--bind <address>', 'BIND', 'HTTP listen address').default('127.0.0.1'),
    opt(
      '--advertise <host>',
      'ADVERTISE',
      'host other nodes reach this node at (default: --bind)',
    ).argParser(
      pattern(
        /^[A-Za-z0-9.-]{1,190}$/,
        'expected a host name or IPv4 address of at most 190 characters',
      ),
    ),
    opt('--port <port>', 'PORT', 'HTTP port (0: any free port, reported when ready)')
      .default(8181)
      .argParser(integer(0, 65535)),
    // Off: a second protocol is opened only when asked for.
    opt(
      '--resp-port <port>',
      'RESP_PORT',
      'Redis protocol (RESP) port, on the --bind address (0: any free port; default: off)',
    ).argParser(integer(0, 65535)),
    opt('--cluster <name>', 'CLUSTER', 'cluster name; clusters sharing a group ignore each other')
      .default('diststore')
      .argParser(
        pattern(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'expected a DNS label: a-z, 0-9 and -'),
      ),
    opt('--multicast-group <ip>', 'MULTICAST_GROUP', 'multicast group')
      .default('239.255.49.83')
      .argParser(multicastGroup),
    opt('--multicast-port <port>', 'MULTICAST_PORT', 'multicast UDP port')
      .default(4983)
      .argParser(integer(1, 65535)),
    // Loopback: multicast never leaves the machine unless an interface is named.
    opt(
      '--multicast-interface <ip>',
      'MULTICAST_INTERFACE',
      'address of the interface multicast uses',
    )
      .default('127.0.0.1')
      .argParser(ipv4),
    // 1: the LAN segment only, never routed.
    opt('--multicast-ttl <hops>', 'MULTICAST_TTL', 'multicast TTL')
      .default(1)
      .argParser(integer(0, 255)),
    opt('--lookup-timeout-ms <ms>', 'LOOKUP_TIMEOUT_MS', 'longest wait for who-has answers')
      .default(100)
      .argParser(integer(1, 60_000)),
    opt('--announce-ms <ms>', 'ANNOUNCE_MS', 'announce interval; 3 missed announces = dead')
      .default(1000)
      .argParser(integer(50, 60_000)),
    opt('--cache-ttl <seconds>', 'CACHE_TTL', 'lifetime of a cached copy fetched from another node')
      .default(300)
      .argParser(integer(1, 365 * 86_400)),
    opt('--cache-max-keys <n>', 'CACHE_MAX_KEYS', 'most cached copies held (0: no limit)')
      .default(1_000_000)
      .argParser(integer(0, 1_000_000_000)),
    // 256 MiB of cached values: bounded by default, generous for a cache node.
    opt(
      '--cache-max-bytes <n>',
      'CACHE_MAX_BYTES',
      'most bytes of cached values held (0: no limit)',
    )
      .default(256 * 1024 * 1024)
      .argParser(integer(0, Number.MAX_SAFE_INTEGER)),
    // A day: far longer than any partition or restart a deleted key should survive.
    opt('--tombstone-ttl <seconds>', 'TOMBSTONE_TTL', 'how long a delete is remembered')
      .default(86_400)
      .argParser(integer(1, 10 * 365 * 86_400)),
    opt('--max-key-bytes <n>', 'MAX_KEY_BYTES', 'largest key in UTF-8 bytes')
      .default(1024)
      // lmdb's key limit is 1978 bytes: a data dir of layout 2 stores the key in its lmdb key
      // (with an 8-byte hash prefix), so a node of that release can still hold every key.
      .argParser(integer(1, 1900)),
    opt('--max-value-bytes <n>', 'MAX_VALUE_BYTES', 'largest value in bytes')
      .default(1024 * 1024)
      .argParser(integer(1, 64 * 1024 * 1024)),
    opt('--write-acks <mode>', 'WRITE_ACKS', 'which masters must acknowledge a write')
      .default('all')
      .choices(['all', 'one', 'local']),
    // A minute: far beyond any NTP-kept clock, yet a version from the far future is refused.
    opt(
      '--max-clock-skew <seconds>',
      'MAX_CLOCK_SKEW',
      "how far ahead of this node's clock a version from another node may be",
    )
      .default(60)
      .argParser(integer(1, 86_400)),
    opt(
      '--max-clock-offset <seconds>',
      'MAX_CLOCK_OFFSET',
      "how far this node's clock may be from the cluster's median before it reports itself off",
    )
      .default(1)
      .argParser(integer(1, 86_400)),
    // Far more nodes than one LAN segment holds; a flood of forged members stops here.
    opt('--max-members <n>', 'MAX_MEMBERS', 'most cluster members a node keeps track of')
      .default(1024)
      .argParser(integer(2, 100_000)),
    opt('--peer-timeout-ms <ms>', 'PEER_TIMEOUT_MS', 'time limit of one node-to-node request')
      .default(2000)
      .argParser(integer(10, 600_000)),
    opt(
      '--data-dir <path>',
      'DATA_DIR',
      'directory for durable primary entries (default: memory only)',
    ),
    opt(
      '--cors-origin <origins>',
      'CORS_ORIGIN',
      "origins allowed to call the API from a browser, comma-separated, or '*'",
    )
      .default([], 'none')
      .argParser((text: string) => {
        const origins = text
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean);
        for (const origin of origins) {
          if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
            throw new InvalidArgumentError(
              `expected origins like http://host:port or '*', not ${origin}`,
            );
          }
        }
        return origins;
      }),
    // None: a DNS-rebinding page names its own host; IP addresses and localhost always pass.
    opt(
      '--allowed-hosts <names>',
      'ALLOWED_HOSTS',
      'host names clients may call this node by (besides its IP addresses, localhost and --advertise), comma-separated',
    )
      .default([], 'none')
      .argParser((text: string) => {
        const names = text
          .split(',')
          .map((n) => n.trim().toLowerCase())
          .filter(Boolean);
        for (const name of names) {
          if (!/^[a-z0-9.-]{1,253}$/.test(name)) {
            throw new InvalidArgumentError(
              `expected host names like cache.example.lan, not ${name}`,
            );
          }
        }
        return names;
      }),
    opt(
      '--peers <host:port,...>',
      'PEERS',
      'also send cluster packets by unicast UDP to these nodes',
    )
      .default([], 'none')
      .argParser((text: string) =>
        text
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
          .map((item) => {
            const peer = parsePeer(item);
            if (!peer) throw new InvalidArgumentError(`expected host:port, not ${item}`);
            return peer;
          }),
      ),
    // Switches read their variables in parseConfig: commander would take any value, even 0, as on.
    new Option('--no-multicast', 'unicast to --peers only (env: DISTSTORE_NO_MULTICAST=1)'),
    new Option(
      '--allow-address-mismatch',
      "accept who-has answers whose advertised address is not the packet's source, e.g. behind NAT (env: DISTSTORE_ALLOW_ADDRESS_MISMATCH=1)",
    ).default(false),
    new Option(
      '--insecure',
      'start on a non-loopback address without --secret: anyone on the network may join, forge and write (env: DISTSTORE_INSECURE=1)',
    ).default(false),
    opt(
      '--secret <secret>',
      'SECRET',
      'cluster secret: authenticates packets and node-to-node HTTP',
    ),
    opt(
      '--secret-file <path>',
      'SECRET_FILE',
      'file holding the cluster secret (for systemd credentials)',
    ),
    opt(
      '--client-token <token>',
      'CLIENT_TOKEN',
      'token every client request must carry (Authorization: Bearer); default: none',
    ),
    opt(
      '--client-token-file <path>',
      'CLIENT_TOKEN_FILE',
      'file holding the client token (for systemd credentials)',
    ),
    // 30 s: a slow client gets its time, a stalled one does not hold a socket forever.
    opt(
      '--request-timeout-ms <ms>',
      'REQUEST_TIMEOUT_MS',
      'longest a client may take to send a request',
    )
      .default(30_000)
      .argParser(integer(100, 3_600_000)),
    opt('--log-level <level>', 'LOG_LEVEL', 'log level')
      .default('info')
      .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  ];
}

/** A switch variable: 1/true/yes/on or 0/false/no/off (or unset); anything else is an error. */
function envSwitch(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return false;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(`${name} must be 1 or 0 (true/false, yes/no), not ${env[name]}`);
}

/** A secret kept in a file (`flag` names the option in the error). */
function readSecretFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`${flag} ${path}: ${(error as Error).message}`);
  }
}

/**
 * A systemd credential: the units load `/etc/credstore/<name>` when it exists
 * (`LoadCredential=<name>`), and systemd hands it over in $CREDENTIALS_DIRECTORY. Used only when
 * no flag or variable gives the value.
 */
function credential(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const dir = env.CREDENTIALS_DIRECTORY;
  if (!dir || !existsSync(join(dir, name))) return undefined;
  return readSecretFile(`the systemd credential`, join(dir, name));
}

/** Reads flags and DISTSTORE_* variables; throws ConfigError naming the bad option. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const program = new Command('diststored')
    .description('diststore node: HTTP key/value cache with multicast lookups')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: (text) => process.stdout.write(text) })
    .allowExcessArguments(false);
  for (const option of options()) program.addOption(option);
  const saved = process.env;
  try {
    // commander reads variables from process.env; let callers (tests) pass their own.
    process.env = env;
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version')
        throw error;
      throw new ConfigError(error.message.replace(/^error: /, ''));
    }
    throw error;
  } finally {
    process.env = saved;
  }
  const o = program.opts();
  if (
    program.getOptionValueSource('multicast') !== 'cli' &&
    envSwitch(env, 'DISTSTORE_NO_MULTICAST')
  ) {
    o.multicast = false;
  }
  if (program.getOptionValueSource('allowAddressMismatch') !== 'cli') {
    o.allowAddressMismatch = envSwitch(env, 'DISTSTORE_ALLOW_ADDRESS_MISMATCH');
  }
  if (program.getOptionValueSource('insecure') !== 'cli') {
    o.insecure = envSwitch(env, 'DISTSTORE_INSECURE');
  }
  const advertise = o.advertise ?? o.bind;
  if (advertise === '0.0.0.0' || advertise === '::') {
    throw new ConfigError(
      `--advertise is required when --bind is ${o.bind}: other nodes need a reachable address`,
    );
  }
  if (o.multicast === false && o.peers.length === 0) {
    throw new ConfigError(
      '--no-multicast needs --peers: without either, a node cannot find the cluster',
    );
  }
  const secret = o.secretFile
    ? readSecretFile('--secret-file', o.secretFile)
    : (o.secret ?? credential(env, 'diststore-secret'));
  if (secret !== undefined && secret.length < 16) {
    throw new ConfigError('--secret must be at least 16 characters (use a random string)');
  }
  const clientToken = o.clientTokenFile
    ? readSecretFile('--client-token-file', o.clientTokenFile)
    : (o.clientToken ?? credential(env, 'diststore-client-token'));
  if (clientToken !== undefined && clientToken.length < 16) {
    throw new ConfigError('--client-token must be at least 16 characters (use a random string)');
  }
  const exposed = exposedAddresses(o.bind, advertise, o.multicastInterface);
  if (exposed.length > 0 && secret === undefined && !o.insecure) {
    throw new ConfigError(
      `protected mode: ${exposed.join(', ')} ${exposed.length === 1 ? 'is' : 'are'} not loopback, and without a cluster secret anyone on that network can join the cluster, forge answers and call /internal/. Either set a cluster secret, the same on every node (--secret-file <path> or DISTSTORE_SECRET_FILE; --secret or DISTSTORE_SECRET), or accept the risk with --insecure (DISTSTORE_INSECURE=1)`,
    );
  }
  const warnings: string[] = [];
  for (const [key, flag, file] of [
    ['secret', '--secret', '--secret-file'],
    ['clientToken', '--client-token', '--client-token-file'],
  ] as const) {
    if (program.getOptionValueSource(key) === 'cli') {
      warnings.push(
        `${flag} on the command line is visible to every user of this host (ps, /proc/<pid>/cmdline); use ${file} (a systemd credential: LoadCredential=) or its variable instead`,
      );
    }
  }
  if (exposed.length > 0 && secret === undefined) {
    warnings.push(
      `--insecure: protected mode is off although ${exposed.join(', ')} reach beyond this host; cluster traffic is unauthenticated`,
    );
  }
  // Flags name their unit in the help (`--cache-ttl <seconds>`); the config names it in the key.
  const { cacheTtl, tombstoneTtl, maxClockSkew, maxClockOffset, ...rest } = o;
  return {
    ...rest,
    cacheTtlSeconds: cacheTtl,
    tombstoneTtlSeconds: tombstoneTtl,
    maxClockSkewSeconds: maxClockSkew,
    maxClockOffsetSeconds: maxClockOffset,
    warnings,
    secret,
    clientToken,
    advertise,
    id: o.id,
    dropInvalidations: env.DISTSTORE_TEST_DROP_INVALIDATIONS === '1',
  } as Config;
}

/** True for an address that stays on this host: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(address: string): boolean {
  const host = address.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  return isIPv4(host) && host.startsWith('127.');
}

/** The HTTP bind, advertised and multicast addresses that reach beyond this host, named. */
function exposedAddresses(bind: string, advertise: string, multicastInterface: string): string[] {
  const named: [string, string][] = [
    ['--bind', bind],
    ['--advertise', advertise],
    ['--multicast-interface', multicastInterface],
  ];
  return named
    .filter(([, address]) => !isLoopback(address))
    .map(([flag, address]) => `${flag} ${address}`);
}
