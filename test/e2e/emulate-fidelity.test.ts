/**
 * Fidelity: a model taken from the real nova captures (data/nova-zed), emulated on a
 * real broker, captured with rabbitmq_tracing and decoded by rpcscope, gives back the model's
 * rates per (kind, topic, method) within 5 % and the queue topology real nova had.
 *
 * To keep CI short the scenario runs with speed-up 20 (every period and operation interval ÷ 20;
 * server delays and timeouts unchanged) for a 40 s steady state, 20 computes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { buildSpec } from '../../src/analyse/spec.ts';
import { loadSpecInput } from '../../src/analyse/spec-load.ts';
import { ManagementClient } from '../../src/broker/management.ts';
import { specResolver } from '../../src/correlate/spec-services.ts';
import { runEmulation } from '../../src/emulate/emulator.ts';
import { modelFromSpec, wireFacts } from '../../src/emulate/model.ts';
import { expectedRates, rateKey } from '../../src/emulate/rates.ts';
import { parseScenario } from '../../src/emulate/scenario.ts';
import { loadCaptures } from '../../src/pipeline/load.ts';
import type { RpcMessage } from '../../src/records.ts';

const FIX = new URL('../../data/nova-zed/', import.meta.url);
const files = ['idle', 'boot', 'stop', 'start', 'delete'].map(
  (s) => new URL(`${s}.tracing.json`, FIX).pathname,
);
const mgmt = new ManagementClient({ url: 'http://guest:guest@127.0.0.1:15672' });

/** Queue name shape: hosts and uuids abstracted, so real and emulated names compare. */
function shape(q: string): string {
  if (q.startsWith('amq.gen-')) return 'amq.gen';
  const id = q.replace(/_[0-9a-f]{32}$/, '_<id>');
  if (id !== q) return id;
  const m = /^([a-z_]+)\.(.+)$/.exec(q);
  if (m !== null && !['info', 'error', 'warn', 'audit', 'debug', 'critical', 'sample'].includes(m[2]!))
    return `${m[1]}.<host>`;
  return q;
}

/** (kind, topic, method) of a published request as the issue counts rates. */
function keyOf(m: RpcMessage): string | undefined {
  if (m.wire.event !== 'publish') return undefined;
  if (m.kind === 'notification')
    return rateKey({ kind: 'notification', topic: m.topic, method: m.eventType ?? '' });
  if (m.kind === 'call' || m.kind === 'cast' || m.kind === 'fanout')
    return rateKey({ kind: m.kind, topic: m.topic, method: m.method ?? '' });
  return undefined;
}

