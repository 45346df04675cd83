import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { WatchMetrics } from '../outputs/prometheus.ts';
import type { RpcMessage } from '../records.ts';
import { LiveState } from './live.ts';
import { createDashboardApp, hostAllowed, parseHostHeader, parseListen, startDashboard } from './server.ts';

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

/** A raw HTTP/1.1 GET with the Host header given (fetch would not let a page choose it either). */
function getWithHost(port: number, host: string | undefined, path = '/api/state'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, setHost: false, headers: host ? { host } : {} },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('the Host header must name the dashboard (DNS rebinding is refused)', async (t) => {
  const live = new LiveState();
  const metrics = new WatchMetrics();
  const d = await startDashboard({
    port: 0,
    snapshot: () => live.snapshot(),
    metrics: () => metrics.text(),
    metricsContentType: metrics.contentType,
    allowedHosts: ['rpcscope.example.org'],
  });
  t.after(() => d.close());
  const p = d.port;
  for (const ok of [
    `127.0.0.1:${p}`,
    `localhost:${p}`,
    `LOCALHOST:${p}`,
    `[::1]:${p}`,
    'rpcscope.example.org',
    'rpcscope.example.org:443',
  ])
    assert.equal(await getWithHost(p, ok), 200, ok);
  for (const bad of [
    'attacker.example',
    `attacker.example:${p}`,
    `localhost.attacker.example:${p}`,
    `127.0.0.1:${p + 1}`,
    '127.0.0.1',
    `10.0.0.5:${p}`,
  ])
    assert.equal(await getWithHost(p, bad), 421, bad);
  assert.equal(await getWithHost(p, 'attacker.example', '/metrics'), 421, '/metrics too');
  assert.notEqual(await getWithHost(p, 'a b'), 200, 'a malformed Host');
  // Node answers 400 to a request without Host before it reaches the app
  assert.notEqual(await getWithHost(p, undefined), 200);
});

test('Host check: any IP literal when listening on all addresses, names only when allowed', () => {
  const all = { host: '0.0.0.0', port: 9475 };
  assert.ok(hostAllowed('192.168.1.20:9475', all));
  assert.ok(hostAllowed('[fe80::1]:9475', all));
  assert.ok(!hostAllowed('192.168.1.20:9476', all));
  assert.ok(!hostAllowed('rebind.example:9475', all));
  assert.ok(hostAllowed('watch.monitoring.svc:9475', all, ['watch.monitoring.svc']));
  const one = { host: '10.0.0.5', port: 80 };
  assert.ok(hostAllowed('10.0.0.5', one), 'port 80 may be left out');
  assert.ok(!hostAllowed('10.0.0.6', one));
  assert.deepEqual(parseHostHeader('[::1]:9475'), { name: '::1', port: 9475 });
  assert.equal(parseHostHeader('x:y'), undefined);
});
