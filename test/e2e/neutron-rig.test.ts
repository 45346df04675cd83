/**
 * Captures of rpcscope's nova + neutron rig (scripts/rig-neutron, scripts/ci-neutron.sh): a real
 * neutron-server (Zed 21.0.0, ML2/openvswitch) with its OVS, DHCP, L3 and metadata agents and a real
 * nova on one RabbitMQ, vhosts `nova` and `neutron`, recorded per scenario as one pcap (both vhosts),
 * one rabbitmq_tracing log per vhost and a meta file with management-API snapshots.
 *
 * Checks what every later neutron feature stands on: each pcap decodes without a skipped byte, each
 * scenario put messages through the neutron vhost, the broker shows the OVS agent's Zed footprint
 * (13 connections, 34 queues), and a server boot crosses both vhosts, neutron telling nova that the
 * VIF is plugged (`external_instance_event` cast carrying `network-vif-plugged`).
 *
 * Inputs: with RPCSCOPE_NEUTRON_CAPTURES=<dir> (set by scripts/ci-neutron.sh) the fresh captures of
 * a live rig; otherwise the recordings in test/fixtures/neutron-rig.
 *
 * With RPCSCOPE_NEUTRON_RIG_API=<neutron API base> (scripts/ci-neutron.sh, the rig still up) also
 * the real neutron-server under emulated agents (bench/neutron-server.bench.ts, CI-sized): 5
 * emulated OVS agents on oslo's 13-connection layout register through report_state, the agents
 * API shows them alive, every report_state succeeds; then their rows are deleted.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  deleteAgents,
  EMU_PREFIX,
  listAgents,
  realServerScenario,
  rigAmqpUrl,
} from '../../bench/neutron-server.bench.ts';
import { startEmulation } from '../../src/emulate/emulator.ts';
import { ReportAccumulator } from '../../src/outputs/report.ts';
import { type Loaded, loadCaptures } from '../../src/pipeline/load.ts';

const DIR =
  process.env.RPCSCOPE_NEUTRON_CAPTURES ?? new URL('../fixtures/neutron-rig/', import.meta.url).pathname;
const SCENARIOS = [
  'idle',
  'network-create',
  'subnet-create',
  'port-create',
  'port-update',
  'security-group-rule-create',
  'router-create',
  'router-interface-add',
  'floatingip-create',
  'floatingip-delete',
  'router-interface-remove',
  'port-delete',
  'server-create',
  'server-delete',
  'network-delete',
  'agent-restart',
];
const NOVA = 'nova';
const NEUTRON = 'neutron';

interface SnapConnection {
  name: string;
  peer_port: number;
  connection_name: string | null;
}
interface SnapQueue {
  name: string;
  consumers: number;
  consumed_by: string[];
}
interface VhostSnapshot {
  connections: SnapConnection[];
  queues: SnapQueue[];
}
interface Meta {
  scenario: string;
  rc: number;
  vhosts: string[];
  snapshot_start: Record<string, VhostSnapshot>;
  snapshot_end: Record<string, VhostSnapshot>;
}

function meta(s: string): Meta {
  return JSON.parse(readFileSync(`${DIR}/${s}.meta.json`, 'utf8')) as Meta;
}

/** Client port -> vhost from the broker's connection list at start and end of the recording. */
function portVhosts(m: Meta): Map<number, string> {
  const out = new Map<number, string>();
  for (const snap of [m.snapshot_start, m.snapshot_end])
    for (const [vhost, st] of Object.entries(snap))
      for (const c of st.connections) out.set(c.peer_port, vhost);
  return out;
}

/**
 * The vhost of a decoded message: its Connection.Open when the pcap has it, else the broker's
 * connection list (a capture that starts mid-connection never sees the open).
 */
