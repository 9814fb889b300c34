import { keyArg } from './arguments.js';
import type { RespContext } from './command.js';
import { err, RespError } from './resp-error.js';

/** Redis commands of the types diststore does not have (lists, hashes, sets, sorted sets…). */
const OTHER_TYPES = new Set(
  [
    'lpush rpush lpop rpop lrange llen lindex lset lrem ltrim linsert lmove blpop brpop',
    'hset hget hgetall hdel hlen hkeys hvals hexists hincrby hmget hmset hsetnx',
    'sadd srem smembers scard sismember spop srandmember smismember',
    'zadd zrem zrange zscore zcard zrank zincrby zrangebyscore zrevrange',
    'xadd xrange xlen xread pfadd pfcount',
  ]
    .join(' ')
    .split(' '),
);

/** Whether a command name is one of Redis's commands on another type. */
export function isOtherType(raw: string): boolean {
  return OTHER_TYPES.has(raw.toLowerCase());
}

/**
 * A command on a type diststore does not hold: WRONGTYPE when the key exists (every
 * diststore value is a string), else a plain error saying so.
 */
export function otherTypeCommand(
  raw: string,
  args: Buffer[],
  context: RespContext,
): Promise<RespError> {
  const name = raw.toLowerCase();
  const notHeld = err(`diststore holds strings only: '${name}' is not supported`, 'unsupported');
  let key: string;
  try {
    key = keyArg(args[1], context.limits);
  } catch {
    return Promise.resolve(notHeld);
  }
  return context.node.read(key).then(
    (entry) =>
      entry
        ? new RespError('WRONGTYPE', 'Operation against a key holding the wrong kind of value')
        : notHeld,
    () => notHeld,
  );
}
