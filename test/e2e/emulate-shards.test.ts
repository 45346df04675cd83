/** Two shards of one scenario on one broker emulate the whole cloud together; results merge. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { ManagementClient } from '../../src/broker/management.ts';
import { mergeResults, parseScenario, startEmulation } from '../../src/emulate/index.ts';

test('shards 1/2 and 2/2 together run every service once, and their results merge', async (t) => {
  const mgmt = new ManagementClient({ url: 'http://guest:guest@127.0.0.1:15672' });
  const vhost = `rpcscope-emu-shards-${randomUUID().slice(0, 8)}`;
  await mgmt.putVhost(vhost);
  await mgmt.setPermissions(vhost, 'guest');
  t.after(async () => {
    await mgmt.deleteVhost(vhost).catch(() => {});
  });
  const s = parseScenario(`version: 1
oslo: { controlExchange: nova }
broker: { url: "amqp://guest:guest@127.0.0.1:5672/${vhost}" }
services:
  - name: nova-compute
    count: 6
    host: "compute-{i}"
    topics: [compute]
    scalable: true
    periodic:
      - { kind: call, topic: conductor, method: object_action, object: Service.save, periodS: 0.5 }
  - name: nova-conductor
    topics: [conductor]
`);
  const hosts: string[][] = [[], []];
  const runs = [0, 1].map((index) =>
    startEmulation(s, {
      shard: { index, count: 2 },
      managementUrl: null,
      durationS: 3,
      onEvent: (e) => {
        if (e.type === 'connected') hosts[index]!.push(e.service);
      },
    }),
  );
  const results = await Promise.all(runs.map((r) => r.result));
  assert.deepEqual([...hosts[0]!, ...hosts[1]!].sort(), [
    'compute-1',
    'compute-2',
    'compute-3',
    'compute-4',
    'compute-5',
    'compute-6',
    'nova-conductor-1',
  ]);
  assert.equal(new Set([...hosts[0]!, ...hosts[1]!]).size, 7);
  const merged = mergeResults(results);
  assert.equal(merged.services.planned, 7);
  assert.equal(merged.services.connected, 7);
  const save = merged.methods['conductor.Service.save']!;
  // computes on the shard without the conductor are answered by the other shard's conductor
  assert.equal(save.timeouts, 0);
  assert.ok(results.every((r) => (r.methods['conductor.Service.save']?.ok ?? 0) > 0));
  assert.equal(
    save.calls,
    results[0]!.methods['conductor.Service.save']!.calls +
      results[1]!.methods['conductor.Service.save']!.calls,
  );
});
