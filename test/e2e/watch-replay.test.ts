/**
 * End to end, `rpcscope watch --replay` with `--store` and `--otlp`, then `rpcscope export`:
 * a real nova capture replayed through the live pipeline lands in DuckDB message for message,
 * exports to Parquet, and every call reaches a local OTLP receiver as one span.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readStore } from '../../src/outputs/store.ts';
import { loadCaptures } from '../../src/pipeline/load.ts';
import { cli } from '../harness/oslo.ts';

const FIXTURE = 'data/nova-zed/boot.firehose.jsonl';

test('watch --replay --store --otlp, then export --parquet', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-watch-replay-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let spans = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        resourceSpans: { scopeSpans: { spans: unknown[] }[] }[];
      };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const otlp = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  const store = join(dir, 'watch.duckdb');

  const r = await cli([
    'watch',
    '--replay',
    FIXTURE,
    '--speed',
    'max',
    '--exit-at-end',
    '--no-http',
    '--store',
    store,
    '--otlp',
    otlp,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const loaded = await loadCaptures([FIXTURE]);
  // spans per the messaging conventions (src/outputs/otlp.ts): per call the caller's send span,
  // the server's process span and the caller's receive span; per cast, fanout and notification a
  // send span at each publish and a process span at each delivery
  const expectedSpans =
    loaded.calls.length +
    loaded.calls.filter((c) => c.delivered !== undefined && c.reply !== undefined).length +
    loaded.calls.filter((c) => c.delivered !== undefined && c.replyDelivered !== undefined).length +
    loaded.messages.filter(
      (m) =>
        (m.kind === 'cast' || m.kind === 'fanout' || m.kind === 'notification') && m.wire.event !== 'return',
    ).length;
  assert.match(
    r.stderr,
    new RegExp(
      `stopped: ${loaded.messages.length} messages, ${loaded.calls.length} calls, 0 dropped, ${loaded.messages.length} messages stored, ${expectedSpans} spans exported \\(0 failed\\)`,
    ),
  );
  assert.equal(spans, expectedSpans);
  const back = await readStore(store);
  assert.equal(back.messages.length, loaded.messages.length);
  assert.equal(back.calls.length, loaded.calls.length);

  const out = join(dir, 'parquet');
  const e = await cli(['export', '--store', store, '--parquet', out]);
  assert.equal(e.code, 0, e.stderr);
  assert.match(
    e.stderr,
    new RegExp(`export: ${loaded.messages.length} messages, ${loaded.calls.length} calls`),
  );
  assert.ok((await stat(join(out, 'messages.parquet'))).size > 0);
  assert.ok((await stat(join(out, 'calls.parquet'))).size > 0);
});

test('watch --replay with a collector that refuses: each lost batch is printed as it happens, exit status 6', async () => {
  // a listener that is closed again: the port refuses connections
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  const r = await cli(
    ['watch', '--replay', FIXTURE, '--speed', 'max', '--exit-at-end', '--no-http'],
    // the base URL habit of OTEL_EXPORTER_OTLP_ENDPOINT: /v1/traces is appended
    { env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` } },
  );
  assert.equal(r.code, 6, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `RPCSCOPE_OUTPUT_LOST: otlp: \\d+ spans not exported to http://127\\.0\\.0\\.1:${port}/v1/traces: `,
    ),
  );
  assert.match(r.stderr, /RPCSCOPE_OUTPUT_LOST: .*spans not exported/);
});
