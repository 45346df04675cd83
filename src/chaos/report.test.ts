import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Accounting } from '../emulate/accounting.ts';
import { renderChaosHtml } from '../render/chaos-html.ts';
import { haTable } from './ha.ts';
import { buildLedger } from './ledger.ts';
import type { ChaosResult } from './types.ts';

function result(): ChaosResult {
  const a = new Accounting({ keepMessages: true });
  for (let i = 0; i < 10; i++) {
    a.sent(`c${i}`, 'cast', 'client', 'h', 'm', 1000);
    a.confirmed(`c${i}`, i !== 9, 1001);
    if (i < 8) a.delivered(`c${i}`, 's');
  }
  const ledger = buildLedger({
    messages: a.messages(),
    expired: new Set(),
    remoteErrors: new Map(),
    from: 0,
    to: 2000,
  });
  return {
    scenario: 'unit',
    queues: 'classic',
    vhost: 'v',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationS: 4,
    drainS: 2,
    ledger,
    faults: [
      {
        fault: { action: 'kill', node: 1, at: 1, for: 1 },
        description: 'kill node 1',
        atS: 1,
        appliedS: 1.2,
        undoneS: 2.5,
        recoveryS: 2,
      },
    ],
    baseline: { successRate: 1, p50Ms: 5 },
    timeline: [0, 1, 2, 3, 4, 5].map((t) => ({
      t,
      calls: 10,
      ok: t === 1 ? 5 : 10,
      p50Ms: 5,
      p99Ms: 9,
      sent: 20,
      reconnects: t === 1 ? 3 : 0,
      queueDepth: t,
      memBytes: { 'rpcscope-1@node1': 100e6 + t, 'rpcscope-2@node2': 90e6 },
    })),
    reconnects: 3,
    emulator: { published: 10, confirmed: 9, deliveries: 8 },
    broker: { publish: 9, confirm: 9, deliver: 8 },
    expiredOther: 0,
    errors: [],
    servicesConnected: 2,
    servicesPlanned: 2,
  };
}

test('timeline HTML: self-contained SVG, faults marked, ledger shown', () => {
  const html = renderChaosHtml(result());
  assert.match(html, /<svg /);
  assert.match(html, /kill node 1/);
  assert.match(html, /fill="#fde68a"/, 'fault band drawn');
  assert.doesNotMatch(
    html,
    /<script[^>]*\ssrc=|<link|https?:\/\/(?!www\.w3\.org)/,
    'no external script or resource: uPlot is inlined',
  );
  assert.match(html, /Accounting closes/);
});

test('HA table: lost after confirm apart from failed publishes, beside the 3.5 figures', () => {
  const t = haTable([result()]);
  const line = t.split('\n').find((l) => l.startsWith('| classic | cast'));
  assert.ok(line);
  assert.match(line, /\| 10 \| 8 \| 1 \(10\.00 %\) \| 1 \|/);
  assert.match(line, /no HA: 2,636 of 119,985 lost \(2\.20 %\)/);
});
