import assert from 'node:assert/strict';
import { test } from 'node:test';
import RedisParser from 'redis-parser';
import { FrameGuard } from '../../server/resp/frame-guard.js';

/** Runs a byte stream through guard and parser in the given chunks; what came out, in order. */
function run(chunks: Buffer[]): string[] {
  const events: string[] = [];
  const parser = new RedisParser({
    returnReply: (args: Buffer[]) => events.push(`cmd ${args.map(String).join(' ')}`),
    returnError: () => events.push('parser error'),
    returnBuffers: true,
  });
  const guard = new FrameGuard(
    {
      maxBulkBytes: 10,
      maxCommandBytes: 25,
      onBytes: (bytes) => parser.execute(bytes),
      onInline: (args) => events.push(`inline ${args.map(String).join(' ')}`),
      onRefused: (bulk, total) => events.push(`refused ${bulk} ${total}`),
      onFatal: (message) => events.push(`fatal ${message}`),
    },
    () => parser.reset(),
  );
  for (const chunk of chunks) guard.push(chunk);
  return events;
}

const STREAM = Buffer.from(
  [
    '*2\r\n$3\r\nGET\r\n$1\r\na\r\n',
    'PING\r\n',
    '*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$12\r\n0123456789ab\r\n', // a bulk over 10 bytes
    '*4\r\n$3\r\nSET\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n', // 33 in all
    '*1\r\n$4\r\nPING\r\n',
    '*0\r\n',
    '*2\r\n$3\r\nGET\r\n$0\r\n\r\n',
    '*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n:1\r\n',
    '*1\r\n$4\r\nPING\r\n',
  ].join(''),
);

const EXPECTED = [
  'cmd GET a',
  'inline PING',
  'refused 12 16',
  'refused 10 33',
  'cmd PING',
  'cmd ',
  'cmd GET ',
  'cmd PING',
  "fatal Protocol error: expected '$', got ':'",
];

test('the same commands, refusals and fault come out however the stream is cut', () => {
  assert.deepEqual(run([STREAM]), EXPECTED);
  for (let cut = 1; cut < STREAM.length; cut++) {
    assert.deepEqual(
      run([STREAM.subarray(0, cut), STREAM.subarray(cut)]),
      EXPECTED,
      `cut at ${cut}`,
    );
  }
  const bytes = [...STREAM].map((b) => Buffer.from([b]));
  assert.deepEqual(run(bytes), EXPECTED, 'one byte at a time');
});

test('a refused bulk is never handed to the parser, whatever its declared size', () => {
  const handed: number[] = [];
  const guard = new FrameGuard(
    {
      maxBulkBytes: 100,
      maxCommandBytes: 1000,
      onBytes: (bytes) => handed.push(bytes.length),
      onInline: () => {},
      onRefused: () => {},
      onFatal: assert.fail,
    },
    () => {},
  );
  const ping = '*1\r\n$4\r\nPING\r\n';
  guard.push(Buffer.from(`${ping}*2\r\n$3\r\nGET\r\n$500000000\r\n`));
  for (let i = 0; i < 100; i++) guard.push(Buffer.alloc(64 * 1024, 0x61));
  assert.equal(
    handed.reduce((a, b) => a + b, 0),
    ping.length,
  );
});
