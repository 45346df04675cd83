/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core; no browser is
 * ever downloaded): while oslo-shaped traffic flows into a fresh vhost, `watch` by firehose
 * serves the page, and the page must show live, growing numbers pushed over SSE, the methods,
 * the failures and a sequence diagram. A screenshot is written for the docs.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { startWatch } from '../../src/watch/watch.ts';
import { NO_MANAGEMENT } from '../../src/web/live.ts';
import { launchChromium } from '../harness/browser.ts';
import { makeVhost } from '../harness/oslo.ts';
import { startTraffic } from './traffic.ts';

const SCREENSHOT = process.env.RPCSCOPE_SCREENSHOT ?? join(tmpdir(), 'rpcscope-dashboard.png');
/** The 1024 px screenshot: beside the 1400 px one (docs/watch-dashboard-1024.png for the docs). */
const SCREENSHOT_1024 = SCREENSHOT.replace(/(\.png)?$/, '-1024.png');

/**
 * The p99 column of both method tables is inside the viewport and inside its panel, with a value
 * in it: the table fits (nothing hidden behind a horizontal scroll).
 */
async function assertP99Visible(page: Page, width: number): Promise<void> {
  for (const id of ['methods-count', 'methods-p99']) {
    // plain expressions only: a named helper inside evaluate() would reference tsx's __name
    const boxes = await page.evaluate((tid) => {
      const table = document.getElementById(tid);
      const section = table?.closest('section');
      const ths = table?.querySelectorAll('th');
      const head = ths === undefined ? undefined : ths.item(ths.length - 1);
      const cell = table?.querySelector('tbody tr td:last-child');
      const c = cell?.getBoundingClientRect();
      const p = section?.getBoundingClientRect();
      return {
        head: head?.textContent ?? '',
        text: cell?.textContent ?? '',
        cell: c === undefined ? null : { left: c.left, right: c.right, width: c.width },
        section: p === undefined ? null : { left: p.left, right: p.right, width: p.width },
        scroll: section === null || section === undefined ? 0 : section.scrollWidth - section.clientWidth,
        viewport: document.documentElement.clientWidth,
      };
    }, id);
    const where = `#${id} at ${width} px: ${JSON.stringify(boxes)}`;
    assert.equal(boxes.head, 'p99', where);
    assert.match(boxes.text, /^\d+(\.\d+)? (ms|s)$/, where);
    assert.ok(boxes.cell !== null && boxes.section !== null, where);
    assert.ok(boxes.cell.width > 20, where);
    assert.ok(boxes.cell.left >= boxes.section.left && boxes.cell.right <= boxes.section.right, where);
    assert.ok(boxes.cell.right <= boxes.viewport, where);
    assert.equal(boxes.scroll, 0, `no horizontal scrolling in the panel: ${where}`);
  }
}

