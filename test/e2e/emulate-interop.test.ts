/**
 * Interop of emulated services with the real python oslo.messaging (Debian package), both ways:
 * a real RPCClient calls an emulated conductor; an emulated compute calls a real RPC server; a
 * real notification listener receives emulated notifications; a real fanout reaches every
 * emulated compute. Each test has its own vhost.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ManagementClient } from '../../src/broker/management.ts';
import { startEmulation } from '../../src/emulate/emulator.ts';
import { parseScenario } from '../../src/emulate/scenario.ts';
import type { EmulationEvent } from '../../src/emulate/types.ts';

const PY = '/usr/bin/python3';
const HARNESS = fileURLToPath(new URL('../harness/interop_oslo.py', import.meta.url));
const mgmt = new ManagementClient({ url: 'http://guest:guest@127.0.0.1:15672' });

async function vhost(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const name = `rpcscope-emu-interop-${randomUUID().slice(0, 8)}`;
  await mgmt.putVhost(name);
  await mgmt.setPermissions(name, 'guest');
  t.after(async () => {
    await mgmt.deleteVhost(name).catch(() => {});
  });
  return name;
}

interface Py {
  readonly proc: ChildProcess;
  readonly lines: Record<string, unknown>[];
  /** Resolves with the first line matching. */
  waitFor(pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  readonly exited: Promise<number | null>;
}

