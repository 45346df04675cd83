import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { loadCaptures } from '../pipeline/load.ts';
import { OtlpTraces, traceIdOf } from './otlp.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
  events?: { name: string; timeUnixNano: string }[];
  status?: { code?: number; message?: string };
}

test('one span per call, one trace per request id, latency split as events, to a local OTLP receiver', async (t) => {
  const received: OtlpSpan[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.add(String(req.headers['content-type']));
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) received.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;

  const loaded = await loadCaptures(['data/nova-zed/boot.firehose.jsonl']);
  const otlp = new OtlpTraces({ url: `http://127.0.0.1:${port}/v1/traces`, scheduledDelayMillis: 50 });
  for (const c of loaded.calls) otlp.call(c);
  await otlp.close();
  assert.deepEqual([...contentTypes], ['application/json']);
  assert.equal(received.length, loaded.calls.length);
  assert.equal(otlp.stats.exported, loaded.calls.length);
  assert.equal(otlp.stats.failed, 0);

  const attr = (s: OtlpSpan, k: string) => s.attributes.find((a) => a.key === k)?.value.stringValue;
  // grouped by request id: every span with the same request id shares a trace id derived from it
  const byReq = new Map<string, Set<string>>();
  for (const s of received) {
    const r = attr(s, 'openstack.request_id');
    if (r === undefined) continue;
    assert.equal(s.traceId, traceIdOf(r));
    byReq.set(r, (byReq.get(r) ?? new Set()).add(s.traceId));
  }
  assert.ok(byReq.size > 0);
  for (const ids of byReq.values()) assert.equal(ids.size, 1);
  // the latency split as events at the right offsets
  const answered = loaded.calls.filter((c) => c.queueMs !== undefined && c.serverMs !== undefined);
  assert.ok(answered.length > 0);
  for (const c of answered) {
    const s = received.find((x) => attr(x, 'messaging.message.id') === c.call.msgId);
    assert.ok(s, `span for ${c.call.msgId}`);
    const start = BigInt(s.startTimeUnixNano);
    const ev = new Map((s.events ?? []).map((e) => [e.name, Number(BigInt(e.timeUnixNano) - start) / 1e6]));
    assert.ok(Math.abs((ev.get('delivered') ?? Number.NaN) - c.queueMs!) < 0.01);
    assert.ok(Math.abs((ev.get('reply.published') ?? Number.NaN) - (c.queueMs! + c.serverMs!)) < 0.01);
    assert.equal(attr(s, 'rpc.system'), 'oslo.messaging');
    assert.equal(attr(s, 'rpcscope.outcome'), c.outcome);
  }
  const failed = loaded.calls.filter((c) => c.outcome !== 'ok').length;
  assert.equal(received.filter((s) => s.status?.code === 2).length, failed);
});

test('an unreachable collector is counted as failed, not lost silently', async () => {
  const otlp = new OtlpTraces({ url: 'http://127.0.0.1:9/v1/traces', scheduledDelayMillis: 10 });
  const loaded = await loadCaptures(['data/nova-zed/stop.firehose.jsonl']);
  for (const c of loaded.calls) otlp.call(c);
  await otlp.close();
  assert.equal(otlp.stats.spans, loaded.calls.length);
  assert.equal(otlp.stats.failed, loaded.calls.length);
  assert.equal(otlp.stats.exported, 0);
});