test('the dashboard shows live numbers in Chromium while traffic flows', { timeout: 300_000 }, async (t) => {
  const vh = await makeVhost('rpcscope-web');
  t.after(vh.remove);
  const w = await startWatch({
    source: { kind: 'firehose', amqpUrl: 'amqp://guest:guest@127.0.0.1:5672', vhosts: [vh.name] },
    pollMs: 1000,
    http: { host: '127.0.0.1', port: 0 },
    sseIntervalMs: 500,
  });
  t.after(() => w.stop());
  const url = w.dashboard?.url;
  assert.ok(url);
  const traffic = await startTraffic(vh.name);
  t.after(() => traffic.stop());

  const ctx = await launchChromium(t, { width: 1400, height: 1500 });
  const page = await ctx.newPage();
  // A bound for a shared, loaded machine, not a speed assertion.
  page.setDefaultTimeout(120_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const remote: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(url)) remote.push(r.url());
  });
  await page.goto(url);
  await page.waitForSelector('#status.live');

  const num = async (id: string) => Number(((await page.textContent(`#${id}`)) ?? '').replace(/,/g, ''));
  // Poll on a timer: requestAnimationFrame (the default) may be throttled in a headless page.
  const poll = { polling: 250 } as const;
  await page.waitForFunction(
    () => Number(document.getElementById('total-messages')?.textContent?.replace(/,/g, '')) > 50,
    undefined,
    poll,
  );
  const first = await num('total-messages');
  // live: the number grows while the page stays open (SSE pushes, no reload)
  await page.waitForFunction(
    (n) => Number(document.getElementById('total-messages')?.textContent?.replace(/,/g, '')) > n + 50,
    first,
    poll,
  );
  assert.ok((await num('total-messages')) > first);
  await page.waitForFunction(
    () => Number(document.getElementById('rate-now')?.textContent) > 0,
    undefined,
    poll,
  );
  await page.waitForFunction(
    () => Number(document.getElementById('total-failures')?.textContent) > 0,
    undefined,
    poll,
  );
  await page.waitForSelector('#methods-count td:text("build_instances")');
  await page.waitForSelector('#methods-p99 td:text("build_instances")');
  await page.waitForSelector('#failures td:text-matches("NoValidHost")');
  await page.waitForSelector('#topics td:text("conductor")');
  await page.waitForSelector('#rate-chart canvas');
  await page.waitForSelector('#queue-chart canvas');
  // the notification queue nobody consumes grows: a hazard naming it
  await page.waitForSelector(
    `#hazards li[data-kind="queue-growing-no-consumer"] code:text("${vh.name}/notifications.info")`,
    {
      timeout: 20_000,
    },
  );
  await page.waitForSelector('#operations svg', { timeout: 20_000 });
  assert.equal(await num('total-dropped'), 0);
  // published and delivered apart: the conductor consumes what the API publishes
  await page.waitForFunction(
    () => Number(document.getElementById('total-delivered')?.textContent?.replace(/,/g, '')) > 0,
    undefined,
    poll,
  );
  assert.match((await page.textContent('#kinds')) ?? '', /call: [\d,]+ published · [\d,]+ delivered/);
  assert.equal(await page.isHidden('#queue-empty'), true, 'queue depths are shown with a management API');
  await assertP99Visible(page, 1400);

  const html = await page.content();
  assert.ok(!html.includes('tok-SECRET-never-shown'), 'the auth token is not on the page');
  assert.deepEqual(remote, [], 'no request leaves the dashboard origin');
  assert.deepEqual(errors, []);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  t.diagnostic(`screenshot: ${SCREENSHOT}`);
  await traffic.stop();
  await w.stop();
});

test('at 1024 px without a management API: tables fit and the queue panel says why it is empty', {
  timeout: 300_000,
}, async (t) => {
  const vh = await makeVhost('rpcscope-web-1024');
  t.after(vh.remove);
  const w = await startWatch({
    source: { kind: 'firehose', amqpUrl: 'amqp://guest:guest@127.0.0.1:5672', vhosts: [vh.name] },
    managementUrl: null,
    http: { host: '127.0.0.1', port: 0 },
    sseIntervalMs: 500,
  });
  t.after(() => w.stop());
  const url = w.dashboard?.url;
  assert.ok(url);
  const traffic = await startTraffic(vh.name);
  t.after(() => traffic.stop());

  const ctx = await launchChromium(t, { width: 1024, height: 1400 });
  const page = await ctx.newPage();
  page.setDefaultTimeout(120_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('#status.live');
  const poll = { polling: 250 } as const;
  await page.waitForFunction(
    () => document.querySelectorAll('#methods-p99 tbody td.ms').length >= 2,
    undefined,
    poll,
  );
  await page.waitForSelector('#methods-count td:text("build_instances")');
  await assertP99Visible(page, 1024);
  assert.equal((await page.textContent('#queue-empty'))?.trim(), NO_MANAGEMENT);
  assert.equal(await page.isVisible('#queue-empty'), true);
  assert.equal(await page.isHidden('#queue-chart'), true);
  assert.deepEqual(errors, []);
  await page.screenshot({ path: SCREENSHOT_1024, fullPage: true });
  t.diagnostic(`screenshot: ${SCREENSHOT_1024}`);
  await traffic.stop();
  await w.stop();
});
