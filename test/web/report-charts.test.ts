/**
 * The HTML reports' plots in a real headless Chromium: an emulation.html and a chaos timeline are
 * rendered, written to files and opened from disk (no server: the file must be self-contained).
 * uPlot must draw every chart into a canvas, with the axis labels and values in their units
 * (every text drawn on a canvas is recorded), and nothing may be fetched.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { buildLedger } from '../../src/chaos/ledger.ts';
import type { ChaosResult } from '../../src/chaos/types.ts';
import { Accounting } from '../../src/emulate/accounting.ts';
import { newMethodStats, record, summarise } from '../../src/emulate/stats.ts';
import type { EmulationResult, Sample } from '../../src/emulate/types.ts';
import { renderChaosHtml } from '../../src/render/chaos-html.ts';
import { renderHtml } from '../../src/render/emulation-html.ts';
import { launchChromium } from '../harness/browser.ts';

const SHOTS = process.env.RPCSCOPE_SCREENSHOT_DIR ?? tmpdir();

function emulation(): EmulationResult {
  const m = newMethodStats('conductor.Service.save');
  for (let i = 0; i < 100; i++) record(m.latency, 10 + (i % 7));
  m.calls = 100;
  m.ok = 100;
  const samples: Sample[] = Array.from({ length: 60 }, (_, i) => ({
    t: i * 2,
    phase: i < 5 ? 'ramp-up' : 'steady',
    servicesUp: Math.min(100, i * 20),
    sentPerS: 300 + 20 * Math.sin(i / 3),
    answeredPerS: 140 + 10 * Math.sin(i / 3),
    timeoutsPerS: i === 40 ? 3 : 0,
    p99Ms: 25 + (i % 10),
    emulator: { rssBytes: 180 * 1048576 + i * 65536, heapUsedBytes: 90 * 1048576, cpu: 0.35 },
    broker: {
      connections: 100,
      channels: 200,
      queues: 310,
      publishPerS: 300,
      deliverPerS: 290,
      memBytes: 161.5 * 1048576,
      fdUsed: 140,
      socketsUsed: 100,
      procUsed: 2100,
      alarms: [],
    },
  }));
  return {
    scenario: 'browser',
    speedup: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:02:00.000Z',
    rampUpS: 10,
    steadyS: 110,
    services: {
      planned: 100,
      connected: 100,
      failed: 0,
      upAtEnd: 100,
      byGroup: { 'nova-compute': { planned: 100, connected: 100 } },
    },
    methods: { [m.key]: summarise(m) },
    reconnects: 0,
    publishConfirms: { confirmed: 36000, nacked: 0 },
    accounting: {},
    samples,
    emulator: { peakRssBytes: 190 * 1048576, peakHeapUsedBytes: 95 * 1048576, meanCpu: 0.35 },
    complete: true,
    stoppedBy: 'duration',
    errors: [],
  } as EmulationResult;
}

function chaos(): ChaosResult {
  const a = new Accounting({ keepMessages: true });
  for (let i = 0; i < 10; i++) {
    a.sent(`c${i}`, 'cast', 'client', 'h', 'm', 1000);
    a.confirmed(`c${i}`, true, 1001);
    a.delivered(`c${i}`, 's');
  }
  const ledger = buildLedger({
    messages: a.messages(),
    expired: new Set(),
    remoteErrors: new Map(),
    from: 0,
    to: 2000,
  });
  return {
    scenario: 'browser',
    queues: 'quorum',
    vhost: 'v',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationS: 40,
    drainS: 10,
    ledger,
    faults: [
      {
        fault: { action: 'kill', node: 1, at: 10, for: 10 },
        description: 'kill node 1',
        atS: 10,
        appliedS: 10.2,
        undoneS: 20,
        recoveryS: 4,
      },
    ],
    baseline: { successRate: 1, p50Ms: 5 },
    timeline: Array.from({ length: 51 }, (_, t) => ({
      t,
      calls: 10,
      ok: t >= 10 && t < 14 ? 4 : 10,
      p50Ms: 5,
      p99Ms: t >= 10 && t < 14 ? 900 : 12,
      sent: 20,
      reconnects: t === 10 ? 3 : 0,
      queueDepth: t >= 10 && t < 20 ? 40 : 2,
      memBytes: { 'rabbit@node1': t >= 10 && t < 20 ? undefined : 120e6, 'rabbit@node2': 95e6 + t * 1e5 },
    })) as ChaosResult['timeline'],
    reconnects: 3,
    emulator: { published: 10, confirmed: 10, deliveries: 10 },
    broker: { publish: 10, confirm: 10, deliver: 10 },
    expiredOther: 0,
    errors: [],
    servicesConnected: 2,
    servicesPlanned: 2,
  } as ChaosResult;
}

/** Opens a report from disk; returns what the charts drew as text on their canvases. */
async function open(page: Page, file: string): Promise<string[]> {
  const requests: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(
    () =>
      document.querySelectorAll('.plot').length > 0 &&
      document.querySelectorAll('.plot:not([data-drawn="uplot"])').length === 0,
    undefined,
    { polling: 100 },
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [], 'nothing fetched: one self-contained file');
  for (const id of await page.$$eval('.plot', (els) => els.map((e) => e.id)))
    assert.ok((await page.$(`#${id} canvas`)) !== null, `chart ${id} drawn on a canvas`);
  return page.evaluate(() => (window as unknown as { __texts: string[] }).__texts);
}

