import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReportAccumulator } from '../outputs/report.ts';
import type { RpcMessage } from '../records.ts';
import { renderReport } from './report-text.ts';
import { textTable } from './text-table.ts';

const META = {
  inputs: [{ input: 'many.pcap', bytes: 1, packets: 1, connections: 1, source: 'pcap' }],
  skipped: { bytes: 0, frames: 0, records: 0, issues: [] },
  startMs: 0,
  endMs: 1000,
  callStats: { orphanReplies: 0, orphanDeliveries: 0, lateReplies: 0, duplicateCalls: 0 },
} as unknown as Parameters<ReportAccumulator['result']>[0];

function cast(i: number, conn: string): RpcMessage {
  return {
    wire: {
      seq: i,
      ts: i,
      source: 'pcap',
      event: 'publish',
      exchange: 'nova',
      routingKey: 'compute.host1',
      properties: {},
      bodySize: 100,
      connection: { id: conn },
    },
    kind: 'cast',
    envelope: '2.0',
    exchange: 'nova',
    topic: 'compute',
    server: 'host1',
    method: `method_${String(i).padStart(6, '0')}`,
    context: {},
    bodySize: 100,
  } as RpcMessage;
}

test('100k distinct methods over 20k connections: capped tables with "… N more rows"', () => {
  const acc = new ReportAccumulator();
  for (let i = 0; i < 100_000; i++) acc.message(cast(i, `10.0.${i % 20_000}:5672`));
  const report = acc.result(META);
  assert.equal(report.methods.length, 100_000);
  const text = renderReport(report);
  assert.match(text, /^ {2}… 99970 more rows$/m, 'methods capped at 30');
  const methodLines = text.split('\n').filter((l) => /│ method_\d{6} /.test(l));
  assert.equal(methodLines.length, 30);
  assert.match(text, /^ {2}… 19970 more rows$/m, 'connections capped at 30');
  // every table is closed and nothing else is cut
  assert.ok(text.includes('Skipped input'));

  const all = renderReport(report, { maxRows: Number.POSITIVE_INFINITY });
  assert.equal(all.split('\n').filter((l) => /│ method_\d{6} /.test(l)).length, 100_000);
  assert.doesNotMatch(all, /more rows/);
});

test('text tables: aligned columns, numbers right-aligned, multi-line cells, escaped controls', () => {
  const t = textTable(
    ['name', 'n'],
    [
      ['a\u001b[31m', 5],
      ['two\nlines', 12345],
    ],
  );
  assert.equal(
    t,
    [
      '┌───────────┬───────┐',
      '│ name      │ n     │',
      '├───────────┼───────┤',
      '│ a\\x1b[31m │     5 │',
      '│ two       │ 12345 │',
      '│ lines     │       │',
      '└───────────┴───────┘',
    ].join('\n'),
  );
  assert.match(textTable(['x'], [[1], [2], [3]], 2), /│ 2 │\n└───┘\n {2}… 1 more rows$/);
});
