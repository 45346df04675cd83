import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { FaultProxy } from './proxy.ts';
import { releaseAt, slices } from './toxics.ts';

function server(handler: (s: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve) => {
    const s = net.createServer((c) => {
      c.on('error', () => {});
      handler(c);
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

function roundTrip(port: number, payload: string): Promise<{ text: string; ms: number; closed: boolean }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const c = net.connect(port, '127.0.0.1');
    let text = '';
    const done = (closed: boolean) => {
      resolve({ text, ms: performance.now() - t0, closed });
      c.destroy();
    };
    c.on('data', (d) => {
      text += d.toString();
      if (text.length >= payload.length) done(false);
    });
    c.on('close', () => done(true));
    c.on('error', () => {});
    c.write(payload);
  });
}

test('toxic planning: latency and bandwidth compose, order kept, slices sum up', () => {
  const r = () => 0.5;
  assert.equal(releaseAt([{ type: 'latency', latencyMs: 100, jitterMs: 20 }], 1000, 10, 0, r), 1100);
  assert.equal(releaseAt([{ type: 'latency', latencyMs: 100 }], 1000, 10, 1500, r), 1500);
  assert.equal(releaseAt([{ type: 'bandwidth', rateKBps: 1 }], 0, 1024, 0, r), 1000);
  const s = slices(1000, 64, 16, Math.random);
  assert.equal(
    s.reduce((a, b) => a + b, 0),
    1000,
  );
  assert.ok(s.every((n) => n >= 1 && n <= 80));
});

test('proxy: passes bytes, adds latency, fails over past a dead upstream', async (t) => {
  const dead = await server((s) => s.destroy());
  const echo = await server((s) => s.pipe(s));
  const p = new FaultProxy({
    name: 'test',
    upstreams: [
      { host: '127.0.0.1', port: portOf(dead), label: 'dead' },
      { host: '127.0.0.1', port: portOf(echo), label: 'echo' },
    ],
  });
  const port = await p.listen();
  t.after(async () => {
    await p.close();
    dead.close();
    echo.close();
  });
  const a = await roundTrip(port, 'AMQP\x00\x00\x09\x01');
  assert.equal(a.text, 'AMQP\x00\x00\x09\x01');
  assert.equal(p.connects.get('echo'), 1);
  assert.equal(p.connects.get('dead'), undefined);

  p.addToxic('slow', 'downstream', { type: 'latency', latencyMs: 150 });
  const b = await roundTrip(port, 'hello');
  assert.equal(b.text, 'hello');
  assert.ok(b.ms >= 148, `latency toxic applied (${b.ms} ms)`);
  p.removeToxic('slow');

  p.addToxic('cut', 'upstream', { type: 'limit_data', bytes: 3 });
  const c = await roundTrip(port, 'abcdef');
  assert.equal(c.closed, true);
  assert.ok(c.text.length <= 3);
  p.removeToxic('cut');

  p.addToxic('slice', 'both', { type: 'slicer', avgSize: 2, sizeVariation: 1 });
  const d = await roundTrip(port, 'sliced-message');
  assert.equal(d.text, 'sliced-message');
});

test('proxy: blackhole holds data until removed, reset closes connections', async (t) => {
  const echo = await server((s) => s.pipe(s));
  const p = new FaultProxy({
    name: 'bh',
    upstreams: [{ host: '127.0.0.1', port: portOf(echo), label: 'echo' }],
  });
  const port = await p.listen();
  t.after(async () => {
    await p.close();
    echo.close();
  });
  // establish first (the broker must answer before toxics of the stream apply)
  const c = net.connect(port, '127.0.0.1');
  c.on('error', () => {});
  const got: string[] = [];
  c.on('data', (d) => got.push(d.toString()));
  c.write('x');
  await new Promise((r) => c.once('data', r));
  p.addToxic('hole', 'upstream', { type: 'timeout', timeoutMs: 0 });
  c.write('held');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(got, ['x'], 'nothing passes the blackhole');
  p.removeToxic('hole');
  await new Promise((r) => c.once('data', r));
  assert.equal(got.join(''), 'xheld');
  const closed = new Promise((r) => c.once('close', r));
  p.addToxic('rst', 'both', { type: 'reset_peer', timeoutMs: 10 });
  await closed;
  for (let i = 0; i < 200 && p.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(p.connections, 0);
});
