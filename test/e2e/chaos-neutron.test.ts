/**
 * Storm (b) of issue 14 at CI size: a mass OVS agent restart on a one-node cluster of our own.
 * Three emulated OVS agents (13 connections, 34 queues each) are killed without deleting their
 * queues and started again under new fanout/reply names; the orphans (11 fanouts + 1 reply per
 * agent, no consumer) must be seen, must receive copies of the port pushes, and must expire
 * (x-expires shortened to 8 s); every restarted agent resyncs; the ledger closes; nothing is left.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Cluster, type ClusterState, leftovers } from '../../src/broker/cluster.ts';
import { ManagementClient } from '../../src/broker/management.ts';
import { parseChaosScenario } from '../../src/chaos/load.ts';
import { runChaos } from '../../src/chaos/run.ts';
import { OVS_TOPICS } from '../../src/emulate/neutron.ts';

const AGENTS = 3;
const TTL_S = 8;

const SCENARIO = `
version: 1
name: e2e-neutron-agent-restart
oslo:
  controlExchange: neutron
  rpcResponseTimeoutS: 5
  queues: { transientTtlS: ${TTL_S} }
services:
  - name: neutron-server
    host: controller-{i}
    topics: [q-plugin, q-reports-plugin, q-server-resource-versions]
    connections: { reply: false, send: 1 }
    serve: { delayMs: 2, replyBytes: 200 }
  - name: neutron-openvswitch-agent
    count: ${AGENTS}
    scalable: true
    host: compute-{i:5}
    topics: [${OVS_TOPICS.join(', ')}]
    connections: { reply: true, send: 1 }
    periodic:
      - { kind: call, topic: q-reports-plugin, method: report_state, version: '1.2', periodS: 2, timeoutS: 5, bytes: 2581 }
operations:
  - name: port update
    perMinute: 240
    hostOf: neutron-openvswitch-agent
    steps:
      - { from: neutron-server, kind: fanout, topic: neutron-vo-Port-1.7, method: push, version: '1.1', bytes: 2946 }
  - name: ovs agent resync
    perMinute: 0
    hostOf: neutron-openvswitch-agent
    steps:
      - { from: neutron-openvswitch-agent, kind: call, topic: q-reports-plugin, method: has_alive_neutron_server, version: '1.2', bytes: 1096 }
      - { from: neutron-openvswitch-agent, kind: call, topic: q-plugin, method: bulk_pull, version: '1.1', count: 2, bytes: 1206 }
chaos:
  duration: 24s
  drain: 7s
  resync: { group: neutron-openvswitch-agent, operation: ovs agent resync }
  fanout: { group: neutron-openvswitch-agent, method: push, lateAfter: 1s }
  faults:
    - { at: 4s, action: restart-group, group: neutron-openvswitch-agent, for: 1s }
`;

test('chaos: mass OVS agent restart leaves orphan queues that fill, then expire', {
  timeout: 300_000,
}, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rpcscope-e2e-nchaos-'));
  let state: ClusterState | undefined;
  t.after(async () => {
    const c = state !== undefined ? await Cluster.open(dir).catch(() => undefined) : undefined;
    await c?.down();
    if (state !== undefined) {
      assert.deepEqual(await leftovers(state), [], 'no process left in the namespaces');
      const ns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      assert.doesNotMatch(ns, new RegExp(`rpcscope-${state.tag}-`), 'no namespace left');
    }
    assert.equal(existsSync(path.join(dir, 'cluster.json')), false);
    await rm(dir, { recursive: true, force: true });
  });
  const cluster = await Cluster.up({
    dir,
    nodes: 1,
    amqpBasePort: 0,
    mgmtBasePort: 0,
    ownerPid: process.pid,
  });
  state = cluster.state;
  const { scenario, chaos } = parseChaosScenario(SCENARIO, 'e2e-neutron.yaml');
  const r = await runChaos({ cluster, scenario, chaos });

  // the ledger closes, every agent (and its restart) is up at the end
  assert.equal(r.ledger.closes, true, 'sent = delivered + expired + lost in every row');
  for (const row of r.ledger.rows)
    assert.equal(row.sent, row.delivered + row.expired + row.lost, `${row.kind}/${row.group}`);
  assert.equal(r.faults[0]!.error, undefined);
  assert.ok(r.faults[0]!.undoneS !== undefined, 'the agents were started again');

  const s = r.storm;
  assert.ok(s !== undefined);
  // orphans: 11 fanout queues + 1 reply queue per killed agent, no consumer, then expired
  const o = s.orphans;
  assert.ok(o !== undefined, 'orphans sampled');
  assert.equal(o.orphanQueues, AGENTS * (OVS_TOPICS.length + 1), 'orphan queues: 12 per agent');
  assert.ok(o.firstSeenS !== undefined && o.allGoneS !== undefined, 'orphans seen, then gone');
  assert.ok(
    o.allGoneS - o.firstSeenS >= TTL_S - 3,
    `orphans lived about x-expires: ${o.firstSeenS}..${o.allGoneS}`,
  );
  // every port push sent while the orphans lived went to each killed agent's Port fanout orphan too
  assert.ok(o.messagesToOrphans > 0, 'copies routed to the orphans');
  const f = s.fanout;
  assert.ok(f !== undefined);
  assert.equal(f.perAgent.length, AGENTS, 'per-agent fanout rows for every host');
  assert.ok(f.sent > 0);
  assert.equal(f.delivered + f.lost, f.sent * AGENTS, 'each push: delivered or lost, per agent');
  assert.ok(o.messagesToOrphans <= f.sent * AGENTS + AGENTS, 'no more copies than pushes × agents');
  assert.ok(o.peakOrphanMemBytes > 0);

  // every restarted agent resynced
  const rs = s.resync;
  assert.ok(rs !== undefined);
  assert.equal(rs.reconnected, AGENTS, 'each restarted agent came back once');
  assert.equal(rs.resyncsDone, AGENTS, 'and ran its resync');
  assert.ok(s.brokerMemMiB !== undefined && s.brokerMemMiB.peak > 0);

  // the run's vhost is gone with its orphans
  const m = new ManagementClient({ url: cluster.mgmtUrl(1), user: 'guest', password: 'guest' });
  assert.ok(!(await m.vhosts()).some((v) => v.name === r.vhost), 'vhost removed');
});
