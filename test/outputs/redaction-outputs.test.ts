/**
 * Secrets planted under many names in real oslo messages (encoded by src/wire/oslo/encode.ts,
 * written as a firehose capture beside the bundled nova one) reach no output: report --json,
 * spec JSON, the DuckDB store, its Parquet export, OTLP request bodies and the metrics text.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { OtlpTraces } from '../../src/outputs/otlp.ts';
import { WatchMetrics } from '../../src/outputs/prometheus.ts';
import { EventStore, exportParquet, readStore } from '../../src/outputs/store.ts';
import { loadCaptures } from '../../src/pipeline/load.ts';
import { encodeCall, encodeReply, type OsloPublish, type PyJson } from '../../src/wire/oslo/encode.ts';
import { cli } from '../harness/oslo.ts';

const SECRETS: string[] = [];
const secret = (name: string): string => {
  const s = `Zq${name.replace(/[^A-Za-z0-9]/g, '')}${SECRETS.length}x9K`;
  SECRETS.push(s);
  return s;
};

/** Secret keys in every spelling, and secrets inside the values of harmless keys. */
function plantedContext(): Record<string, PyJson> {
  const c: Record<string, PyJson> = {
    request_id: 'req-11111111-2222-3333-4444-555555555555',
    user_name: 'demo',
  };
  for (const k of [
    'auth_token',
    'X-Auth-Token',
    'pwd',
    'passwd',
    'db_password',
    'api-key',
    'api_key',
    'apikey',
    'ApiKey',
    'authorization',
    'Cookie',
    'private-key',
    'private_key',
    'client_secret',
    'credential',
    'ACCESS_KEY',
  ])
    c[k] = secret(k);
  c.note = `Authorization: Bearer ${secret('bearer')} and Basic ${Buffer.from(`u:${secret('basic')}`).toString('base64')}`;
  c.transport_url = `rabbit://nova:${secret('url')}@10.0.0.1:5672,nova:${secret('url2')}@10.0.0.2:5672/nova`;
  c.nested = { headers: { 'x-api-key': secret('nested'), ok: 'fine' } };
  c.pem = `-----BEGIN OPENSSH PRIVATE KEY-----\n${secret('pem')}\n-----END OPENSSH PRIVATE KEY-----`;
  return c;
}

// SECRETS holds Base64 forms too: the Basic credential is planted encoded
const basicEncoded = () => SECRETS.map((s) => Buffer.from(`u:${s}`).toString('base64'));

function record(p: OsloPublish, event: 'publish' | 'deliver', seq: number, ts: number, conn: string): string {
  const raw = p.body.toString('utf8');
  const outer = JSON.parse(raw) as Record<string, unknown>;
  return JSON.stringify({
    body_len: p.body.length,
    body_raw: raw,
    event,
    headers: {
      channel: 1,
      connection: conn,
      exchange_name: p.exchange,
      node: 'rabbit@vm',
      properties: {
        content_encoding: 'utf-8',
        content_type: 'application/json',
        delivery_mode: 2,
        priority: 0,
      },
      routing_keys: [p.routingKey],
      user: 'nova',
      vhost: 'nova',
    },
    name: event === 'publish' ? p.exchange : p.routingKey,
    oslo_message: JSON.parse(String(outer['oslo.message'])),
    seq,
    trace_properties: {},
    trace_routing_key: `${event}.${event === 'publish' ? p.exchange : p.routingKey}`,
    ts,
    ts_iso: new Date(ts * 1000).toISOString(),
  });
}

test('planted secrets reach no output: report, spec, store, parquet, OTLP, metrics', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-redact-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const replyQ = 'reply_0123456789abcdef0123456789abcdef';
  const call = encodeCall(
    {
      exchange: 'nova',
      topic: 'conductor',
      method: 'object_action',
      args: { admin_password: secret('arg') },
      context: plantedContext(),
    },
    { replyQ, timeoutS: 60 },
  );
  const failure = JSON.stringify({
    class: 'OperationalError',
    module: 'pymysql.err',
    message: `(1045) connect failed password=${secret('failpw')} with Authorization: Bearer ${secret('failbearer')} key -----BEGIN RSA PRIVATE KEY-----\nMII${secret('failpem')}\n-----END RSA PRIVATE KEY-----`,
    tb: [`url mysql+pymysql://nova:${secret('tb')}@db/nova`],
    args: [],
    kwargs: {},
  });
  const reply = encodeReply({ msgId: call.msgId as string, replyQ, result: null, failure });
  const t0 = 1795681600;
  const a = '127.0.0.1:50001 -> 127.0.0.1:5672';
  const b = '127.0.0.1:50002 -> 127.0.0.1:5672';
  const capture = join(dir, 'planted.firehose.jsonl');
  writeFileSync(
    capture,
    `${[
      record(call, 'publish', 1, t0, a),
      record(call, 'deliver', 2, t0 + 0.001, b),
      record(reply, 'publish', 3, t0 + 0.05, b),
      record(reply, 'deliver', 4, t0 + 0.051, a),
    ].join('\n')}\n`,
  );
  const planted = readFileSync(capture, 'utf8');
  for (const s of SECRETS)
    assert.ok(
      planted.includes(s) || planted.includes(Buffer.from(`u:${s}`).toString('base64')),
      `the capture carries ${s}`,
    );
  const secrets = [...SECRETS, ...basicEncoded()];
  const clean = (what: string, text: string) => {
    for (const s of secrets) assert.ok(!text.includes(s), `${what} leaks ${s}`);
  };

  const loaded = await loadCaptures([capture]);
  assert.equal(loaded.messages.length, 4);
  assert.equal(loaded.calls[0]?.outcome, 'remote-error');

  const report = await cli(['report', '--json', capture]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stdout, /object_action/);
  clean('report --json', report.stdout + report.stderr);
  const text = await cli(['report', capture]);
  clean('report', text.stdout + text.stderr);
  const spec = await cli(['spec', '--format', 'json', capture]);
  assert.equal(spec.code, 0, spec.stderr);
  clean('spec json', spec.stdout + spec.stderr);

  const path = join(dir, 's.duckdb');
  const store = await EventStore.open({ path });
  for (const m of loaded.messages) store.message(m);
  for (const c of loaded.calls) store.call(c);
  await store.close();
  const back = await readStore(path);
  assert.equal(back.messages.length, 4);
  // the failure message survives, masked
  assert.match(JSON.stringify(back.messages), /password=\*\*\*/);
  clean('store records', JSON.stringify(back.messages));
  clean('store file', readFileSync(path).toString('latin1'));
  const out = join(dir, 'pq');
  await exportParquet(path, out);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  for (const table of ['messages', 'calls']) {
    const r = await conn.runAndReadAll(`SELECT * FROM read_parquet('${join(out, `${table}.parquet`)}')`);
    clean(
      `parquet ${table}`,
      JSON.stringify(r.getRowObjects(), (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
  }
  conn.closeSync();
  db.closeSync();

  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const otlp = new OtlpTraces({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    env: {},
    scheduledDelayMillis: 10,
  });
  for (const m of loaded.messages) otlp.message(m);
  for (const c of loaded.calls) otlp.call(c);
  await otlp.close();
  assert.ok(otlp.stats.exported >= 3 && otlp.stats.failed === 0);
  assert.match(bodies.join(''), /OperationalError/);
  clean('OTLP request bodies', bodies.join('\n'));

  const metrics = new WatchMetrics();
  for (const m of loaded.messages) metrics.message(m);
  for (const c of loaded.calls) metrics.call(c);
  clean('metrics', await metrics.text());
});
