import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFormField, readWriteForm } from '../../server/form.js';
import type { Limits } from '../../server/limits.js';

const LIMITS: Limits = { maxKeyBytes: 1024, maxValueBytes: 1024 * 1024 };
const ENDPOINT = 'http://127.0.0.1/post';

function urlencoded(
  body: string | Uint8Array<ArrayBuffer>,
  contentType = 'application/x-www-form-urlencoded',
): Request {
  return new Request(ENDPOINT, { method: 'POST', headers: { 'content-type': contentType }, body });
}

function multipart(fields: Record<string, string | Blob>): Request {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, value, 'upload.bin');
  }
  return new Request(ENDPOINT, { method: 'POST', body: form });
}

/** The HttpError a handler would turn into a response. */
function httpError(status: number, code: string) {
  return { name: 'HttpError', status, code };
}

describe('readWriteForm, urlencoded', () => {
  test('reads key and value; the value is UTF-8 text', async () => {
    const form = await readWriteForm(urlencoded('key=greeting&value=hello'), LIMITS);
    assert.equal(form.key, 'greeting');
    assert.ok(form.value.equals(Buffer.from('hello')));
    assert.equal(form.type, 'text/plain; charset=utf-8');
  });

  test('decodes + as a space and percent-encoded unicode', async () => {
    const body = `key=${encodeURIComponent('ключ/🙂')}+two&value=a+b%2Bc%20%E2%9C%93`;
    const form = await readWriteForm(urlencoded(body), LIMITS);
    assert.equal(form.key, 'ключ/🙂 two');
    assert.equal(form.value.toString(), 'a b+c ✓');
  });

  test('accepts a charset parameter and any letter case in the content type', async () => {
    const request = urlencoded('key=k&value=v', 'Application/X-WWW-Form-Urlencoded; charset=UTF-8');
    assert.equal((await readWriteForm(request, LIMITS)).key, 'k');
  });

  test('an empty value is a value', async () => {
    const form = await readWriteForm(urlencoded('key=k&value='), LIMITS);
    assert.equal(form.value.length, 0);
  });

  test('the first of repeated fields wins', async () => {
    const form = await readWriteForm(urlencoded('key=first&value=1&key=second&value=2'), LIMITS);
    assert.equal(form.key, 'first');
    assert.equal(form.value.toString(), '1');
  });

  test('an optional ttl field is read as whole seconds', async () => {
    assert.equal((await readWriteForm(urlencoded('key=k&value=v&ttl=60'), LIMITS)).ttlSeconds, 60);
    assert.equal(
      (await readWriteForm(urlencoded('key=k&value=v&ttl=315360000'), LIMITS)).ttlSeconds,
      315_360_000,
    );
    assert.equal((await readWriteForm(urlencoded('key=k&value=v'), LIMITS)).ttlSeconds, undefined);
    assert.equal(
      (await readWriteForm(urlencoded('key=k&value=v&ttl='), LIMITS)).ttlSeconds,
      undefined,
    );
  });

  test('a ttl that is not 1 to 315360000 whole seconds is 400 bad_ttl', async () => {
    for (const ttl of ['0', '-1', '1.5', 'abc', '1e3', '+5', '315360001', '9999999999']) {
      await assert.rejects(
        readWriteForm(urlencoded(`key=k&value=v&ttl=${encodeURIComponent(ttl)}`), LIMITS),
        httpError(400, 'bad_ttl'),
        ttl,
      );
    }
  });

  test('a missing key or value is 400 missing_field', async () => {
    await assert.rejects(
      readWriteForm(urlencoded('value=v'), LIMITS),
      httpError(400, 'missing_field'),
    );
    await assert.rejects(
      readWriteForm(urlencoded('key=k'), LIMITS),
      httpError(400, 'missing_field'),
    );
    await assert.rejects(readWriteForm(urlencoded(''), LIMITS), httpError(400, 'missing_field'));
  });

  test('an empty key is 400 bad_key', async () => {
    await assert.rejects(
      readWriteForm(urlencoded('key=&value=v'), LIMITS),
      httpError(400, 'bad_key'),
    );
  });

  test('a key over maxKeyBytes, counted in UTF-8 bytes, is 414', async () => {
    const limits: Limits = { maxKeyBytes: 4, maxValueBytes: 100 };
    // 'éé' is 2 characters and 4 bytes: at the limit.
    assert.equal(
      (await readWriteForm(urlencoded(`key=${encodeURIComponent('éé')}&value=v`), limits)).key,
      'éé',
    );
    // 'ééé' is 3 characters, under the limit as characters, but 6 bytes.
    await assert.rejects(
      readWriteForm(urlencoded(`key=${encodeURIComponent('ééé')}&value=v`), limits),
      httpError(414, 'key_too_long'),
    );
  });

  test('a value over maxValueBytes, counted in UTF-8 bytes, is 413', async () => {
    const limits: Limits = { maxKeyBytes: 100, maxValueBytes: 4 };
    assert.equal((await readWriteForm(urlencoded('key=k&value=abcd'), limits)).value.length, 4);
    await assert.rejects(
      readWriteForm(urlencoded('key=k&value=abcde'), limits),
      httpError(413, 'value_too_large'),
    );
    await assert.rejects(
      readWriteForm(urlencoded(`key=k&value=${encodeURIComponent('ééé')}`), limits),
      httpError(413, 'value_too_large'),
    );
  });

  test('bad percent-encoding is 400 bad_encoding', async () => {
    for (const body of ['key=%ZZ&value=v', 'key=k&value=%', 'key=k&value=%E2%9C']) {
      await assert.rejects(
        readWriteForm(urlencoded(body), LIMITS),
        httpError(400, 'bad_encoding'),
        body,
      );
    }
  });

  test('percent-encoded bytes that are not UTF-8 are 400 bad_encoding', async () => {
    await assert.rejects(
      readWriteForm(urlencoded('key=%FF&value=v'), LIMITS),
      httpError(400, 'bad_encoding'),
    );
  });

  test('a raw body that is not UTF-8 is 400 bad_encoding', async () => {
    const body = new Uint8Array([...Buffer.from('key=k&value='), 0xff, 0xfe]);
    await assert.rejects(readWriteForm(urlencoded(body), LIMITS), httpError(400, 'bad_encoding'));
  });
});