function vhostOf(msg: Loaded['messages'][number], ports: Map<number, string>): string | undefined {
  const c = msg.wire.connection;
  if (c === undefined) return undefined;
  if (c.vhost !== undefined) return c.vhost.replace(/^\//, '');
  return ports.get(Number(c.client.split(':').pop()));
}

const loaded = new Map<string, { loaded: Loaded; skippedBytes: number }>();
async function pcap(s: string): Promise<{ loaded: Loaded; skippedBytes: number }> {
  const hit = loaded.get(s);
  if (hit !== undefined) return hit;
  const acc = new ReportAccumulator();
  const l = await loadCaptures([`${DIR}/${s}.pcap`], { sinks: [acc] });
  const out = { loaded: l, skippedBytes: acc.result(l).skipped.bytes };
  loaded.set(s, out);
  return out;
}

function tracing(s: string, vhost: string): { vhost: string; routing_keys?: string[]; payload?: string }[] {
  return readFileSync(`${DIR}/${s}.${vhost}.tracing.json`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { vhost: string; routing_keys?: string[]; payload?: string });
}

test('every scenario was recorded: pcap, one tracing log per vhost, meta; the command succeeded', () => {
  for (const s of SCENARIOS) {
    for (const f of [
      `${s}.pcap`,
      `${s}.${NOVA}.tracing.json`,
      `${s}.${NEUTRON}.tracing.json`,
      `${s}.meta.json`,
    ])
      assert.ok(existsSync(`${DIR}/${f}`), `${f} exists`);
    const m = meta(s);
    assert.equal(m.rc, 0, `${s}: the scenario's command exited 0`);
    assert.deepEqual(m.vhosts, [NOVA, NEUTRON]);
  }
});

test('every pcap decodes with 0 skipped bytes and has messages in the neutron vhost', async () => {
  for (const s of SCENARIOS) {
    const { loaded: l, skippedBytes } = await pcap(s);
    assert.equal(skippedBytes, 0, `${s}: no skipped bytes`);
    const ports = portVhosts(meta(s));
    const neutron = l.messages.filter((m) => vhostOf(m, ports) === NEUTRON);
    assert.ok(neutron.length > 0, `${s}: messages in the neutron vhost (${l.messages.length} in all)`);
    // the tracing log of the neutron vhost agrees that the broker carried neutron messages
    assert.ok(tracing(s, NEUTRON).length > 0, `${s}: neutron tracing records`);
  }
});

test('the broker shows the OVS agent of Zed: 13 connections, 34 queues it consumes', () => {
  const snap = meta('idle').snapshot_end[NEUTRON];
  assert.ok(snap !== undefined);
  const ovs = snap.connections.filter((c) => c.connection_name?.startsWith('neutron-openvswitch-agent:'));
  assert.equal(ovs.length, 13, 'OVS agent connections');
  const names = new Set(ovs.map((c) => c.connection_name));
  const queues = snap.queues.filter((q) => q.consumed_by.some((n) => names.has(n)));
  assert.equal(queues.length, 34, 'queues consumed by the OVS agent');
  // every agent and the server are named by their connections
  for (const p of ['neutron-server', 'neutron-dhcp-agent', 'neutron-l3-agent', 'neutron-metadata-agent'])
    assert.ok(
      snap.connections.some((c) => c.connection_name?.startsWith(`${p}:`)),
      `${p} holds a connection`,
    );
});

test('idle: report_state from the agents, nothing else from the API', async () => {
  const { loaded: l } = await pcap('idle');
  const states = l.messages.filter((m) => m.method === 'report_state');
  assert.ok(states.length >= 4, `report_state seen ${states.length} times`);
});

test('server create crosses both vhosts; neutron tells nova the VIF is plugged', async () => {
  const { loaded: l } = await pcap('server-create');
  const ports = portVhosts(meta('server-create'));
  const byVhost = new Map<string, number>();
  for (const m of l.messages) {
    const v = vhostOf(m, ports) ?? '?';
    byVhost.set(v, (byVhost.get(v) ?? 0) + 1);
  }
  assert.ok((byVhost.get(NOVA) ?? 0) > 0, `nova vhost messages: ${JSON.stringify([...byVhost])}`);
  assert.ok((byVhost.get(NEUTRON) ?? 0) > 0, `neutron vhost messages: ${JSON.stringify([...byVhost])}`);
  const events = l.messages.filter(
    (m) => m.method === 'external_instance_event' && m.kind === 'cast' && vhostOf(m, ports) === NOVA,
  );
  assert.ok(events.length >= 1, 'an external_instance_event cast in the nova vhost');
  // its body (the tracing log keeps payloads) names the event
  const plugged = tracing('server-create', NOVA).filter((r) => {
    const body = Buffer.from(r.payload ?? '', 'base64').toString('utf8');
    return body.includes('external_instance_event') && body.includes('network-vif-plugged');
  });
  assert.ok(plugged.length >= 1, 'external_instance_event carries network-vif-plugged');
  const rawPcap = readFileSync(`${DIR}/server-create.pcap`).toString('latin1');
  assert.ok(rawPcap.includes('network-vif-plugged'), 'the pcap carries network-vif-plugged');
  // the port binding reached the OVS agent: it asked for the device's details
  assert.ok(
    l.messages.some(
      (m) =>
        vhostOf(m, ports) === NEUTRON &&
        (m.method === 'get_devices_details_list_and_failed_devices' || m.method === 'update_device_list'),
    ),
    'the OVS agent handled the new port',
  );
});

test('agent restart leaves the old agent fanout and reply queues without consumers', () => {
  const end = meta('agent-restart').snapshot_end[NEUTRON];
  assert.ok(end !== undefined);
  const orphans = end.queues.filter(
    (q) => q.consumers === 0 && (q.name.includes('_fanout_') || q.name.startsWith('reply_')),
  );
  assert.ok(orphans.length >= 1, `orphan fanout/reply queues: ${orphans.map((q) => q.name).join(', ')}`);
});

const RIG_API = process.env.RPCSCOPE_NEUTRON_RIG_API;
test('a real neutron-server registers 5 emulated OVS agents (report_state), shows them alive, and they are removed', {
  skip: RIG_API === undefined ? 'no live rig (RPCSCOPE_NEUTRON_RIG_API unset)' : false,
}, async () => {
  const api = RIG_API!;
  await deleteAgents(EMU_PREFIX, api);
  // speedup 6: report_state every 5 s, so every agent has reported within ~5 s
  const h = startEmulation(realServerScenario(rigAmqpUrl(), 5, 0, 'oslo', 0, 6), {
    durationS: Number.POSITIVE_INFINITY,
    managementUrl: null,
  });
  try {
    await h.ready;
    let mine: Awaited<ReturnType<typeof listAgents>> = [];
    for (let i = 0; i < 40; i++) {
      mine = (await listAgents(api)).filter((a) => a.host.startsWith(EMU_PREFIX));
      if (mine.length === 5 && mine.every((a) => a.alive)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.deepEqual(
      mine.map((a) => a.host).sort(),
      ['emu-hv-0001', 'emu-hv-0002', 'emu-hv-0003', 'emu-hv-0004', 'emu-hv-0005'],
      'neutron registered the 5 emulated OVS agents',
    );
    for (const a of mine) {
      assert.equal(a.agent_type, 'Open vSwitch agent', a.host);
      assert.equal(a.alive, true, `${a.host} alive`);
    }
  } finally {
    const r = await h.stop();
    const rs = r.methods['q-reports-plugin.report_state'];
    assert.ok(rs !== undefined && rs.ok >= 5, 'report_state answered by the real server');
    assert.equal(rs.timeouts, 0);
    assert.equal(rs.remoteErrors, 0, 'the real server accepted every report_state');
    assert.equal(await deleteAgents(EMU_PREFIX, api), 5, 'the 5 rows deleted');
    assert.equal((await listAgents(api)).filter((a) => a.host.startsWith(EMU_PREFIX)).length, 0);
  }
});
