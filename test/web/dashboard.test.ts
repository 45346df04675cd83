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
import { startWatch } from '../../src/watch/watch.ts';
import { launchChromium } from '../harness/browser.ts';
import { makeVhost } from '../harness/oslo.ts';
import { startTraffic } from './traffic.ts';

const SCREENSHOT = process.env.RPCSCOPE_SCREENSHOT ?? join(tmpdir(), 'rpcscope-dashboard.png');

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

  const html = await page.content();
  assert.ok(!html.includes('tok-SECRET-never-shown'), 'the auth token is not on the page');
  assert.deepEqual(remote, [], 'no request leaves the dashboard origin');
  assert.deepEqual(errors, []);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  t.diagnostic(`screenshot: ${SCREENSHOT}`);
  await traffic.stop();
  await w.stop();
});
