import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { amqpOpen, Conversation, writePcap } from '../../test/capture/pcap-build.ts';
import { HEARTBEAT, publish } from '../../test/wire/amqp/oracle.ts';
import { loadSpecInput } from '../analyse/spec-load.ts';
import { loadCaptures } from './load.ts';

const T0 = 1_700_000_000_000;

/**
 * A quiet capture: heartbeats for a minute before the one message and two minutes after it, as a
 * tcpdump on an idle broker records them. Its span is first → last packet, 180 s, not the ~0 s
 * between its messages.
 */
function quietCapture(): Uint8Array {
  const c = new Conversation({
    client: { ip: '10.0.0.7', port: 54838 },
    server: { ip: '10.0.0.1', port: 5672 },
    ts: T0,
  });
  c.handshake();
  amqpOpen(c);
  c.ts = T0 + 30_000;
  c.send(true, HEARTBEAT);
  c.ts = T0 + 60_000;
  c.send(
    true,
    publish(
      1,
      'nova',
      'conductor',
      Buffer.from(
        JSON.stringify({
          'oslo.version': '2.0',
          'oslo.message': JSON.stringify({ method: 'ping', args: {}, _unique_id: 'u1' }),
        }),
      ),
      { contentType: 'application/json' },
    ),
  );
  for (let t = 90_000; t <= 180_000; t += 30_000) {
    c.ts = T0 + t;
    c.send(true, HEARTBEAT);
    c.ackOnly(false);
  }
  return writePcap(c.packets);
}

test("a pcap's span is its first to last packet, not its messages' (rates over the capture's own time)", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-load-'));
  try {
    const path = join(dir, 'quiet.pcap');
    writeFileSync(path, quietCapture());
    const l = await loadCaptures([path]);
    const published = l.messages.filter((m) => m.wire.event === 'publish');
    assert.equal(published.length, 1);
    // its messages and topology end at the publish: the last minutes are heartbeats and acks only
    const lastEvent = Math.max(...l.messages.map((m) => m.wire.ts), ...l.topology.map((t) => t.ts));
    assert.ok(lastEvent < T0 + 61_000, `${lastEvent - T0}`);
    assert.equal(l.inputs[0]?.startMs, T0 + 1);
    assert.equal(l.startMs, T0 + 1);
    assert.equal(l.endMs, l.inputs[0]?.endMs);
    assert.ok(l.endMs >= T0 + 180_000, `${l.endMs - T0}`);
    // what spec's background rates divide by (src/analyse/spec.ts windowMs from the segments)
    const s = await loadSpecInput([path]);
    assert.deepEqual(s.segments, [{ startMs: l.startMs, endMs: l.endMs }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
