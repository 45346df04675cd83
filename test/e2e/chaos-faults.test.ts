/**
 * A real 3-node cluster of our own (network namespaces), a short node kill and a short partition
 * while emulated oslo services stream casts, calls and notifications; the accounting must close,
 * the services must come back, and nothing of the cluster may be left behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Cluster, type ClusterState, leftovers } from '../../src/broker/cluster.ts';
import { parseChaosScenario } from '../../src/chaos/load.ts';
import { type ChaosResult, runChaos } from '../../src/chaos/run.ts';

const SCENARIO = `
version: 1
name: e2e-chaos
oslo:
  controlExchange: e2e
  rpcResponseTimeoutS: 5
services:
  - name: rpc-server
    topics: [e2e_topic]
    fanout: false
    serve: { delayMs: 1, replyBytes: 100 }
  - name: notify-server
    topics: [notifications.info]
    fanout: false
  - name: rpc-client
    periodic:
      - { kind: cast, topic: e2e_topic, method: cast_test, periodS: 0.1, bytes: 500 }
      - { kind: call, topic: e2e_topic, method: call_test, periodS: 0.2, bytes: 500 }
      - { kind: notification, topic: notifications, method: t.n, eventType: t.n, periodS: 0.2, bytes: 300 }
`;

function netnsList(): string {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
}

function checkClosed(r: ChaosResult): void {
  assert.equal(r.ledger.closes, true, 'sent = delivered + expired + lost in every row');
  for (const row of r.ledger.rows)
    assert.equal(row.sent, row.delivered + row.expired + row.lost, `${row.kind}/${row.group}`);
  for (const kind of ['cast', 'call', 'notification', 'reply'])
    assert.ok(
      r.ledger.rows.some((x) => x.kind === kind && x.sent > 0),
      `${kind} traffic was measured`,
    );
  assert.ok(r.ledger.total.delivered > 0);
  assert.equal(r.servicesConnected, r.servicesPlanned);
}

/** Calls sent after the fault struck were answered: the services reconnected and carried on. */
function survived(r: ChaosResult): void {
  const f = r.faults[0]!;
  assert.equal(f.error, undefined);
  assert.ok(f.appliedS !== undefined && f.undoneS !== undefined, 'applied and undone');
  const after = r.timeline.filter((p) => p.t > f.appliedS! + 3 && p.t < r.durationS);
  assert.ok(after.reduce((n, p) => n + p.ok, 0) > 0, 'calls answered after the fault struck');
}

test('chaos on a local 3-node cluster: node kill and partition', { timeout: 600_000 }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rpcscope-e2e-cluster-'));
  let state: ClusterState | undefined;
  t.after(async () => {
    const c = state !== undefined ? await Cluster.open(dir).catch(() => undefined) : undefined;
    await c?.down();
    if (state !== undefined) {
      assert.deepEqual(await leftovers(state), [], 'no process left in the namespaces');
      assert.doesNotMatch(netnsList(), new RegExp(`rpcscope-${state.tag}-`), 'no namespace left');
      assert.equal(existsSync(path.join(dir, 'cluster.json')), false);
      for (const n of state.nodes) assert.equal(existsSync(`/etc/netns/${n.netns}`), false);
    }
    await rm(dir, { recursive: true, force: true });
  });
  const cluster = await Cluster.up({
    dir,
    nodes: 3,
    amqpBasePort: 0,
    mgmtBasePort: 0,
    netTicktime: 4,
    ownerPid: process.pid,
  });
  state = cluster.state;
  const st = await cluster.status();
  assert.equal(st.runningNodes.length, 3, 'the three nodes form one cluster');
  assert.ok(st.nodes.every((n) => n.amqp !== '127.0.0.1:5672'));
  const { scenario, chaos } = parseChaosScenario(SCENARIO, 'e2e.yaml');

  await t.test('kill -9 of the node holding the queues, restarted', async () => {
    const r = await runChaos({
      cluster,
      scenario,
      chaos: { ...chaos, duration: 22, drain: 7, faults: [{ action: 'kill', node: 1, at: 6, for: 4 }] },
      queues: 'classic',
    });
    checkClosed(r);
    survived(r);
    assert.ok(r.reconnects >= 3, 'every service lost its connection and reconnected');
    // Publishes made while disconnected are held and sent after reconnecting (oslo's ensure()):
    // none is lost for want of a connection, and none is left unsent once the drain is over.
    assert.equal(r.ledger.total.unsent, 0, 'nothing left unsent');
    const unconfirmedLost = r.ledger.total.lost - r.ledger.total.lostAfterConfirm;
    assert.ok(unconfirmedLost <= 2, `lost without a broker confirm: ${unconfirmedLost}`);
    assert.equal(await cluster.isRunning(1), true, 'node 1 restarted');
  });

  await t.test('partition of node 3 from nodes 1 and 2, healed', async () => {
    const r = await runChaos({
      cluster,
      scenario,
      // the server sits on node 3: pause_minority pauses it, the server fails over to node 1
      chaos: {
        ...chaos,
        duration: 24,
        drain: 7,
        connect: { 'rpc-server': 3 },
        faults: [{ action: 'partition', groups: [[3], [1, 2]], at: 5, for: 10 }],
      },
      queues: 'quorum',
    });
    checkClosed(r);
    survived(r);
    assert.ok(r.reconnects >= 1, 'the server on the paused node reconnected elsewhere');
    let running: readonly string[] = [];
    for (let i = 0; i < 60 && running.length < 3; i++) {
      running = (await cluster.status()).runningNodes;
      if (running.length < 3) await new Promise((res) => setTimeout(res, 1000));
    }
    assert.equal(running.length, 3, 'node 3 is back in the cluster after the heal');
  });
});
