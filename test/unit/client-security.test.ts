import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bearerToken, tokenMatches } from '../../server/client-token.js';
import { crossSiteReason } from '../../server/cross-site.js';
import { hostAllowed } from '../../server/host-guard.js';
import { isPassiveType } from '../../server/responses.js';

describe('tokenMatches', () => {
  const token = 'the-client-token-0123456789';
  test('only the exact token matches', () => {
    assert.equal(tokenMatches(token, token), true);
    for (const given of [undefined, '', token.slice(0, -1), `${token}x`, token.toUpperCase()]) {
      assert.equal(tokenMatches(token, given), false, String(given));
    }
  });
  test('a token of another length is compared without throwing', () => {
    assert.equal(tokenMatches(token, 'x'.repeat(10_000)), false);
  });
});

describe('bearerToken', () => {
  test('takes the token of a Bearer header, any case of the scheme', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer abc'), 'abc');
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken('Bearer'), undefined);
    assert.equal(bearerToken('Bearer a b'), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });
});

describe('crossSiteReason', () => {
  const host = '127.0.0.1:8181';
  test('programs and the node’s own page pass', () => {
    assert.equal(crossSiteReason(undefined, undefined, host, []), undefined);
    assert.equal(crossSiteReason(undefined, 'same-origin', host, []), undefined);
    assert.equal(crossSiteReason(undefined, 'none', host, []), undefined);
    assert.equal(crossSiteReason('http://127.0.0.1:8181', 'same-origin', host, []), undefined);
  });
  test('other origins, other ports of this host and opaque origins are refused', () => {
    assert.match(crossSiteReason('http://evil.example', undefined, host, []) ?? '', /evil/);
    assert.ok(crossSiteReason('http://127.0.0.1:9999', 'same-site', host, []));
    assert.ok(crossSiteReason('null', undefined, host, ['http://app.example']));
    assert.ok(crossSiteReason(undefined, 'cross-site', host, []));
    assert.ok(crossSiteReason(undefined, 'same-site', host, []));
  });
  test('--cors-origin lets its origins (or every one, with *) through', () => {
    assert.equal(
      crossSiteReason('http://app.example', 'cross-site', host, ['http://app.example']),
      undefined,
    );
    assert.ok(crossSiteReason('http://other.example', 'cross-site', host, ['http://app.example']));
    assert.equal(crossSiteReason('http://any.example', 'cross-site', host, ['*']), undefined);
  });
});

describe('isPassiveType', () => {
  test('text, JSON, images, media are passive; HTML, SVG, XML, scripts, unknown are not', () => {
    for (const type of [
      'text/plain',
      'text/plain; charset=utf-8',
      'application/json',
      'image/png',
      'IMAGE/JPEG',
      'video/mp4',
      'application/octet-stream',
    ]) {
      assert.equal(isPassiveType(type), true, type);
    }
    for (const type of [
      'text/html',
      'image/svg+xml',
      'application/xml',
      'text/xml',
      'text/javascript',
      'application/pdf',
      'application/xhtml+xml',
      '',
      'nonsense',
    ]) {
      assert.equal(isPassiveType(type), false, type);
    }
  });
});

describe('hostAllowed', () => {
  const known = new Set(['node1.lan']);
  test('addresses, localhost and known names; nothing else', () => {
    for (const host of [
      '127.0.0.1:8181',
      '10.0.0.5',
      '[::1]:8181',
      'localhost:8181',
      'a.localhost',
      'node1.lan:8181',
      'NODE1.LAN.',
    ]) {
      assert.equal(hostAllowed(host, known), true, host);
    }
    for (const host of ['evil.example:8181', 'node1.lan.evil.example', '127.0.0.1.nip.io', '']) {
      assert.equal(hostAllowed(host, known), false, host);
    }
  });
});
