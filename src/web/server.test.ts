import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WatchMetrics } from '../outputs/prometheus.ts';
import type { RpcMessage } from '../records.ts';
import { LiveState } from './live.ts';
import { createDashboardApp, parseListen } from './server.ts';

const msg = (kind: RpcMessage['kind'], topic: string): RpcMessage => ({
  wire: {
    seq: 0,
    ts: 0,
    source: 'firehose',
    event: 'publish',
    exchange: 'nova',
    routingKey: topic,
    properties: {},
    bodySize: 10,
  },
  kind,
  envelope: '2.0',
  exchange: 'nova',
  topic,
  method: 'ping',
  context: {},
  bodySize: 10,
});

test('page, assets, state, SSE and metrics', async (t) => {
  let now = 10_000;
  const live = new LiveState({ now: () => now });
  const metrics = new WatchMetrics();
  for (const m of [msg('call', 'conductor'), msg('cast', 'compute'), msg('cast', 'compute')]) {
    live.message(m);
    metrics.message(m);
  }
  now = 11_000;
  const app = createDashboardApp({
    snapshot: () => live.snapshot(),
    metrics: () => metrics.text(),
    metricsContentType: metrics.contentType,
    intervalMs: 50,
  });
  const page = await app.request('/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await page.text();
  assert.match(html, /<script type="module" src="assets\/app.js">/);
  assert.doesNotMatch(html, /https?:\/\//, 'no CDN or remote resource');
  const js = await app.request('/assets/app.js');
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const body = await js.text();
  assert.ok(body.length > 20_000, 'uPlot is bundled');
  assert.doesNotMatch(body, /from\s*["']uplot["']/, 'no bare import left');
  assert.match(await (await app.request('/assets/app.css')).text(), /\.uplot/);
  const state = (await (await app.request('/api/state')).json()) as ReturnType<LiveState['snapshot']>;
  assert.equal(state.totals.messages, 3);
  assert.equal(state.rate.byKind.cast?.at(-1), 2);
  assert.deepEqual(
    state.topics.map((x) => [x.topic, x.total]),
    [
      ['compute', 2],
      ['conductor', 1],
    ],
  );
  assert.match(
    await (await app.request('/metrics')).text(),
    /rpcscope_messages_total\{kind="cast",event="publish"\} 2/,
  );

  const ac = new AbortController();
  t.after(() => ac.abort());
  const sse = await app.request('/events', { signal: ac.signal });
  assert.equal(sse.headers.get('content-type'), 'text/event-stream');
  const reader = sse.body!.getReader();
  let text = '';
  while (!/\n\n[\s\S]*\n\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  await reader.cancel();
  assert.match(text, /^event: state\ndata: \{"ts":11000/m);
  assert.match(text, /id: 1\n/);
});

test('--http parsing defaults to loopback', () => {
  assert.deepEqual(parseListen('9475'), { host: '127.0.0.1', port: 9475 });
  assert.deepEqual(parseListen(':0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListen('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  assert.deepEqual(parseListen('[::1]:9475'), { host: '::1', port: 9475 });
  assert.throws(() => parseListen('host:99999'), /HOST:PORT/);
});
