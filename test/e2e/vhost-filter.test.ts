/**
 * `--vhost` and the per-vhost split on a pcap of a shared broker: the neutron rig's server boot
 * (test/fixtures/neutron-rig/server-create.pcap) mixes vhosts `nova` and `neutron` and starts
 * mid-connection (no Connection.Open), so each connection's vhost is inferred from what it does.
 * The broker's own records are the truth: the tracing log of each vhost (what the broker saw
 * published there, with the publishing connection) and the management API's connection list.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadSpecInput } from '../../src/analyse/spec-load.ts';
import { reportFiles } from '../../src/cli/report.ts';
import { ReportAccumulator } from '../../src/outputs/report.ts';
import { loadCaptures } from '../../src/pipeline/load.ts';
import { normalizeVhost } from '../../src/pipeline/vhosts.ts';

const DIR = new URL('../fixtures/neutron-rig/', import.meta.url).pathname;
const PCAP = `${DIR}server-create.pcap`;
const VHOSTS = ['nova', 'neutron'] as const;

/** The broker's publishes in one vhost: the tracing log's `published` records and their connections. */
function tracedPublishes(vhost: string): { count: number; connections: Set<string> } {
  const recs = readFileSync(`${DIR}server-create.${vhost}.tracing.json`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; connection: string });
  const pub = recs.filter((r) => r.type === 'published');
  return { count: pub.length, connections: new Set(pub.map((r) => r.connection)) };
}

/** Client port → vhost from the management API's connection lists at start and end. */
function brokerPorts(): Map<number, string> {
  const meta = JSON.parse(readFileSync(`${DIR}server-create.meta.json`, 'utf8')) as Record<
    string,
    Record<string, { connections: { peer_port: number }[] }>
  >;
  const out = new Map<number, string>();
  for (const snap of [meta.snapshot_start, meta.snapshot_end])
    for (const [vhost, st] of Object.entries(snap ?? {}))
      for (const c of st.connections) out.set(c.peer_port, vhost);
  return out;
}

test('--vhost nova and --vhost neutron partition the messages; each matches the broker', async () => {
  const all = await loadCaptures([PCAP]);
  assert.ok(all.messages.length > 0);
  const ports = brokerPorts();
  let sum = 0;
  for (const vhost of VHOSTS) {
    const l = await loadCaptures([PCAP], { vhosts: [vhost] });
    sum += l.messages.length;
    // every kept message is on a connection the broker lists in that vhost
    for (const m of l.messages) {
      const port = Number(m.wire.connection?.client.split(':').pop());
      assert.equal(ports.get(port), vhost, `${m.wire.connection?.id} is in vhost ${vhost}`);
    }
    const published = l.messages.filter((m) => m.wire.event === 'publish');
    const traced = tracedPublishes(vhost);
    assert.equal(published.length, traced.count, `${vhost}: publishes = the tracing log's`);
    assert.deepEqual(
      new Set(published.map((m) => m.wire.connection?.id)),
      traced.connections,
      `${vhost}: the publishing connections are the tracing log's`,
    );
    // what the filter dropped is the other vhost, counted
    assert.ok(l.vhostDropped !== undefined);
    assert.deepEqual(l.vhostDropped.kept, [vhost]);
    assert.equal(l.vhostDropped.messages, all.messages.length - l.messages.length);
    assert.equal(l.vhostDropped.byVhost['?'], undefined, 'no connection of unknown vhost');
    // the window stays the capture's
    assert.equal(l.startMs, all.startMs);
    assert.equal(l.endMs, all.endMs);
  }
  assert.equal(sum, all.messages.length, 'nova + neutron = every message');
  // both: everything
  const both = await loadCaptures([PCAP], { vhosts: ['/nova', 'neutron'] });
  assert.equal(both.messages.length, all.messages.length, '"/nova" is vhost nova');
  assert.equal(both.vhostDropped?.messages, 0);
});

test('report: messages per vhost, equal to the filtered reports and the tracing logs', async () => {
  const acc = new ReportAccumulator();
  const r = acc.result(await loadCaptures([PCAP], { keep: false, sinks: [acc] }));
  assert.equal(r.vhostFilter, undefined);
  assert.deepEqual(r.vhosts.map((v) => v.vhost).sort(), ['neutron', 'nova']);
  assert.equal(
    r.vhosts.reduce((a, v) => a + v.published, 0),
    r.messages.published,
  );
  assert.equal(
    r.vhosts.reduce((a, v) => a + v.delivered, 0),
    r.messages.delivered,
  );
  for (const v of r.vhosts) {
    assert.equal(v.published, tracedPublishes(v.vhost).count, `${v.vhost} published`);
    // no Connection.Open in this capture: every connection's vhost is an inference, and says so
    assert.equal(v.knownBy.open, 0);
    assert.equal(v.knownBy.open + v.knownBy.learned + v.knownBy.exchange, v.connections);
    const only = await reportFiles([PCAP], 'report', [v.vhost]);
    assert.equal(only.messages.published, v.published);
    assert.equal(only.messages.delivered, v.delivered);
    assert.deepEqual(only.vhostFilter?.kept, [v.vhost]);
    assert.equal(
      only.vhostFilter?.droppedMessages,
      r.messages.published + r.messages.delivered - v.published - v.delivered,
    );
    assert.deepEqual(
      only.vhosts.map((x) => x.vhost),
      [v.vhost],
    );
  }
});

test('agent restart: Connection.Open names the vhost; connections without one learn it', async () => {
  const acc = new ReportAccumulator();
  const r = acc.result(await loadCaptures([`${DIR}agent-restart.pcap`], { keep: false, sinks: [acc] }));
  const neutron = r.vhosts.find((v) => v.vhost === 'neutron');
  assert.ok(neutron !== undefined);
  assert.ok(neutron.knownBy.open >= 1, 'the new agent opened its connections in the capture');
  assert.ok(neutron.knownBy.learned >= 1, 'others learned from exchanges the opened ones use');
  const traced = readFileSync(`${DIR}agent-restart.neutron.tracing.json`, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type": "published"') || l.includes('"type":"published"')).length;
  assert.equal(neutron.published, traced);
});

test('spec --vhost: only that vhost reaches the spec', async () => {
  const l = await loadSpecInput([PCAP], { vhosts: ['neutron'] });
  assert.ok(l.messages.length > 0);
  assert.ok(
    l.messages.every((m) => m.exchange !== 'nova'),
    'no nova-exchange message',
  );
  assert.equal(normalizeVhost('/'), '/');
  assert.equal(normalizeVhost('/neutron'), 'neutron');
});
