/**
 * OTLP traces against a strict receiver: no OpenTelemetry Collector installs from Debian or npm
 * here, so the receiver checks every request against the OTLP/HTTP JSON encoding of
 * ExportTraceServiceRequest (opentelemetry-proto trace.proto and its protobuf JSON mapping): only
 * known fields, ids as lower-case hex of the right length, times as decimal strings, one value per
 * attribute, a known span kind; anything else is answered 400 and fails the test.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { callSpanIdOf, OtlpTraces, parseOtlpHeaders, resolveOtlpEndpoint } from '../../src/outputs/otlp.ts';
import { loadCaptures } from '../../src/pipeline/load.ts';
import type { RpcCall } from '../../src/records.ts';

type AnyValue = { stringValue?: string; intValue?: string; boolValue?: boolean; doubleValue?: number };
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string | undefined;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  status?: { code?: number; message?: string };
  service: string;
}

function only(o: unknown, allowed: string[], where: string): Record<string, unknown> {
  assert.ok(o !== null && typeof o === 'object' && !Array.isArray(o), `${where}: not an object`);
  for (const k of Object.keys(o)) assert.ok(allowed.includes(k), `${where}: unknown field ${k}`);
  return o as Record<string, unknown>;
}
const HEX = (n: number) => new RegExp(`^[0-9a-f]{${n}}$`);
function value(v: unknown, where: string): AnyValue {
  const o = only(v, ['stringValue', 'intValue', 'boolValue', 'doubleValue'], where);
  assert.equal(Object.keys(o).length, 1, `${where}: one value`);
  if ('intValue' in o) assert.match(String(o.intValue), /^-?\d+$/, `${where}: int64`);
  if ('stringValue' in o) assert.equal(typeof o.stringValue, 'string');
  return o as AnyValue;
}
function attributes(a: unknown, where: string): KeyValue[] {
  assert.ok(Array.isArray(a), `${where}: attributes`);
  return a.map((kv, i) => {
    const o = only(kv, ['key', 'value'], `${where}[${i}]`);
    assert.equal(typeof o.key, 'string');
    return { key: o.key as string, value: value(o.value, `${where}.${String(o.key)}`) };
  });
}

/** Strictly decodes one ExportTraceServiceRequest (JSON encoding) into spans. */
function decode(body: string): Span[] {
  const spans: Span[] = [];
  const req = only(JSON.parse(body), ['resourceSpans'], 'request');
  for (const rs of req.resourceSpans as unknown[]) {
    const r = only(rs, ['resource', 'scopeSpans', 'schemaUrl'], 'resourceSpans');
    const res = only(r.resource, ['attributes', 'droppedAttributesCount'], 'resource');
    const service = attributes(res.attributes, 'resource').find((a) => a.key === 'service.name')?.value
      .stringValue;
    assert.ok(service, 'resource without service.name');
    for (const ss of r.scopeSpans as unknown[]) {
      const s = only(ss, ['scope', 'spans', 'schemaUrl'], 'scopeSpans');
      only(s.scope, ['name', 'version', 'attributes', 'droppedAttributesCount'], 'scope');
      for (const sp of s.spans as unknown[]) {
        const o = only(
          sp,
          [
            'traceId',
            'spanId',
            'parentSpanId',
            'traceState',
            'name',
            'kind',
            'startTimeUnixNano',
            'endTimeUnixNano',
            'attributes',
            'droppedAttributesCount',
            'events',
            'droppedEventsCount',
            'status',
            'links',
            'droppedLinksCount',
            'flags',
          ],
          'span',
        );
        assert.match(String(o.traceId), HEX(32));
        assert.match(String(o.spanId), HEX(16));
        if (o.parentSpanId !== undefined && o.parentSpanId !== '')
          assert.match(String(o.parentSpanId), HEX(16));
        assert.ok([1, 2, 3, 4, 5].includes(o.kind as number), `span kind ${String(o.kind)}`);
        assert.match(String(o.startTimeUnixNano), /^\d+$/);
        assert.match(String(o.endTimeUnixNano), /^\d+$/);
        assert.ok(
          BigInt(String(o.endTimeUnixNano)) >= BigInt(String(o.startTimeUnixNano)),
          'ends before start',
        );
        if (o.status !== undefined) only(o.status, ['code', 'message'], 'status');
        spans.push({
          ...(o as unknown as Span),
          parentSpanId: o.parentSpanId === '' ? undefined : (o.parentSpanId as string | undefined),
          attributes: attributes(o.attributes, 'span'),
          service,
        });
      }
    }
  }
  return spans;
}