describe('readWriteForm, multipart', () => {
  test('reads a text field as UTF-8 text', async () => {
    const form = await readWriteForm(multipart({ key: 'ключ', value: 'значение ✓' }), LIMITS);
    assert.equal(form.key, 'ключ');
    assert.equal(form.value.toString(), 'значение ✓');
    assert.equal(form.type, 'text/plain; charset=utf-8');
  });

  test('a file part keeps its bytes and content type', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const form = await readWriteForm(
      multipart({ key: 'pic', value: new Blob([bytes], { type: 'image/png' }) }),
      LIMITS,
    );
    assert.ok(form.value.equals(bytes));
    assert.equal(form.type, 'image/png');
  });

  test('a file part without a content type is application/octet-stream', async () => {
    const form = await readWriteForm(
      multipart({ key: 'k', value: new Blob([Buffer.from('x')]) }),
      LIMITS,
    );
    assert.equal(form.type, 'application/octet-stream');
  });

  test('missing fields, an empty key and size limits apply as for urlencoded', async () => {
    const limits: Limits = { maxKeyBytes: 4, maxValueBytes: 4 };
    await assert.rejects(
      readWriteForm(multipart({ value: 'v' }), limits),
      httpError(400, 'missing_field'),
    );
    await assert.rejects(
      readWriteForm(multipart({ key: 'k' }), limits),
      httpError(400, 'missing_field'),
    );
    await assert.rejects(
      readWriteForm(multipart({ key: '', value: 'v' }), limits),
      httpError(400, 'bad_key'),
    );
    await assert.rejects(
      readWriteForm(multipart({ key: 'ééé', value: 'v' }), limits),
      httpError(414, 'key_too_long'),
    );
    await assert.rejects(
      readWriteForm(multipart({ key: 'k', value: 'ééé' }), limits),
      httpError(413, 'value_too_large'),
    );
    await assert.rejects(
      readWriteForm(multipart({ key: 'k', value: new Blob([Buffer.alloc(5)]) }), limits),
      httpError(413, 'value_too_large'),
    );
  });

  test('reads a ttl field', async () => {
    const form = await readWriteForm(multipart({ key: 'k', value: 'v', ttl: '30' }), LIMITS);
    assert.equal(form.ttlSeconds, 30);
  });

  test('a key sent as a file is 400', async () => {
    await assert.rejects(
      readWriteForm(multipart({ key: new Blob(['k']), value: 'v' }), LIMITS),
      httpError(400, 'bad_field'),
    );
  });

  test('a multipart body that cannot be parsed is 400', async () => {
    const request = urlencoded(
      'not multipart at all',
      'multipart/form-data; boundary=nothing-here',
    );
    await assert.rejects(readWriteForm(request, LIMITS), httpError(400, 'bad_form'));
  });
});

describe('readWriteForm, other bodies', () => {
  test('other content types are 415', async () => {
    const requests = [
      urlencoded('key=k&value=v', 'text/plain'),
      urlencoded('{"key":"k","value":"v"}', 'application/json'),
      new Request(ENDPOINT, { method: 'POST', body: new Uint8Array(Buffer.from('key=k&value=v')) }),
    ];
    for (const request of requests) {
      await assert.rejects(
        readWriteForm(request, LIMITS),
        httpError(415, 'unsupported_media_type'),
      );
    }
  });
});

describe('readFormField', () => {
  test('reads one text field of an urlencoded form', async () => {
    assert.equal(await readFormField(urlencoded('key=a%2Fb+c'), 'key'), 'a/b c');
  });

  test('reads one text field of a multipart form', async () => {
    assert.equal(await readFormField(multipart({ key: 'ключ' }), 'key'), 'ключ');
  });

  test('is undefined for a missing field', async () => {
    assert.equal(await readFormField(urlencoded('other=1'), 'key'), undefined);
  });

  test('refuses a file, bad encoding and other content types', async () => {
    await assert.rejects(
      readFormField(multipart({ key: new Blob(['k']) }), 'key'),
      httpError(400, 'bad_field'),
    );
    await assert.rejects(
      readFormField(urlencoded('key=%E2'), 'key'),
      httpError(400, 'bad_encoding'),
    );
    await assert.rejects(
      readFormField(urlencoded('key=k', 'text/plain'), 'key'),
      httpError(415, 'unsupported_media_type'),
    );
  });
});
