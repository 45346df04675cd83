import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Conversation, decodeBytes, type Packet, TCP, writePcap } from '../../../test/capture/pcap-build.ts';
import { publish } from '../../../test/wire/amqp/oracle.ts';
import { rng } from '../../../test/wire/amqp/rng.ts';

/** 20 publishes from the client, sent as segments of `mss` bytes; returns the data packets. */
function stream(mss: number, isn = 1000): { c: Conversation; data: Packet[]; bytes: Buffer } {
  const c = new Conversation({
    client: { ip: '127.0.0.1', port: 50000 },
    server: { ip: '127.0.0.1', port: 5672 },
    isnC: isn,
  });
  c.handshake();
  const parts: Buffer[] = [];
  for (let i = 0; i < 20; i++)
    parts.push(publish(1, 'nova', `key${i}`, Buffer.from(`body-${i}-${'x'.repeat(i * 37)}`)));
  const bytes = Buffer.concat(parts);
  const data = c.send(true, bytes, mss);
  return { c, data, bytes };
}

const keys = (ms: { routingKey: string }[]): string[] => ms.map((m) => m.routingKey);
const all = Array.from({ length: 20 }, (_, i) => `key${i}`);

test('retransmitted and duplicated segments are ignored', () => {
  const { c, data } = stream(100);
  const pk = [...c.packets.slice(0, 3)];
  for (const [i, p] of data.entries()) {
    pk.push(p);
    if (i % 3 === 0) pk.push(p); // retransmission
  }
  const { messages, result } = decodeBytes(writePcap(pk));
  assert.deepEqual(keys(messages), all);
  assert.equal(result.skipped.bytes, 0);
});

test('out-of-order segments are put back in order (seeded shuffles within a window)', () => {
  const r = rng(1);
  for (let round = 0; round < 20; round++) {
    const { c, data } = stream(64 + round * 13);
    const d = [...data];
    for (let i = 0; i < d.length - 1; i++) {
      const j = Math.min(d.length - 1, i + Math.floor(r() * 4));
      [d[i], d[j]] = [d[j]!, d[i]!];
    }
    const { messages, result } = decodeBytes(writePcap([...c.packets.slice(0, 3), ...d]));
    assert.deepEqual(keys(messages), all, `round ${round}`);
    assert.equal(result.skipped.bytes, 0);
  }
});

test('overlapping retransmissions with different segment boundaries are trimmed', () => {
  const { c, bytes } = stream(1 << 20); // one big segment we re-cut below
  const base = c.packets.slice(0, 3);
  const isn = 1001;
  const pk: Packet[] = [...base];
  const seg = (from: number, to: number): void => {
    const cc = new Conversation({ client: c.client, server: c.server });
    pk.push(...cc.send(true, bytes.subarray(from, to), 1 << 20, { seq: (isn + from) >>> 0, ack: 5001 }));
  };
  seg(0, 300);
  seg(200, 900); // overlaps 200..300
  seg(100, 400); // entirely old
  seg(850, bytes.length);
  const { messages, result } = decodeBytes(writePcap(pk));
  assert.deepEqual(keys(messages), all);
  assert.equal(result.skipped.bytes, 0);
});

test('sequence numbers wrapping past 2^32 are handled', () => {
  const { c } = stream(50, 0xffffff00);
  const { messages } = decodeBytes(writePcap(c.packets));
  assert.deepEqual(keys(messages), all);
});

test('a segment missing from the capture but acknowledged by the peer: gap counted, decoding resumes', () => {
  const { c, data, bytes } = stream(120);
  const lost = 5;
  const pk = [...c.packets.slice(0, 3), ...data.slice(0, lost)];
  // the server acknowledges everything (it received the segment the capture missed)
  const ackAll = new Conversation({ client: c.server, server: c.client });
  pk.push(
    ...ackAll.send(true, new Uint8Array(0), 1, {
      seq: 5001,
      ack: (1001 + bytes.length) >>> 0,
      flags: TCP.ACK,
    }),
  );
  pk.push(...data.slice(lost + 1));
  const { messages, result } = decodeBytes(writePcap(pk));
  assert.equal(result.skipped.bytes >= 120, true);
  assert.equal(result.skipped.frames, 0);
  assert.equal(result.skipped.issues.length, 1);
  assert.match(result.skipped.issues[0]!.message, /120 bytes .* missing from the capture/);
  assert.equal(typeof result.skipped.issues[0]!.offset, 'number');
  // everything but the message(s) touching the lost bytes
  const got = keys(messages);
  assert.ok(got.length >= 17 && got.length < 20, got.join(','));
  assert.deepEqual(got.slice(-3), all.slice(-3));
});

test('a hole never filled nor acknowledged is given up at the end of the capture', () => {
  const { c, data } = stream(120);
  const pk = [...c.packets.slice(0, 3), ...data.slice(0, 5), ...data.slice(6)];
  const { messages, result } = decodeBytes(writePcap(pk));
  assert.equal(result.skipped.issues.length, 1);
  assert.ok(keys(messages).length >= 17);
});

test('a connection ending with RST, and a new connection on the same ports (new SYN) are separate', () => {
  const { c } = stream(200);
  c.rst(true);
  const c2 = new Conversation({ client: c.client, server: c.server, isnC: 777777, ts: c.ts + 10 });
  c2.handshake();
  c2.send(true, publish(1, 'nova', 'again', Buffer.from('x')));
  const { events, result } = decodeBytes(writePcap([...c.packets, ...c2.packets]));
  assert.equal(result.connections, 2);
  assert.deepEqual(
    events.map((e) => (e.type === 'message' ? e.message.routingKey : e.topology.type)).slice(-3),
    ['key19', 'connection-close', 'again'],
  );
});

test('messages completed by a late-filled hole are stamped with the fill time: events stay in time order across connections', () => {
  const a = new Conversation({
    client: { ip: '127.0.0.1', port: 50001 },
    server: { ip: '127.0.0.1', port: 5672 },
    ts: 1000,
  });
  const b = new Conversation({
    client: { ip: '127.0.0.1', port: 50002 },
    server: { ip: '127.0.0.1', port: 5672 },
    ts: 1000,
  });
  a.handshake();
  b.handshake();
  const [a1, a2] = a.send(true, publish(1, 'nova', 'a', Buffer.alloc(300, 0x61)), 200);
  const [b1] = b.send(true, publish(1, 'nova', 'b', Buffer.from('b')));
  a2!.ts = 1010;
  b1!.ts = 1020;
  a1!.ts = 1030; // the first half of A arrives last
  const { messages } = decodeBytes(
    writePcap([...a.packets.slice(0, 3), ...b.packets.slice(0, 3), a2!, b1!, a1!]),
  );
  assert.deepEqual(
    messages.map((m) => [m.routingKey, m.ts]),
    [
      ['b', 1020],
      ['a', 1030],
    ],
  );
});
