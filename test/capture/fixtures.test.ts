/**
 * The real nova captures: every pcap decodes with nothing skipped; Basic.Publish and
 * Basic.Deliver counts equal tshark's; every message in RabbitMQ's own tracing log of the same
 * window is found in the pcap with the same connection id, channel, exchange, routing key and
 * body bytes; connections with a handshake carry the user and client properties the broker saw.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readPcapFile } from '../../src/capture/pcap-file.ts';
import type { CaptureEvent, WireMessage } from '../../src/records.ts';

const dir = join(import.meta.dirname, '..', '..', 'data', 'nova-zed');
const scenarios = ['idle', 'boot', 'stop', 'start', 'delete'];

/** Counts of AMQP methods (class.method) as tshark's dissector finds them, every occurrence. */
function tsharkMethods(file: string): Map<string, number> {
  const out = execFileSync(
    'tshark',
    [
      '-r',
      file,
      '-Y',
      'amqp',
      '-T',
      'fields',
      '-E',
      'aggregator=,',
      '-e',
      'amqp.method.class',
      '-e',
      'amqp.method.method',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    const [cls, mth] = line.split('\t');
    if (!cls || !mth) continue;
    const ms = mth.split(',');
    cls.split(',').forEach((c, i) => {
      const k = `${c}.${ms[i]}`;
      m.set(k, (m.get(k) ?? 0) + 1);
    });
  }
  return m;
}

interface Tracing {
  type: 'published' | 'received';
  connection: string;
  channel: number;
  exchange: string;
  queue: string;
  routing_keys: string[];
  payload: string;
}

for (const s of scenarios) {
  test(`${s}.pcap: nothing skipped, same publish/deliver counts as tshark, every tracing-log message found`, async () => {
    const file = join(dir, `${s}.pcap`);
    const events: CaptureEvent[] = [];
    const r = await readPcapFile(file, { event: (e) => events.push(e) });
    assert.equal(r.skipped.frames, 0);
    assert.equal(r.skipped.records, 0);
    assert.deepEqual(r.skipped.issues, []);
    assert.equal(r.input, file);
    assert.ok(r.packets > 100 && r.connections > 5);

    const msgs = events.flatMap((e) => (e.type === 'message' ? [e.message] : []));
    assert.deepEqual(
      msgs.map((m) => m.seq),
      msgs.map((_, i) => i),
    );
    for (let i = 1; i < events.length; i++) {
      const t = (e: CaptureEvent): number => (e.type === 'message' ? e.message.ts : e.topology.ts);
      assert.ok(t(events[i]!) >= t(events[i - 1]!), 'events in capture time order');
    }
    const t = tsharkMethods(file);
    const count = (ev: string): number => msgs.filter((m) => m.event === ev).length;
    assert.equal(count('publish'), t.get('60.40') ?? 0, 'Basic.Publish');
    assert.equal(count('deliver'), (t.get('60.60') ?? 0) + (t.get('60.71') ?? 0), 'Basic.Deliver + GetOk');
    assert.equal(count('return'), t.get('60.50') ?? 0, 'Basic.Return');
    assert.ok(count('publish') > 10);

    // RabbitMQ's tracing log of the same window: each record is in the pcap, byte for byte.
    const key = (conn: string, ch: number, ex: string, rk: string, body: Uint8Array): string =>
      `${conn}|${ch}|${ex}|${rk}|${Buffer.from(body).toString('base64')}`;
    const have = new Map<string, WireMessage[]>();
    for (const m of msgs) {
      const k = `${m.event}|${key(m.connection!.id, m.channel!, m.exchange, m.routingKey, m.body)}`;
      have.set(k, [...(have.get(k) ?? []), m]);
    }
    const lines = readFileSync(join(dir, `${s}.tracing.json`), 'utf8')
      .split('\n')
      .filter(Boolean);
    for (const line of lines) {
      const tr = JSON.parse(line) as Tracing;
      const ev = tr.type === 'published' ? 'publish' : 'deliver';
      const k = `${ev}|${key(tr.connection, tr.channel, tr.exchange, tr.routing_keys[0]!, Buffer.from(tr.payload, 'base64'))}`;
      const found = have.get(k);
      assert.ok(
        found !== undefined && found.length > 0,
        `${tr.type} on ${tr.connection} ch ${tr.channel} ${tr.exchange}/${tr.routing_keys[0]} is in the pcap`,
      );
      const m = found.shift()!;
      if (ev === 'deliver' && m.queue !== undefined) assert.equal(m.queue, tr.queue);
      assert.equal(m.bodySize, m.body.length);
    }
    assert.ok(lines.length > 10);

    // connections opened inside the capture: user and client properties as the broker reports them
    const meta = readFileSync(join(dir, `${s}.meta.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const known = new Map<string, { user: string; connection_name: string | null; product: string }>();
    for (const rec of meta)
      for (const k of ['connections_at_start', 'connections_at_end'])
        for (const c of (rec[k] as
          | { name: string; user: string; connection_name: string | null; product: string }[]
          | undefined) ?? [])
          known.set(c.name, c);
    let checked = 0;
    for (const e of events) {
      if (e.type !== 'topology' || e.topology.type !== 'connection-open') continue;
      const c = e.topology.connection;
      const k = known.get(c.id);
      if (k === undefined) continue;
      assert.equal(c.user, k.user);
      assert.equal(c.vhost, 'nova');
      assert.equal(c.product, k.product);
      if (k.connection_name !== null) assert.equal(c.name, k.connection_name);
      checked++;
    }
    if (s === 'boot') assert.ok(checked > 0, 'boot opens connections inside the capture');
  });
}
