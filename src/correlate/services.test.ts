import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadCaptures } from '../pipeline/load.ts';
import { identifyServices, parseConnectionName, topicOfQueue } from './services.ts';

const FIX = fileURLToPath(new URL('../../data/nova-zed/', import.meta.url));

test('connection_name and queue names', () => {
  assert.deepEqual(parseConnectionName('nova-compute:15073:98691ea7-452c-46b3-9329-512e99f97e3b'), {
    service: 'nova-compute',
    pid: 15073,
  });
  assert.deepEqual(topicOfQueue('compute.rig-compute-1.example.org'), {
    topic: 'compute',
    host: 'rig-compute-1.example.org',
  });
  assert.deepEqual(topicOfQueue('scheduler_fanout_0b3d1c2e'), { topic: 'scheduler' });
  assert.deepEqual(topicOfQueue('conductor'), { topic: 'conductor' });
  assert.equal(topicOfQueue('reply_3dc19944f9f74ddebb6265fa67e5ef8a'), undefined);
  assert.equal(topicOfQueue('notifications.info'), undefined);
});

test('services behind the connections of the boot capture agree with the rig meta (connection_name per port)', async () => {
  const meta = new Map<string, string>();
  const { readFileSync } = await import('node:fs');
  for (const line of readFileSync(`${FIX}boot.meta.jsonl`, 'utf8').split('\n')) {
    if (line === '') continue;
    const o = JSON.parse(line) as {
      connections_at_start?: { name: string; connection_name: string | null }[];
      connections_at_end?: { name: string; connection_name: string | null }[];
    };
    for (const c of [...(o.connections_at_start ?? []), ...(o.connections_at_end ?? [])])
      meta.set(
        c.name,
        c.connection_name === null ? 'firehose consumer' : (c.connection_name.split(':')[0] as string),
      );
  }
  for (const file of ['boot.pcap', 'boot.tracing.json']) {
    const l = await loadCaptures([`${FIX}${file}`]);
    const found = identifyServices(l.messages, l.calls, l.topology);
    let known = 0;
    for (const s of found) {
      if (s.service === 'unknown') continue;
      known++;
      assert.equal(s.service, meta.get(s.connection), `${file} ${s.connection}: ${s.evidence.join('; ')}`);
      assert.ok(s.evidence.length > 0);
    }
    assert.ok(known >= 7, `${file}: ${known} of ${found.length} connections identified`);
  }
});
