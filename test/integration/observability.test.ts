import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { NodeProcess } from '../support/fleet.js';
import { useFleet } from '../support/use-fleet.js';

describe('health, readiness, metrics, OpenAPI and CORS', () => {
  const fleet = useFleet(2, { args: ['--cors-origin', 'http://app.example'] });
  let node: NodeProcess;
  before(async () => {
    node = fleet.node(0);
  });

  test('/health and /ready answer 200 on a joined node', async () => {
    assert.equal((await node.get('/health')).status, 200);
    const ready = await node.get('/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, state: 'ready', storage: 'memory' });
  });

  test('/metrics has the families an operator graphs', async () => {
    await node.post('/post', { key: 'm', value: '1' });
    await fleet.node(1).get('/get/nowhere');
    const text = await (await node.get('/metrics')).text();
    for (const family of [
      'diststore_http_requests_total',
      'diststore_replication_seconds',
      'diststore_packets_total',
      'diststore_packets_dropped_total',
      'diststore_elections_total',
      'diststore_master_changes_total',
      'diststore_sync_seconds',
      'diststore_entries',
      'diststore_entry_bytes',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${family} `, 'm'), family);
    }
    assert.match(text, /^diststore_http_requests_total\{route="\/post",status="200"\} [1-9]/m);
    const reader = await (await fleet.node(1).get('/metrics')).text();
    assert.match(reader, /^diststore_lookups_total\{outcome="absent"\} [1-9]/m);
    assert.match(reader, /^diststore_lookup_seconds_count [1-9]/m);
  });

  test('/openapi.json describes every client route, and each one exists', async () => {
    const doc = (await (await node.get('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    assert.match(doc.openapi, /^3\./);
    for (const path of [
      '/post',
      '/post-local',
      '/get/{key}',
      '/get-local/{key}',
      '/keys',
      '/keys/{key}',
      '/delete',
      '/status',
      '/health',
      '/ready',
      '/metrics',
    ]) {
      assert.ok(doc.paths[path], `${path} is described`);
    }
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const url = path.replace('{key}', 'openapi-probe');
        const response = await fetch(node.url(url), { method: method.toUpperCase() });
        const body = response.headers.get('content-type')?.includes('json')
          ? await response.json()
          : {};
        assert.notEqual((body as { code?: string }).code, 'no_route', `${method} ${path} exists`);
      }
    }
  });

  test('CORS: the configured origin may call the client API, not /internal', async () => {
    const preflight = await fetch(node.url('/post'), {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://app.example');
    const get = await fetch(node.url('/get/m'), { headers: { origin: 'http://app.example' } });
    assert.equal(get.headers.get('access-control-allow-origin'), 'http://app.example');
    assert.match(get.headers.get('access-control-expose-headers') ?? '', /x-diststore-version/);
    const other = await fetch(node.url('/get/m'), { headers: { origin: 'http://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const internal = await fetch(node.url('/internal/health'), {
      headers: { origin: 'http://app.example' },
    });
    assert.equal(internal.headers.get('access-control-allow-origin'), null);
  });
});