async function receiver(t: { after: (f: () => void) => void }, path = '/v1/traces') {
  const spans: Span[] = [];
  const errors: string[] = [];
  const headers: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      headers.push(req.headers);
      if (req.url !== path || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      try {
        assert.equal(req.headers['content-type'], 'application/json');
        spans.push(...decode(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (e) {
        errors.push(String(e));
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { spans, errors, headers, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const attr = (s: Span, k: string) => {
  const v = s.attributes.find((a) => a.key === k)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : undefined);
};

test('endpoint and headers resolve as the OTel SDKs do', () => {
  assert.equal(resolveOtlpEndpoint({ url: 'http://h:4318', env: {} }).url, 'http://h:4318/v1/traces');
  assert.equal(resolveOtlpEndpoint({ url: 'http://h:4318/', env: {} }).url, 'http://h:4318/v1/traces');
  assert.equal(
    resolveOtlpEndpoint({ url: 'http://h:4318/v1/traces', env: {} }).url,
    'http://h:4318/v1/traces',
  );
  assert.equal(resolveOtlpEndpoint({ url: 'https://h/otlp/traces', env: {} }).url, 'https://h/otlp/traces');
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
    OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%20d,x-tenant=t1',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=t2',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=watcher',
  };
  assert.deepEqual(resolveOtlpEndpoint({ env }), {
    url: 'http://collector:4318/v1/traces',
    headers: { 'api-key': 'abc d', 'x-tenant': 't2' },
    serviceName: 'watcher',
  });
  const traces = {
    ...env,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:1/custom',
    OTEL_SERVICE_NAME: 'svc',
  };
  assert.equal(resolveOtlpEndpoint({ env: traces }).url, 'http://t:1/custom');
  assert.equal(resolveOtlpEndpoint({ env: traces }).serviceName, 'svc');
  assert.equal(resolveOtlpEndpoint({ env: {} }).url, 'http://localhost:4318/v1/traces');
  assert.deepEqual(parseOtlpHeaders('a=1,bad,=x, b = 2 '), { a: '1', b: '2' });
  assert.throws(() => resolveOtlpEndpoint({ url: 'ftp://h', env: {} }), /RPCSCOPE|http/);
});

test('messaging spans: client, server and receive spans of a call linked; casts and notifications; services', async (t) => {
  const r = await receiver(t);
  const loaded = await loadCaptures(['data/nova-zed/boot.pcap']);
  // the base URL from the environment, headers too, as a collector deployment sets them
  const otlp = new OtlpTraces({
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.base, OTEL_EXPORTER_OTLP_HEADERS: 'x-scope=rpcscope-test' },
    scheduledDelayMillis: 20,
  });
  for (const m of loaded.messages) otlp.message(m);
  // a remote error and a timeout, from real calls of the capture
  const [a, b] = loaded.calls as [RpcCall, RpcCall];
  const failed: RpcCall = {
    ...a,
    outcome: 'remote-error',
    reply: {
      ...(a.reply as NonNullable<RpcCall['reply']>),
      failure: { class: 'InstanceNotFound', message: 'x' },
    },
  };
  const timedOut: RpcCall = {
    call: b.call,
    heartbeats: 0,
    outcome: 'unanswered',
    unansweredReason: 'expired',
  };
  for (const c of [failed, timedOut, ...loaded.calls.slice(2)]) otlp.call(c);
  await otlp.close();
  assert.deepEqual(r.errors, []);
  assert.equal(otlp.stats.failed, 0);
  assert.equal(otlp.stats.exported, otlp.stats.spans);
  assert.equal(r.spans.length, otlp.stats.spans);
  assert.ok(r.headers.every((h) => h['x-scope'] === 'rpcscope-test'));

  for (const s of r.spans) {
    assert.equal(attr(s, 'messaging.system'), 'rabbitmq');
    assert.ok(['send', 'receive', 'process'].includes(String(attr(s, 'messaging.operation.type'))), s.name);
    assert.ok(attr(s, 'messaging.operation.name'), s.name);
    assert.ok(attr(s, 'messaging.destination.name'), s.name);
    assert.equal(attr(s, 'server.address'), '127.0.0.1');
    assert.equal(typeof attr(s, 'server.port'), 'number');
  }
  const byId = new Map(r.spans.map((s) => [s.spanId, s]));
  let linked = 0;
  for (const c of loaded.calls) {
    const client = byId.get(callSpanIdOf(c.call.msgId as string));
    assert.ok(client, `client span of ${c.call.msgId}`);
    assert.equal(client.kind, 3); // CLIENT
    assert.equal(attr(client, 'messaging.operation.type'), 'send');
    // the caller's binary when its connection name was captured, else the default service
    assert.match(client.service, /^(nova-[a-z]+|rpcscope)$/);
    const children = r.spans.filter((s) => s.parentSpanId === client.spanId);
    const server = children.find((s) => attr(s, 'messaging.operation.type') === 'process');
    const receive = children.find((s) => attr(s, 'messaging.operation.type') === 'receive');
    assert.ok(server && receive, `server and receive spans of ${c.call.method}`);
    assert.equal(server.traceId, client.traceId);
    assert.equal(receive.traceId, client.traceId);
    assert.equal(server.kind, 5); // CONSUMER
    assert.notEqual(
      server.service,
      client.service,
      `${c.call.method}: server and client are different services`,
    );
    // (b was re-sent above as unanswered, without its reply's connection to name the caller)
    if (c !== b) assert.equal(receive.service, client.service);
    linked++;
  }
  assert.equal(linked, loaded.calls.length);
  const errType = (s: Span) => attr(s, 'error.type');
  assert.equal(errType(byId.get(callSpanIdOf(a.call.msgId as string)) as Span), 'InstanceNotFound');
  assert.equal(errType(byId.get(callSpanIdOf(b.call.msgId as string)) as Span), 'MessagingTimeout');
  assert.equal(r.spans.filter((s) => s.status?.code === 2).length, 2);
  // casts, fanouts and notifications: a send span per publish, a process span per delivery
  for (const kind of ['cast', 'fanout', 'notification']) {
    const pubs = loaded.messages.filter((m) => m.kind === kind && m.wire.event === 'publish').length;
    const sends = r.spans.filter(
      (s) => attr(s, 'rpcscope.kind') === kind && attr(s, 'messaging.operation.type') === 'send',
    );
    assert.ok(pubs > 0, kind);
    assert.equal(sends.length, pubs, kind);
    assert.ok(sends.every((s) => s.kind === 4)); // PRODUCER
  }
  const services = new Set(r.spans.map((s) => s.service));
  for (const s of ['nova-api', 'nova-conductor', 'nova-scheduler', 'nova-compute'])
    assert.ok(services.has(s), s);
});

test('a base URL without /v1/traces would 404; each failed batch is reported as it happens and counted', async (t) => {
  const r = await receiver(t, '/somewhere-else');
  const failures: { spans: number; error: string; url: string }[] = [];
  const otlp = new OtlpTraces({
    url: `${r.base.replace('http://', 'http://user:pw@')}`,
    env: {},
    scheduledDelayMillis: 10,
    onExportError: (f) => failures.push(f),
  });
  const loaded = await loadCaptures(['data/nova-zed/stop.firehose.jsonl']);
  for (const c of loaded.calls) otlp.call(c);
  await otlp.flush();
  assert.ok(failures.length >= 1, 'reported before close');
  await otlp.close();
  assert.equal(otlp.stats.failed, loaded.calls.length);
  assert.equal(
    failures.reduce((n, f) => n + f.spans, 0),
    loaded.calls.length,
  );
  assert.equal(failures.length, otlp.stats.failedBatches);
  for (const f of failures) {
    assert.doesNotMatch(f.url, /pw@/);
    assert.match(f.url, /\/v1\/traces$/);
  }
  assert.ok(r.headers.length >= 1);
});
