/**
 * Fidelity of emulated neutron (Zed) against the real rig's footprint
 * (test/fixtures/neutron-rig/README.md, measured from the management API): a scenario modelled
 * from the rig's captures, N = 3 hypervisors, in a vhost of its own. Per OVS agent: 13
 * connections, 34 queues (11 topic / 11 topic.<host> / 11 fanout / 1 reply, fanout and reply with
 * x-expires 1,800,000 ms), 33 bindings, report_state 2 a minute; everything gone afterwards.
 * Interop both ways with the real python oslo.messaging (test/harness/interop_oslo.py).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { buildSpec } from '../../src/analyse/spec.ts';
import { loadSpecInput } from '../../src/analyse/spec-load.ts';
import { ManagementClient } from '../../src/broker/management.ts';
import { specResolver } from '../../src/correlate/spec-services.ts';
import { runEmulation, startEmulation } from '../../src/emulate/emulator.ts';
import { modelFromSpec, wireFacts } from '../../src/emulate/model.ts';
import { OVS_TOPICS, ZED_FOOTPRINT } from '../../src/emulate/neutron.ts';
import { parseScenario, type Scenario } from '../../src/emulate/scenario.ts';
import type { EmulationEvent } from '../../src/emulate/types.ts';

const MGMT = 'http://127.0.0.1:15672';
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const mgmt = new ManagementClient({ url: 'http://guest:guest@127.0.0.1:15672' });
const FIX = new URL('../fixtures/neutron-rig/', import.meta.url);
const HV = 3;

async function api<T>(path: string): Promise<T> {
  const r = await fetch(`${MGMT}/api/${path}`, { headers: { authorization: AUTH } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

interface Conn {
  readonly name: string;
  readonly client_properties?: { connection_name?: string };
}
interface Q {
  readonly name: string;
  readonly arguments: Record<string, unknown>;
  readonly consumers?: number;
}
interface Consumer {
  readonly queue: { name: string };
  /** Empty (`[]`) until the channel's stats are emitted. */
  readonly channel_details?: { connection_name?: string };
}
interface Binding {
  readonly source: string;
  readonly destination: string;
  readonly routing_key: string;
}

async function vhost(t: { after: (fn: () => Promise<void>) => void }, tag: string): Promise<string> {
  const name = `rpcscope-emu-neutron-${tag}-${randomUUID().slice(0, 8)}`;
  await mgmt.putVhost(name);
  await mgmt.setPermissions(name, 'guest');
  t.after(async () => {
    await mgmt.deleteVhost(name).catch(() => {});
  });
  return name;
}

/** The management API lists connections and consumers a moment after they open: poll. */
async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function neutronModel(url: string): Promise<Scenario> {
  const files = ['idle', 'port-update', 'agent-restart'].map(
    (s) => new URL(`${s}.neutron.tracing.json`, FIX).pathname,
  );
  const real = await loadSpecInput(files);
  const spec = buildSpec(real, { resolve: specResolver(real) });
  const input = modelFromSpec(spec, {
    ...wireFacts(real.messages),
    computes: HV,
    defaultRatePerMinute: 0,
    brokerUrl: url,
  });
  return parseScenario(stringify(input));
}

