import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM_SKIP, launchChromium } from '../support/chromium.js';
import { Fleet } from '../support/fleet.js';

/** The HTML page in a real browser, against a real three-node fleet on loopback. */

const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));

describe('the web page in a browser', { skip: CHROMIUM_SKIP }, () => {
  let fleet: Fleet;
  let browser: Browser;
  before(async () => {
    // A miss is a miss only once both masters said absent. Under CI's load the page once said
    // 503, not Not found, for a missing key: most likely a master's answer later than the
    // default 100 ms (the test's failure now prints the page's reason).
    fleet = await Fleet.start(3, { args: ['--lookup-timeout-ms', '1000'] });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await fleet?.close();
  });

  const text = async (page: Page, testId: string) =>
    ((await page.getByTestId(testId).textContent()) ?? '').trim();

  test('post a value, read it back, watch the cluster, take a screenshot', async () => {
    const node = fleet.node(0);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(node.url('/'));
    assert.equal(await page.title(), `diststore · ${node.id}`);
    assert.equal(await text(page, 'node-id'), node.id);

    await page.getByLabel('Key').first().fill('greeting');
    await page.getByLabel('Value').fill('hello <world> & "friends"');
    await page.getByLabel('TTL in seconds').fill('600');
    await page.getByRole('button', { name: 'Post' }).click();
    await page.waitForURL('**/ui/post');
    assert.equal(await text(page, 'result-title'), 'Stored greeting');
    // Both masters acknowledged.
    const acknowledged = (await text(page, 'result-masters')).split(', ');
    assert.equal(acknowledged.length, 2);
    for (const id of acknowledged)
      assert.ok(
        fleet.nodes.some((n) => n.id === id),
        id,
      );
    assert.match(await text(page, 'result-version'), new RegExp(`\\.${node.id}$`));

    const getForm = page.getByTestId('get-form');
    assert.equal(await getForm.getByLabel('Key').inputValue(), 'greeting', 'prefilled');
    await getForm.getByRole('button', { name: 'Get' }).click();
    await page.waitForURL('**/?key=greeting');
    assert.equal(await text(page, 'result-title'), 'Value of greeting');
    assert.equal(await page.getByTestId('result-value').textContent(), 'hello <world> & "friends"');
    assert.match(await text(page, 'result'), /Expires\s*in (5\d\d|600) s/);

    // The page's own polling of /ui/cluster refreshes the cluster section.
    await page.waitForFunction(
      () =>
        document.querySelectorAll('[data-testid="member-row"]').length === 3 &&
        document.getElementById('refreshed')?.textContent?.startsWith('Updated'),
      undefined,
      { timeout: 10_000 },
    );
    const rows = page.getByTestId('member-row');
    const ids = await rows.locator('th').allTextContents();
    assert.deepEqual(ids, fleet.nodes.map((n) => n.id).sort());
    const masterCells = await rows.locator('td:nth-child(4)').allTextContents();
    assert.equal(masterCells.filter((cell) => cell === 'master').length, 2);
    const self = page.locator('tr.self');
    assert.equal(await self.locator('th').textContent(), node.id);
    assert.equal(await self.locator('td').last().textContent(), 'this node');
    // The member's badge as the server renders it, after the section was swapped in.
    assert.equal(await self.locator('span.badge').getAttribute('class'), 'badge badge-ready');
    assert.equal(await text(page, 'node-state'), 'ready');
    // The page shows what the node says now (a loaded machine may have changed the masters).
    const shown = (await text(page, 'masters')).split(', ');
    assert.equal(shown.length, 2);
    assert.equal(await text(page, 'node-role'), shown.includes(node.id) ? 'master' : 'member');
    assert.match(await text(page, 'store-primary'), /^1 \(\d+ B\)$/);
    assert.equal(await page.getByRole('table').getByRole('caption').textContent(), '3 members');

    await mkdir(OUTPUT, { recursive: true });
    await page.screenshot({ path: `${OUTPUT}page.png`, fullPage: true });
    await page.close();
  });

  test('the cluster section is swapped in from /ui/cluster and greyed out when it fails', async () => {
    const page = await browser.newPage();
    try {
      const answers: number[] = [];
      page.on('response', (r) => {
        if (new URL(r.url()).pathname === '/ui/cluster') answers.push(r.status());
      });
      await page.goto(fleet.node(1).url('/'));
      assert.equal(await text(page, 'refreshed'), 'As of page load');
      await page
        .locator('#cluster')
        .evaluate((section) => section.setAttribute('data-from', 'load'));
      const refreshedStartsWith = (prefix: string) =>
        page.waitForFunction(
          (p) => document.getElementById('refreshed')?.textContent?.startsWith(p),
          prefix,
          { timeout: 10_000 },
        );
      await refreshedStartsWith('Updated');
      assert.equal(await page.locator('#cluster[data-from]').count(), 0, 'a new section');
      assert.ok(answers.includes(200), `the fragment was fetched: ${answers.join(', ')}`);
      assert.equal(await page.getByTestId('member-row').count(), 3);
      const badge = page.locator('tr.self span.badge');
      assert.equal(await badge.textContent(), 'ready');
      assert.equal(await badge.getAttribute('class'), 'badge badge-ready');

      // The node stops answering: the section is greyed out and says so, then comes back.
      await page.route('**/ui/cluster', (route) => route.abort());
      await refreshedStartsWith('Cannot reach this node');
      assert.equal(await page.locator('#cluster.stale').count(), 1);
      assert.equal(await page.getByTestId('member-row').count(), 3, 'the last view stays');
      await page.unroute('**/ui/cluster');
      await refreshedStartsWith('Updated');
      assert.equal(await page.locator('#cluster.stale').count(), 0);
    } finally {
      await page.close();
    }
  });

  test('the forms work without JavaScript; another node finds the value', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(fleet.node(1).url('/'));
      const postForm = page.getByTestId('post-form');
      await postForm.getByLabel('Key').fill('no-js');
      await postForm.getByLabel('Value').fill('plain form post');
      await postForm.getByRole('button', { name: 'Post' }).click();
      await page.waitForURL('**/ui/post');
      assert.equal(await text(page, 'result-title'), 'Stored no-js');

      await page.goto(fleet.node(2).url('/'));
      const getForm = page.getByTestId('get-form');
      await getForm.getByLabel('Key').fill('no-js');
      await getForm.getByRole('button', { name: 'Get' }).click();
      await page.waitForURL('**/?key=no-js');
      assert.equal(await page.getByTestId('result-value').textContent(), 'plain form post');

      await getForm.getByLabel('Key').fill('nobody has this');
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().includes('?key=')),
        getForm.getByRole('button', { name: 'Get' }).click(),
      ]);
      const title = await text(page, 'result-title');
      assert.equal(response.status(), 404, `${title}: ${await text(page, 'result')}`);
      assert.equal(title, 'Not found');
    } finally {
      await context.close();
    }
  });
});
