import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OperationStep } from '../correlate/operations.ts';
import { renderSequenceSvg } from './sequence-svg.ts';

function step(
  seq: number,
  kind: OperationStep['kind'],
  from: string,
  to: string,
  extra: Partial<OperationStep> = {},
): OperationStep {
  return {
    seq,
    offsetMs: seq * 10,
    kind,
    from,
    to,
    fromInferred: false,
    exchange: 'nova',
    topic: 't',
    bodySize: 10,
    ...extra,
  };
}

test('one arrow per message, kinds styled apart, labels escaped, markers unique per diagram', () => {
  const steps = [
    step(0, 'cast', 'nova-api', 'nova-conductor', { method: 'schedule_and_build_instances' }),
    step(1, 'call', 'nova-conductor', 'nova-scheduler', {
      method: 'select_<destinations>&',
      latencyMs: 12.4,
    }),
    step(2, 'reply', 'nova-scheduler', 'nova-conductor', { replyToSeq: 1 }),
    step(3, 'fanout', 'nova-compute', 'nova-scheduler', { method: 'update_instance_info' }),
    step(4, 'notification', 'nova-compute', 'notifications', {
      eventType: 'instance.create.end',
      topic: 'versioned_notifications',
    }),
    step(5, 'call', 'nova-compute', 'nova-compute', { method: 'self' }),
  ];
  const svg = renderSequenceSvg({
    id: 'req-1',
    name: 'schedule_and_build_instances',
    alias: 'server create',
    lifelines: ['nova-api', 'nova-conductor', 'nova-scheduler'],
    steps,
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<g class="msg /g) ?? []).length, 6);
  assert.equal((svg.match(/<g class="lifeline"/g) ?? []).length, 5, 'lifelines added for senders not listed');
  assert.ok(svg.includes('select_&lt;destinations&gt;&amp; (12 ms)'));
  assert.ok(!svg.includes('select_<destinations>'));
  assert.match(svg, /<g class="msg reply"[\s\S]*?stroke-dasharray="6,4"/);
  assert.match(svg, /<g class="msg cast"[\s\S]*?marker-end="url\(#sqreq1-open\)"/);
  assert.match(svg, /<g class="msg fanout"[\s\S]*?marker-end="url\(#sqreq1-fanout\)"/);
  assert.ok(svg.includes('instance.create.end (versioned)'));
  assert.match(svg, /<path class="arrow" d="M/, 'a message to itself is a loop');
  assert.ok(svg.includes('+50 ms'));
  const other = renderSequenceSvg({ id: 'req-2', name: 'x', lifelines: [], steps: steps.slice(0, 1) });
  assert.ok(other.includes('id="sqreq2-open"') && !other.includes('sqreq1'));
});

test('long operations are cut at maxSteps and say so', () => {
  const steps = Array.from({ length: 30 }, (_, i) => step(i, 'cast', 'a', 'b', { method: 'm' }));
  const svg = renderSequenceSvg({ id: 'r', name: 'm', lifelines: ['a', 'b'], steps }, { maxSteps: 10 });
  assert.equal((svg.match(/<g class="msg /g) ?? []).length, 10);
  assert.ok(svg.includes('20 more messages not drawn'));
});