test('emulated neutron (Zed), 3 hypervisors: the rig footprint per OVS agent, report_state rate, cleanup', async (t) => {
  const vh = await vhost(t, 'fid');
  const url = `amqp://guest:guest@127.0.0.1:5672/${vh}`;
  const scenario = await neutronModel(url);
  const ovs = scenario.services.find((s) => s.name === 'neutron-openvswitch-agent')!;
  assert.equal(ovs.count, HV);
  assert.deepEqual([...ovs.topics].sort(), [...OVS_TOPICS].sort());
  const meta = JSON.parse(readFileSync(new URL('idle.meta.json', FIX), 'utf8')) as {
    snapshot_end: { neutron: { connections: { connection_name: string | null }[] } };
  };
  const realOvsConns = meta.snapshot_end.neutron.connections.filter((c) =>
    c.connection_name?.startsWith('neutron-openvswitch-agent:'),
  ).length;
  assert.equal(realOvsConns, ZED_FOOTPRINT['neutron-openvswitch-agent'].connections);

  // speedup 4, 30 s steady: 2 minutes of report_state (period 7.5 s)
  const speedup = 4;
  const steadyS = 30;
  const reports = new Map<string, number>();
  const h = startEmulation(
    { ...scenario, speedup },
    {
      durationS: steadyS,
      managementUrl: null,
      onEvent: (e: EmulationEvent) => {
        if (e.type === 'received' && e.method === 'report_state' && e.group === 'neutron-server')
          reports.set('all', (reports.get('all') ?? 0) + 1);
      },
    },
  );
  await h.ready;
  const conns = await until(
    () => api<Conn[]>(`vhosts/${encodeURIComponent(vh)}/connections`),
    (c) =>
      c.filter((x) => x.client_properties?.connection_name?.startsWith('neutron-openvswitch-agent:'))
        .length >=
      13 * HV,
  );
  const byBinary = (b: string) =>
    conns.filter((c) => c.client_properties?.connection_name?.startsWith(`${b}:`)).length;
  assert.equal(byBinary('neutron-openvswitch-agent'), 13 * HV, 'OVS agent: 13 connections each');
  assert.equal(byBinary('neutron-metadata-agent'), 2 * HV, 'metadata agent: 2 connections each');
  assert.equal(byBinary('neutron-dhcp-agent'), ZED_FOOTPRINT['neutron-dhcp-agent'].connections);
  assert.equal(byBinary('neutron-l3-agent'), ZED_FOOTPRINT['neutron-l3-agent'].connections);

  // queues consumed by OVS agent connections, by kind
  const ovsConns = new Set(
    conns
      .filter((c) => c.client_properties?.connection_name?.startsWith('neutron-openvswitch-agent:'))
      .map((c) => c.name),
  );
  // a consumer is listed before its channel's details are (empty until the next stats emission):
  // wait until every OVS consumer names its connection
  const consumers = await until(
    () => api<Consumer[]>(`consumers/${encodeURIComponent(vh)}`),
    (c) => c.filter((x) => ovsConns.has(x.channel_details?.connection_name ?? '')).length >= 34 * HV,
  );
  const queues = await api<Q[]>(`queues/${encodeURIComponent(vh)}`);
  const bindings = await api<Binding[]>(`bindings/${encodeURIComponent(vh)}`);
  const qByName = new Map(queues.map((q) => [q.name, q]));
  const ovsQueues = new Set(
    consumers.filter((c) => ovsConns.has(c.channel_details?.connection_name ?? '')).map((c) => c.queue.name),
  );
  const kinds = { topic: 0, host: 0, fanout: 0, reply: 0 };
  for (const q of ovsQueues) {
    if (q.startsWith('reply_')) kinds.reply++;
    else if (/_fanout_[0-9a-f]{32}$/.test(q)) kinds.fanout++;
    else if (OVS_TOPICS.includes(q)) kinds.topic++;
    else kinds.host++;
  }
  // 11 topic queues shared by every agent; per agent 11 topic.<host>, 11 fanout, 1 reply = 34 each
  assert.deepEqual(kinds, { topic: 11, host: 11 * HV, fanout: 11 * HV, reply: HV });
  for (let i = 1; i <= HV; i++) {
    const host = `compute-${String(i).padStart(5, '0')}`;
    const own = [...ovsQueues].filter((q) => q.endsWith(`.${host}`));
    assert.equal(own.length, 11, `${host}: 11 topic.<host> queues`);
  }
  for (const q of ovsQueues)
    if (q.startsWith('reply_') || q.includes('_fanout_'))
      assert.equal(qByName.get(q)?.arguments['x-expires'], 1_800_000, `${q}: x-expires`);
    else assert.deepEqual(qByName.get(q)?.arguments, {}, `${q}: no arguments`);
  // bindings (default exchange left out, as the rig's footprint counts them): 33 per agent,
  // the 11 topic-queue bindings shared
  const ovsBindings = bindings.filter((b) => b.source !== '' && ovsQueues.has(b.destination));
  assert.equal(ovsBindings.length, 11 + 22 * HV);
  assert.equal(11 + 22, ZED_FOOTPRINT['neutron-openvswitch-agent'].bindings);

  const r = await h.result;
  assert.equal(r.errors.length, 0, r.errors.join('\n'));
  // report_state per minute of the model's time, per agent (OVS 3, metadata 3 casts, DHCP, L3)
  const agents = HV * 2 + 2;
  const minutes = (r.steadyS * speedup) / 60;
  const perAgentPerMin = (reports.get('all') ?? 0) / agents / minutes;
  assert.ok(
    Math.abs(perAgentPerMin - 2) / 2 <= 0.05,
    `report_state ${perAgentPerMin.toFixed(3)}/min per agent (rig: 2)`,
  );
  const rs = r.methods['q-reports-plugin.report_state'];
  assert.ok(rs !== undefined && rs.ok > 0 && rs.timeouts === 0, 'report_state calls answered');

  // cleanup: no queue, no connection left in the vhost
  const left = await until(
    async () => ({
      q: await api<Q[]>(`queues/${encodeURIComponent(vh)}`),
      c: await api<Conn[]>(`vhosts/${encodeURIComponent(vh)}/connections`),
    }),
    (v) => v.q.length === 0 && v.c.length === 0,
  );
  assert.deepEqual(
    left.q.map((q) => q.name),
    [],
  );
  assert.equal(left.c.length, 0);
});

