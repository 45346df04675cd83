/**
 * A broker that refuses connections, or goes away mid-run: the emulation ends with a clear
 * message and the result measured so far, never an exception. The "death" is a loopback TCP
 * proxy in front of the shared broker being closed (the shared broker itself is left alone).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { ManagementClient } from '../../src/broker/management.ts';
import { startEmulation } from '../../src/emulate/emulator.ts';
import { parseScenario } from '../../src/emulate/scenario.ts';
import type { EmulationEvent } from '../../src/emulate/types.ts';

const scenario = parseScenario(`version: 1
oslo: { controlExchange: nova, rpcResponseTimeoutS: 2 }
services:
  - name: nova-compute
    count: 3
    topics: [compute]
    periodic:
      - { kind: call, topic: conductor, method: object_action, object: Service.save, periodS: 0.2 }
  - name: nova-conductor
    topics: [conductor]
`);

test('a broker that refuses connections gives a clear message and a partial result', async () => {
  const r = await startEmulation(scenario, {
    amqpUrl: 'amqp://guest:guest@127.0.0.1:1/',
    managementUrl: null,
    durationS: 5,
  }).result;
  assert.equal(r.complete, false);
  assert.equal(r.stoppedBy, 'broker');
  assert.equal(r.services.connected, 0);
  assert.match(r.errors[0]!, /cannot connect to amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1\/: .*ECONNREFUSED/);
});

test('a broker that goes away mid-run: reconnects with backoff, partial result, no crash', async (t) => {
  const mgmt = new ManagementClient({ url: 'http://guest:guest@127.0.0.1:15672' });
  const vhost = `rpcscope-emu-failure-${randomUUID().slice(0, 8)}`;
  await mgmt.putVhost(vhost);
  await mgmt.setPermissions(vhost, 'guest');
  const sockets = new Set<Socket>();
  const proxy = createServer((c) => {
    const up = connect(5672, '127.0.0.1');
    sockets.add(c);
    sockets.add(up);
    c.pipe(up).pipe(c);
    const drop = () => {
      c.destroy();
      up.destroy();
    };
    c.on('error', drop);
    up.on('error', drop);
    c.on('close', drop);
    up.on('close', drop);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const port = (proxy.address() as { port: number }).port;
  t.after(async () => {
    proxy.close();
    for (const s of sockets) s.destroy();
    await mgmt.deleteVhost(vhost).catch(() => {});
  });
  const events: EmulationEvent[] = [];
  const h = startEmulation(scenario, {
    amqpUrl: `amqp://guest:guest@127.0.0.1:${port}/${vhost}`,
    managementUrl: null,
    durationS: 6,
    onEvent: (e) => events.push(e),
  });
  await h.ready;
  // let some calls succeed, then the "broker" vanishes: listener closed, connections cut
  await new Promise((r) => setTimeout(r, 1500));
  proxy.close();
  for (const s of sockets) s.destroy();
  const r = await h.result;
  assert.equal(r.services.connected, 4);
  assert.equal(r.services.upAtEnd, 0);
  assert.equal(r.complete, false);
  assert.ok((r.methods['conductor.Service.save']?.ok ?? 0) > 0, 'calls answered before the failure');
  assert.ok(r.reconnects >= 4, `reconnects ${r.reconnects}`);
  assert.ok(r.errors.some((e) => /connection lost/.test(e)));
  const delays = events
    .filter((e) => e.type === 'reconnect')
    .map((e) => (e.type === 'reconnect' ? e.delayMs : 0));
  assert.ok(delays.includes(1000) && delays.includes(3000), `oslo backoff 1 s, 3 s...: ${delays.join(',')}`);
});