test('emulated traffic matches the model built from real nova captures', async (t) => {
  // 1. the model, from the real captures, through YAML (what `rpcscope model` writes)
  // as `rpcscope model` does: one load per file
  const real = await loadSpecInput(files);
  const spec = buildSpec(real, { resolve: specResolver(real) });
  const vhost = `rpcscope-emu-fidelity-${randomUUID().slice(0, 8)}`;
  const url = `amqp://guest:guest@127.0.0.1:5672/${vhost}`;
  const input = modelFromSpec(spec, {
    ...wireFacts(real.messages),
    computes: 20,
    defaultRatePerMinute: 3,
    speedup: 20,
    brokerUrl: url,
  });
  const scenario = parseScenario(stringify(input), 'model.yaml');
  assert.ok(scenario.operations.length >= 4, 'boot, stop, start, delete found');

  // 2. a vhost with a rabbitmq_tracing trace of everything
  await mgmt.putVhost(vhost);
  await mgmt.setPermissions(vhost, 'guest');
  const trace = `rpcscope-fidelity-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-fidelity-'));
  t.after(async () => {
    await mgmt.deleteTrace(vhost, trace).catch(() => {});
    await mgmt.deleteTraceFile(`${trace}.log`).catch(() => {});
    await mgmt.deleteVhost(vhost).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  await mgmt.putTrace(vhost, trace, { format: 'json', pattern: '#' });

  // 3. emulate, remembering when the steady state ran and which queues the broker holds
  let steadyFrom = 0;
  let steadyTo = 0;
  let brokerQueues: Awaited<ReturnType<typeof mgmt.queues>> = [];
  const result = await runEmulation(scenario, {
    managementUrl: null,
    durationS: 40,
    onEvent: (e) => {
      if (e.type === 'phase' && e.phase === 'steady') steadyFrom = e.ts;
      if (e.type === 'phase' && e.phase === 'teardown') steadyTo = e.ts;
      if (e.type === 'sample' && e.sample.phase === 'steady' && brokerQueues.length === 0)
        mgmt.queues(vhost).then(
          (q) => {
            brokerQueues = q;
          },
          () => {},
        );
    },
    sampleIntervalS: 5,
  });
  await mgmt.deleteTrace(vhost, trace);
  assert.equal(result.services.failed, 0, result.errors.join('\n'));
  const log = await mgmt.traceFile(`${trace}.log`);
  const logPath = join(dir, 'emulated.tracing.json');
  writeFileSync(logPath, log);

  // 4. rpcscope reads the emulated traffic back
  const got = await loadCaptures([logPath]);
  const windowS = (steadyTo - steadyFrom) / 1000;
  const counts = new Map<string, number>();
  for (const m of got.messages) {
    if (m.wire.ts < steadyFrom || m.wire.ts > steadyTo) continue;
    const k = keyOf(m);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  // expected per (kind, topic, method): the object dimension summed
  const expected = new Map<string, number>();
  for (const [k, r] of expectedRates(scenario)) {
    const [kind, topic, method] = k.split(' ') as [string, string, string];
    const kk = `${kind} ${topic} ${method}`;
    expected.set(kk, (expected.get(kk) ?? 0) + r);
  }
  const table: string[] = [];
  for (const [k, r] of expected) {
    const n = counts.get(k) ?? 0;
    const measured = n / windowS;
    table.push(`${k}: model ${r.toFixed(3)}/s measured ${measured.toFixed(3)}/s (${n} msgs)`);
  }
  const report = `${table.join('\n')}\nemulator: max scheduler lag ${(result.emulator.maxSchedulerLagMs ?? 0).toFixed(0)} ms, mean CPU ${(result.emulator.meanCpu * 100).toFixed(0)} % (a large lag means this machine starved the emulator of CPU)`;
  for (const [k, r] of expected) {
    const measured = (counts.get(k) ?? 0) / windowS;
    assert.ok(Math.abs(measured - r) / r <= 0.05, `${k} off by more than 5 %:\n${report}`);
  }
  for (const k of counts.keys()) assert.ok(expected.has(k), `unexpected ${k} in the emulated capture`);
  process.stderr.write(`fidelity (${windowS.toFixed(1)} s steady, speed-up 20):\n${report}\n`);

  // 5. queue topology: the queues messages were routed to, and their declarations
  const realRecords = files.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { type: string; routed_queues: string[] | string }),
  );
  const routedShapes = (recs: { type: string; routed_queues: string[] | string }[]) =>
    new Set(
      recs
        .filter((r) => r.type === 'published' && Array.isArray(r.routed_queues))
        .flatMap((r) => (r.routed_queues as string[]).map(shape)),
    );
  const emuRecords = log
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type: string; routed_queues: string[] | string });
  assert.deepEqual([...routedShapes(emuRecords)].sort(), [...routedShapes(realRecords)].sort());

  const realPcaps = ['idle', 'boot', 'stop', 'start', 'delete'].map(
    (s) => new URL(`${s}.pcap`, FIX).pathname,
  );
  const realTopo = await loadCaptures(realPcaps);
  const declared = new Map<
    string,
    { durable: boolean; autoDelete: boolean; arguments: Record<string, unknown> }
  >();
  for (const e of realTopo.topology)
    if (e.type === 'queue-declare' && !e.queue.startsWith('amq.gen'))
      declared.set(shape(e.queue), { durable: e.durable, autoDelete: e.autoDelete, arguments: e.arguments });
  assert.ok(declared.size >= 2, 'real declarations seen in the pcaps');
  assert.ok(brokerQueues.length > 0, 'sampled the broker queues during the run');
  for (const [s, d] of declared) {
    const q = brokerQueues.find((x) => shape(x.name) === s);
    assert.ok(q !== undefined, `emulation declared no ${s}`);
    assert.deepEqual(
      { durable: q.durable, autoDelete: q.auto_delete, arguments: q.arguments },
      d,
      `declaration of ${s} differs from real nova`,
    );
  }
});