// ---- interop with the real python oslo.messaging

const PY = '/usr/bin/python3';
const HARNESS = fileURLToPath(new URL('../harness/interop_oslo.py', import.meta.url));

function python(args: string[]): { proc: ChildProcess; lines: Promise<Record<string, unknown>[]> } {
  const proc = spawn(PY, [HARNESS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const lines = new Promise<Record<string, unknown>[]>((resolve) => {
    proc.on('exit', () =>
      resolve(
        out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      ),
    );
  });
  return { proc, lines };
}

test('interop: a real oslo.messaging client calls report_state on the emulated neutron-server; a real server answers an emulated OVS agent', async (t) => {
  const vh = await vhost(t, 'interop');
  const url = `amqp://guest:guest@127.0.0.1:5672/${vh}`;
  const rabbit = `rabbit://guest:guest@127.0.0.1:5672/${vh}`;
  // 1. real client → emulated neutron-server
  const server = parseScenario(
    stringify({
      version: 1,
      broker: { url },
      oslo: { controlExchange: 'neutron' },
      services: [
        {
          name: 'neutron-server',
          host: 'controller-{i}',
          topics: ['q-reports-plugin', 'q-plugin'],
          connections: { reply: false, send: 2 },
        },
      ],
    }),
  );
  const h = startEmulation(server, { durationS: Number.POSITIVE_INFINITY, managementUrl: null });
  await h.ready;
  const py = python([
    'call',
    '--url',
    rabbit,
    '--exchange',
    'neutron',
    '--topic',
    'q-reports-plugin',
    '--method',
    'report_state',
  ]);
  const lines = await py.lines;
  await h.stop();
  const res = lines.at(-1);
  assert.equal(res?.ok, true, JSON.stringify(res));

  // 2. emulated OVS agent → real RPC server on q-reports-plugin whose endpoint parses report_state
  // as neutron's AgentExtRpcCallback does (the time format, the nested agent_state's keys) and
  // answers 'new' / 'alive': every call must succeed, none may be a remote error
  const realSrv = python([
    'server',
    '--url',
    rabbit,
    '--exchange',
    'neutron',
    '--topic',
    'q-reports-plugin',
    '--server',
    'controller-1',
    '--seconds',
    '25',
  ]);
  await new Promise((r) => setTimeout(r, 4000));
  const agent = parseScenario(
    stringify({
      version: 1,
      broker: { url },
      oslo: { controlExchange: 'neutron' },
      speedup: 6,
      services: [
        {
          name: 'neutron-openvswitch-agent',
          host: 'compute-{i}',
          topics: [...OVS_TOPICS],
          connections: { reply: true, send: 1 },
          periodic: [
            {
              kind: 'call',
              topic: 'q-reports-plugin',
              method: 'report_state',
              version: '1.2',
              periodS: 30,
              timeoutS: 30,
              bytes: 2581,
            },
          ],
        },
      ],
    }),
  );
  const r = await runEmulation(agent, { durationS: 12, managementUrl: null });
  realSrv.proc.kill('SIGTERM');
  const srvLines = await realSrv.lines;
  const m = r.methods['q-reports-plugin.report_state'];
  assert.ok(m !== undefined && m.calls >= 1, 'the agent called report_state');
  assert.equal(m.timeouts, 0, 'answered by the real oslo.messaging server');
  assert.equal(m.remoteErrors, 0, 'the real report_state endpoint accepted every payload');
  assert.equal(m.ok, m.calls - (r.pendingCallsAtEnd ?? 0), 'every report_state call succeeded');
  const got = srvLines.filter((l) => l.received === 'report_state');
  assert.ok(got.length >= m.ok, `the real server handled ${got.length} report_state calls`);
  for (const l of got) {
    assert.equal(l.binary, 'neutron-openvswitch-agent');
    assert.equal(l.agent_type, 'Open vSwitch agent');
    assert.match(String(l.host), /^compute-/);
  }
  assert.equal(got[0]?.status, 'new', 'the first report registers the agent');
});