function python(args: string[]): Py {
  const proc = spawn(PY, [HARNESS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    pred: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let l: Record<string, unknown>;
    try {
      l = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    lines.push(l);
    for (const w of [...waiters])
      if (w.pred(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return {
    proc,
    lines,
    exited,
    waitFor(pred) {
      const found = lines.find(pred);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ pred, resolve });
        exited
          .then(() => {
            setTimeout(() => reject(new Error(`python exited; stderr: ${stderr.slice(-2000)}`)), 200);
          })
          .catch(reject);
      });
    },
  };
}

const url = (v: string) => `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(v)}`;
const rabbitUrl = (v: string) => `rabbit://guest:guest@127.0.0.1:5672/${encodeURIComponent(v)}`;

test('a real oslo RPCClient calls an emulated conductor and gets its answer', async (t) => {
  const v = await vhost(t);
  const s = parseScenario(`version: 1
oslo: { controlExchange: nova }
services:
  - name: nova-conductor
    host: "conductor-{i}"
    topics: [conductor]
    serve: { delayMs: 1, replyBytes: 500 }
`);
  const events: EmulationEvent[] = [];
  const h = startEmulation(s, {
    amqpUrl: url(v),
    managementUrl: null,
    durationS: Number.POSITIVE_INFINITY,
    onEvent: (e) => events.push(e),
  });
  t.after(async () => {
    await h.stop();
  });
  await h.ready;
  const py = python([
    'call',
    '--url',
    rabbitUrl(v),
    '--topic',
    'conductor',
    '--method',
    'ping',
    '--timeout',
    '20',
  ]);
  const line = await py.waitFor((l) => 'ok' in l);
  await py.exited;
  const r = await h.stop();
  assert.equal(line.ok, true, JSON.stringify(line));
  const result = line.result as { pad?: string };
  assert.ok(typeof result.pad === 'string' && result.pad.length > 100, JSON.stringify(line).slice(0, 200));
  const got = events.find((e) => e.type === 'received' && e.method === 'ping');
  assert.ok(got !== undefined && got.type === 'received' && got.queue === 'conductor');
  assert.equal(r.accounting['reply/nova-conductor']?.sent, 1);
  assert.equal(r.accounting['reply/nova-conductor']?.confirmed, 1);
  assert.equal(r.services.connected, 1);
});

test('an emulated compute calls a real oslo RPC server', async (t) => {
  const v = await vhost(t);
  const py = python([
    'server',
    '--url',
    rabbitUrl(v),
    '--topic',
    'interop',
    '--server',
    'srv1',
    '--seconds',
    '30',
  ]);
  t.after(() => {
    py.proc.kill();
  });
  await py.waitFor((l) => l.ready === true);
  const s = parseScenario(`version: 1
oslo: { controlExchange: nova, rpcResponseTimeoutS: 20 }
services:
  - name: nova-compute
    host: "compute-{i}"
    topics: [compute]
    periodic:
      - { kind: call, topic: interop, server: srv1, method: ping, version: "1.0", periodS: 0.5, bytes: 800 }
      - { kind: call, topic: interop, method: object_action, object: Service.save, version: "1.0", periodS: 1, bytes: 1500 }
`);
  const r = await startEmulation(s, { amqpUrl: url(v), managementUrl: null, durationS: 3 }).result;
  const ping = r.methods['interop.ping'];
  const save = r.methods['interop.Service.save'];
  assert.ok(ping !== undefined && ping.ok >= 3, JSON.stringify(r.methods));
  assert.equal(ping.timeouts, 0);
  assert.equal(ping.remoteErrors, 0);
  assert.ok(save !== undefined && save.ok >= 1 && save.remoteErrors === 0, JSON.stringify(save));
  const seen = py.lines.filter((l) => l.received === 'ping');
  assert.ok(seen.length >= ping.ok);
  assert.equal(seen[0]!.host, 'compute-1');
  assert.match(String(seen[0]!.request_id), /^req-/);
  assert.ok(
    py.lines.some((l) => l.received === 'object_action' && l.object === 'Service' && l.objmethod === 'save'),
  );
});

test('a real oslo notification listener receives emulated notifications', async (t) => {
  const v = await vhost(t);
  const py = python([
    'notify-listen',
    '--url',
    rabbitUrl(v),
    '--topic',
    'notifications',
    '--count',
    '3',
    '--seconds',
    '60',
  ]);
  t.after(() => {
    py.proc.kill();
  });
  await py.waitFor((l) => l.ready === true);
  const s = parseScenario(`version: 1
oslo: { controlExchange: nova }
services:
  - name: nova-compute
    host: "compute-{i}"
    periodic:
      - { kind: notification, topic: notifications, method: update, eventType: compute.instance.update, periodS: 0.3, bytes: 1200 }
`);
  const r = await startEmulation(s, { amqpUrl: url(v), managementUrl: null, durationS: 2 }).result;
  const done = await py.waitFor((l) => l.done === true);
  assert.ok(Number(done.count) >= 3);
  const n = py.lines.filter((l) => l.event_type !== undefined);
  assert.equal(n[0]!.event_type, 'compute.instance.update');
  assert.equal(n[0]!.publisher_id, 'compute.compute-1');
  assert.equal(n[0]!.priority, 'info');
  assert.deepEqual(n[0]!.payload_keys, ['host', 'pad']);
  assert.ok((r.accounting['notification/nova-compute']?.confirmed ?? 0) >= 3);
});

test('a real oslo fanout reaches every emulated compute', async (t) => {
  const v = await vhost(t);
  const s = parseScenario(`version: 1
oslo: { controlExchange: nova }
services:
  - name: nova-compute
    count: 3
    host: "compute-{i}"
    topics: [compute]
`);
  const received: Extract<EmulationEvent, { type: 'received' }>[] = [];
  let all: () => void = () => {};
  const three = new Promise<void>((r) => {
    all = r;
  });
  const h = startEmulation(s, {
    amqpUrl: url(v),
    managementUrl: null,
    durationS: Number.POSITIVE_INFINITY,
    onEvent: (e) => {
      if (e.type === 'received' && e.method === 'refresh') {
        received.push(e);
        if (received.length === 3) all();
      }
    },
  });
  t.after(async () => {
    await h.stop();
  });
  await h.ready;
  const py = python(['fanout', '--url', rabbitUrl(v), '--topic', 'compute', '--method', 'refresh']);
  assert.equal(await py.exited, 0);
  await three;
  await h.stop();
  assert.deepEqual(received.map((e) => e.service).sort(), ['compute-1', 'compute-2', 'compute-3']);
  for (const e of received) assert.match(e.queue, /^compute_fanout_[0-9a-f]{32}$/);
  assert.equal(new Set(received.map((e) => e.uniqueId)).size, 1);
});