test('emulation.html and the chaos timeline plot with uPlot: canvases, labelled axes, units', {
  timeout: 120_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-report-charts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ctx = await launchChromium(t, { width: 1280, height: 900 });
  // record every text drawn on a canvas: uPlot draws axis labels and tick values there
  await ctx.addInitScript(() => {
    const w = window as unknown as { __texts: string[] };
    w.__texts = [];
    const fill = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (
      this: CanvasRenderingContext2D,
      text: string,
      x: number,
      y: number,
      max?: number,
    ) {
      w.__texts.push(String(text));
      return max === undefined ? fill.call(this, text, x, y) : fill.call(this, text, x, y, max);
    };
  });

  const emu = join(dir, 'emulation.html');
  writeFileSync(emu, renderHtml(emulation()));
  const page = await ctx.newPage();
  const texts = await open(page, emu);
  assert.equal((await page.locator('.plot canvas').count()) >= 9, true);
  for (const label of ['messages/s', 'latency (ms)', 'memory (bytes)', 'CPU (cores)', 'time since start (s)'])
    assert.ok(texts.includes(label), `axis label "${label}" drawn: ${texts.slice(0, 40).join(' | ')}`);
  assert.ok(
    texts.some((x) => /^\d+(\.\d)? MiB$/.test(x)),
    'memory ticks in MiB',
  );
  assert.ok(!texts.some((x) => /\dM B$/.test(x)), 'never "161.5M B"');
  assert.ok(
    texts.some((x) => /^\d+ ms$/.test(x)),
    'latency ticks in ms',
  );
  await page.screenshot({ path: join(SHOTS, 'emulation-html.png'), fullPage: true });

  const ch = join(dir, 'chaos-quorum.html');
  writeFileSync(ch, renderChaosHtml(chaos()));
  const p2 = await ctx.newPage();
  const texts2 = await open(p2, ch);
  assert.equal((await p2.locator('.plot canvas').count()) >= 6, true);
  for (const label of ['success (%)', 'latency (ms)', 'messages/s', 'memory (bytes)', 'time since start (s)'])
    assert.ok(texts2.includes(label), `axis label "${label}" drawn`);
  assert.ok(
    texts2.some((x) => /^\d+ %$/.test(x)),
    'success ticks in %',
  );
  assert.ok(
    texts2.some((x) => /MiB$/.test(x)),
    'memory ticks in MiB',
  );
  await p2.screenshot({ path: join(SHOTS, 'chaos-html.png'), fullPage: true });
});
