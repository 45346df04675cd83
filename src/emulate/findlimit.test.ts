import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRpcscopeError } from '../errors.ts';
import { renderHtml } from '../render/emulation-html.ts';
import { renderSummary } from '../render/emulation-text.ts';
import { findLimit, judge, parseObjectives } from './findlimit.ts';
import { mergeResults } from './merge.ts';
import { emptyHistogram, newMethodStats, quantile, record, summarise } from './stats.ts';
import type { EmulationResult } from './types.ts';

function result(computes: number, latencyMs: number, timeouts: number): EmulationResult {
  const m = newMethodStats('conductor.Service.save');
  for (let i = 0; i < 100; i++) record(m.latency, latencyMs);
  m.calls = 100 + timeouts;
  m.ok = 100;
  m.timeouts = timeouts;
  return {
    scenario: 't',
    speedup: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:01:00.000Z',
    rampUpS: 1,
    steadyS: 60,
    services: {
      planned: computes,
      connected: computes,
      failed: 0,
      upAtEnd: computes,
      byGroup: { 'nova-compute': { planned: computes, connected: computes } },
    },
    methods: { [m.key]: summarise(m) },
    reconnects: 0,
    publishConfirms: { confirmed: 200, nacked: 0 },
    accounting: {},
    samples: [
      {
        t: 5,
        phase: 'steady',
        servicesUp: computes,
        sentPerS: 10,
        answeredPerS: 10,
        timeoutsPerS: 0,
        p99Ms: latencyMs,
        emulator: { rssBytes: 1e8, heapUsedBytes: 5e7, cpu: 0.2 },
      },
    ],
    emulator: { peakRssBytes: 1e8, peakHeapUsedBytes: 5e7, meanCpu: 0.2 },
    complete: true,
    stoppedBy: 'duration',
    errors: [],
  };
}

test('objectives parse and bad ones name the term', () => {
  const o = parseObjectives('p99<1s, timeouts<0.1%,errors<1%,max<250ms');
  assert.equal(o.length, 4);
  assert.deepEqual(o[0], { type: 'latency', q: 0.99, maxMs: 1000, label: 'p99<1s' });
  assert.deepEqual(o[1], { type: 'timeouts', maxFraction: 0.001, label: 'timeouts<0.1%' });
  try {
    parseObjectives('p99 under 1s');
    assert.fail();
  } catch (e) {
    assert.ok(isRpcscopeError(e) && /p99 under 1s/.test(e.message));
  }
});

test('find-limit reports the largest count that held and what broke first', async () => {
  const objectives = parseObjectives('p99<1s,timeouts<0.1%');
  assert.equal(judge(result(10, 50, 0), objectives).held, true);
  const runs: number[] = [];
  const l = await findLimit(
    async (n) => {
      runs.push(n);
      return result(n, n >= 400 ? 2000 : 50, 0);
    },
    objectives,
    { start: 100, max: 10000, factor: 2 },
  );
  assert.deepEqual(runs, [100, 200, 400]);
  assert.equal(l.largestHeld, 200);
  assert.equal(l.firstBroken?.computes, 400);
  assert.match(l.firstBroken!.broken[0]!, /^p99<1s \(was \d+ ms\)$/);
});

test('histograms are within 5 % and merge exactly', () => {
  const h = emptyHistogram();
  for (let i = 1; i <= 1000; i++) record(h, i);
  const p99 = quantile(h, 0.99)!;
  assert.ok(p99 >= 990 && p99 <= 990 * 1.05, String(p99));
  const merged = mergeResults([result(10, 50, 0), result(20, 50, 1)]);
  assert.equal(merged.services.planned, 30);
  assert.equal(merged.methods['conductor.Service.save']!.calls, 201);
  assert.equal(merged.methods['conductor.Service.save']!.latency.n, 200);
  assert.equal(merged.samples[0]!.servicesUp, 30);
});

test('summary and HTML render a result, the HTML self-contained', () => {
  const r = result(10, 50, 0);
  assert.match(renderSummary(r), /10\/10 services connected/);
  const html = renderHtml(r);
  assert.match(html, /<svg/);
  assert.doesNotMatch(html, /<script[^>]*\ssrc=|<link|https?:\/\/(?!www\.w3\.org)/);
});
