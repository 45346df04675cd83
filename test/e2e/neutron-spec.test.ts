/**
 * `spec` and service naming on the real nova + neutron captures (test/fixtures/neutron-rig, issue
 * 13): every neutron API operation found and named from what neutron-server sends, the agents'
 * reactions joined to it by resource id (marked inferred), report_state kept in the background per
 * agent, every agent named from the wire (report_state's agent_state, consumed queues), and
 * `report` still counting exactly what tshark counts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { buildSpec, type Spec, type SpecOperation } from '../../src/analyse/spec.ts';
import { loadSpecInput } from '../../src/analyse/spec-load.ts';
import { identifyServices } from '../../src/correlate/services.ts';
import { specResolver } from '../../src/correlate/spec-services.ts';
import { ReportAccumulator } from '../../src/outputs/report.ts';
import { loadCaptures } from '../../src/pipeline/load.ts';

// RPCSCOPE_NEUTRON_CAPTURES: captures the rig just recorded (scripts/ci-neutron.sh), which this
// code has never seen; by default the committed fixtures.
const LIVE = process.env.RPCSCOPE_NEUTRON_CAPTURES;
const DIR =
  LIVE !== undefined
    ? `${LIVE.replace(/\/$/, '')}/`
    : new URL('../fixtures/neutron-rig/', import.meta.url).pathname;

async function specOf(...scenarios: string[]): Promise<Spec> {
  const loaded = await loadSpecInput(scenarios.map((s) => `${DIR}${s}.pcap`));
  return buildSpec(loaded, { resolve: specResolver(loaded) });
}

function op(spec: Spec, alias: string): SpecOperation {
  const o = spec.operations.find((x) => x.alias === alias);
  assert.ok(o !== undefined, `${alias} in ${spec.operations.map((x) => x.alias ?? x.name).join(', ')}`);
  return o;
}

const NEUTRON_OPS: [string, string][] = [
  ['network-create', 'network create'],
  ['subnet-create', 'subnet create'],
  ['port-create', 'port create'],
  ['port-update', 'port update'],
  ['security-group-rule-create', 'security group rule create'],
  ['router-create', 'router create'],
  ['router-interface-add', 'router interface add'],
  ['floatingip-create', 'floating ip create'],
  ['floatingip-delete', 'floating ip delete'],
  ['router-interface-remove', 'router interface remove'],
  ['port-delete', 'port delete'],
  ['network-delete', 'network delete'],
];

for (const [scenario, alias] of NEUTRON_OPS)
  test(`neutron spec: ${scenario} is one '${alias}' operation`, async () => {
    const spec = await specOf(scenario);
    const neutron = spec.operations.filter((o) =>
      o.rpc.some((r) => r.to.startsWith('neutron') || r.from.startsWith('neutron')),
    );
    assert.deepEqual(
      neutron.map((o) => o.alias),
      [alias],
    );
    const o = op(spec, alias);
    assert.equal(o.instances, 1);
    assert.ok(
      o.rpc.every((r) => !r.from.startsWith('client ')),
      `senders: ${o.rpc.map((r) => r.from).join(', ')}`,
    );
    // report_state is a heartbeat: never part of an operation
    assert.ok(!o.rpc.some((r) => r.method === 'report_state'));
  });

test('neutron spec: the agents’ reactions are joined by resource id and marked inferred', async () => {
  const net = op(await specOf('network-create'), 'network create');
  const details = net.rpc.find((r) => r.method === 'get_network_details');
  assert.ok(
    details !== undefined && details.from === 'neutron-openvswitch-agent' && details.to === 'neutron-server',
  );
  assert.match(details.inferredLink ?? '', /shares resource [0-9a-f-]{36}/);
  assert.equal(net.rpc.find((r) => r.eventType === 'network.create.end')?.inferredLink, undefined);

  const subnet = op(await specOf('subnet-create'), 'subnet create');
  const cast = subnet.rpc.find((r) => r.method === 'network_create_end');
  assert.ok(
    cast !== undefined &&
      cast.kind === 'cast' &&
      cast.to === 'neutron-dhcp-agent' &&
      cast.inferredLink === undefined,
  );
  const info = subnet.rpc.find((r) => r.method === 'get_network_info');
  assert.ok(info !== undefined && info.from === 'neutron-dhcp-agent' && info.inferredLink !== undefined);

  const port = op(await specOf('port-create'), 'port create');
  const udl = port.rpc.find((r) => r.method === 'update_device_list');
  assert.ok(udl !== undefined && udl.from === 'neutron-openvswitch-agent' && udl.inferredLink !== undefined);
  assert.ok(udl.count.median >= 1);
});

test('neutron spec: report_state stays background, per agent, with its 30 s period', async () => {
  const spec = await specOf('idle');
  assert.equal(spec.operations.length, 0);
  for (const agent of [
    'neutron-openvswitch-agent',
    'neutron-dhcp-agent',
    'neutron-l3-agent',
    'neutron-metadata-agent',
  ]) {
    const b = spec.background.find((x) => x.service === agent);
    assert.ok(b !== undefined, `${agent} in ${spec.background.map((x) => x.service).join(', ')}`);
    assert.deepEqual(b.instanceNames, ['rpcscope-compute-1']);
    assert.ok(b.periodic.some((p) => p.method === 'report_state'));
  }
  assert.ok(!spec.background.some((b) => b.service.startsWith('client ')));
});

test('neutron services: every agent named from the wire on a capture that starts mid-connection', async () => {
  const l = await loadCaptures([`${DIR}idle.pcap`]);
  assert.equal(l.topology.filter((t) => t.type === 'connection-open').length, 0);
  const services = identifyServices(l.messages, l.calls, l.topology);
  const byService = (s: string) => services.filter((x) => x.service === s);
  for (const [binary, type] of [
    ['neutron-openvswitch-agent', 'Open vSwitch agent'],
    ['neutron-dhcp-agent', 'DHCP agent'],
    ['neutron-l3-agent', 'L3 agent'],
    ['neutron-metadata-agent', 'Metadata agent'],
  ] as const) {
    const named = byService(binary);
    assert.ok(named.length > 0, `${binary}: ${services.map((s) => s.service).join(', ')}`);
    assert.ok(
      named.some(
        (s) => s.evidence.some((e) => e.includes(`agent_type ${type}`)) && s.host === 'rpcscope-compute-1',
      ),
      JSON.stringify(named),
    );
  }
  assert.ok(!services.some((s) => s.service === 'unknown' && s.evidence.length > 0));
});

test('neutron services: the agent restart names the new agent by connection_name and consumed queues', async () => {
  const l = await loadCaptures([`${DIR}agent-restart.pcap`]);
  const ovs = identifyServices(l.messages, l.calls, l.topology).filter(
    (s) => s.service === 'neutron-openvswitch-agent',
  );
  assert.ok(ovs.some((s) => s.pid !== undefined && s.evidence.some((e) => e.startsWith('connection_name'))));
  assert.ok(ovs.some((s) => s.evidence.some((e) => /consumes .*neutron-vo-/.test(e))));
});

function tsharkCounts(pcap: string): { published: number; delivered: number } {
  const out = execFileSync(
    'tshark',
    ['-r', pcap, '-Y', 'amqp', '-T', 'fields', '-e', 'amqp.method.class', '-e', 'amqp.method.method'],
    { encoding: 'utf8' },
  );
  let published = 0;
  let delivered = 0;
  for (const line of out.split('\n')) {
    const [cls, meth] = line.split('\t');
    const c = (cls ?? '').split(',');
    const m = (meth ?? '').split(',');
    c.forEach((x, i) => {
      if (x === '60' && m[i] === '40') published++;
      if (x === '60' && m[i] === '60') delivered++;
    });
  }
  return { published, delivered };
}

let hasTshark = true;
try {
  execFileSync('tshark', ['-v'], { stdio: 'ignore' });
} catch {
  hasTshark = false;
}

test('neutron report: publish / deliver counts equal tshark’s Basic.Publish / Basic.Deliver', {
  skip: !hasTshark && 'no tshark',
}, async () => {
  for (const s of ['idle', 'port-create', 'server-create', 'agent-restart']) {
    const acc = new ReportAccumulator();
    const l = await loadCaptures([`${DIR}${s}.pcap`], { sinks: [acc] });
    const j = acc.result(l);
    assert.deepEqual(
      { published: j.messages.published, delivered: j.messages.delivered },
      tsharkCounts(`${DIR}${s}.pcap`),
      s,
    );
  }
});

test('footprint: the Zed OVS agent holds 13 connections and 34 queues (11 / 11 / 11 / 1)', async () => {
  const { footprintOf } = await import('../../src/analyse/footprint.ts');
  const { readFileSync } = await import('node:fs');
  const meta = JSON.parse(readFileSync(`${DIR}idle.meta.json`, 'utf8')) as {
    snapshot_end: Parameters<typeof footprintOf>[0];
  };
  const ovs = footprintOf(meta.snapshot_end).filter((p) => p.service === 'neutron-openvswitch-agent');
  assert.equal(ovs.length, 1);
  const o = ovs[0];
  assert.ok(o !== undefined);
  assert.equal(o.connections, 13);
  assert.equal(o.queues.total, 34);
  assert.deepEqual([o.queues.topic, o.queues.topicHost, o.queues.fanout, o.queues.reply], [11, 11, 11, 1]);
  assert.equal(o.bindings, 33);
  assert.equal(o.exchanges, 12);
});
