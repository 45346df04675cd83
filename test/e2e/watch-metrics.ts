/**
 * Helpers for the watch end-to-end tests: Prometheus text parsing and the expected counters of
 * the oslo harness manifest (test/harness/oslo_harness.py).
 */
import assert from 'node:assert/strict';
import type { Manifest } from '../harness/oslo.ts';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the Prometheus text exposition format (what /metrics serves). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of a metric over the samples whose labels include `where`. */
export function sum(samples: readonly Sample[], name: string, where: Record<string, string> = {}): number {
  let n = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) n += s.value;
  }
  return n;
}

export async function scrape(base: string): Promise<Sample[]> {
  const r = await fetch(`${base}metrics`, { signal: AbortSignal.timeout(15_000) });
  assert.equal(r.status, 200);
  return parseMetrics(await r.text());
}

/** Every counter the harness manifest pins down, checked against one scrape. */
export function assertMetricsMatchManifest(s: readonly Sample[], m: Manifest): void {
  const C = 'oslo_messaging_rpc_client_';
  const S = 'oslo_messaging_rpc_server_';
  assert.equal(sum(s, 'rpcscope_messages_total', { event: 'publish' }), m.messages.published, 'published');
  assert.equal(sum(s, 'rpcscope_messages_total', { event: 'deliver' }), m.messages.delivered, 'delivered');
  assert.equal(sum(s, 'rpcscope_messages_total', { kind: 'call', event: 'publish' }), m.calls.total);
  assert.equal(sum(s, 'rpcscope_messages_total', { kind: 'reply', event: 'publish' }), m.replies.total);
  assert.equal(sum(s, 'rpcscope_messages_total', { kind: 'notification' }), m.notifications.total);
  // client side, oslo.metrics names and labels
  assert.equal(
    sum(s, `${C}invocation_start_total`, { call_type: 'call' }),
    m.calls.total,
    'client call starts',
  );
  for (const [method, n] of Object.entries(m.calls.byMethod))
    assert.equal(
      sum(s, `${C}invocation_start_total`, {
        call_type: 'call',
        method,
        topic: m.topic,
        exchange: m.exchange,
      }),
      n,
      `client starts of ${method}`,
    );
  assert.equal(sum(s, `${C}invocation_end_total`, { call_type: 'call' }), m.calls.total, 'client call ends');
  assert.equal(sum(s, `${C}processing_seconds_count`, { call_type: 'call' }), m.calls.total);
  assert.equal(sum(s, `${C}invocation_start_total`, { call_type: 'cast', fanout: 'None' }), m.casts.total);
  assert.equal(sum(s, `${C}invocation_start_total`, { call_type: 'cast', fanout: 'True' }), m.fanouts.total);
  for (const f of m.calls.failures)
    assert.equal(sum(s, `${C}exception_total`, { exception: f.class }), f.count, `client ${f.class}`);
  assert.equal(sum(s, `${C}exception_total`, { exception: 'MessagingTimeout' }), m.calls.unanswered);
  // server side (call/cast/fanout deliveries; ends at the reply publish, late replies included)
  assert.equal(
    sum(s, `${S}invocation_start_total`),
    m.calls.total + m.casts.total + m.fanouts.total * m.fanouts.servers,
    'server starts',
  );
  assert.equal(sum(s, `${S}invocation_end_total`), m.calls.total, 'server ends: every call was replied to');
  for (const f of m.calls.failures)
    assert.equal(sum(s, `${S}exception_total`, { exception: f.class }), f.count, `server ${f.class}`);
  // rpcscope's own
  assert.equal(sum(s, 'rpcscope_calls_total', { outcome: 'ok' }), m.calls.ok);
  assert.equal(sum(s, 'rpcscope_calls_total', { outcome: 'remote-error' }), m.calls.failed);
  assert.equal(sum(s, 'rpcscope_calls_total', { outcome: 'unanswered' }), m.calls.unanswered);
  assert.equal(sum(s, 'rpcscope_unanswered_calls_total', { reason: 'expired' }), m.calls.unanswered);
  for (const n of m.notifications.byEventType)
    assert.equal(
      sum(s, 'rpcscope_notifications_total', { event_type: n.eventType, priority: n.priority }),
      n.count,
      n.eventType,
    );
  assert.equal(sum(s, 'rpcscope_source_dropped_total'), 0, 'no drops');
}
