import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  amqpOpen,
  Conversation,
  connectionStart,
  decodeBytes,
  type Packet,
  writePcap,
  writePcapng,
} from '../../../test/capture/pcap-build.ts';
import { PROTOCOL_HEADER, publish } from '../../../test/wire/amqp/oracle.ts';
import { RpcscopeError } from '../../errors.ts';

const T0 = 1_700_000_000_123.456;

function conversation(linkType: number, v6: boolean): Conversation {
  const c = new Conversation({
    linkType,
    client: { ip: v6 ? '::1' : '10.0.0.7', port: 54838 },
    server: { ip: v6 ? '::1' : '10.0.0.1', port: 5672 },
    ts: T0,
  });
  c.handshake();
  amqpOpen(c);
  c.send(
    true,
    publish(1, 'nova', 'conductor', Buffer.from('{"oslo.version": "2.0", "oslo.message": "{}"}'), {
      contentType: 'application/json',
    }),
  );
  c.send(true, publish(1, 'nova', 'big', Buffer.alloc(200_000, 0x61)), 1448); // Ethernet-sized segments
  c.fin(true);
  c.fin(false);
  return c;
}

function check(packets: Packet[], bytes: Uint8Array, v6: boolean, what: string): void {
  for (const chunk of [bytes.length, 4096, 1000, 7]) {
    const { messages, events, result } = decodeBytes(bytes, { chunk });
    assert.deepEqual(
      result.skipped,
      { bytes: 0, frames: 0, records: 0, issues: [] },
      `${what} chunk ${chunk}`,
    );
    assert.equal(result.packets, packets.length);
    assert.equal(result.connections, 1);
    assert.equal(result.bytes, bytes.length);
    assert.deepEqual(
      messages.map((m) => [m.routingKey, m.bodySize]),
      [
        ['conductor', 45],
        ['big', 200_000],
      ],
      `${what} chunk ${chunk}`,
    );
    const id = v6 ? '[::1]:54838 -> [::1]:5672' : '10.0.0.7:54838 -> 10.0.0.1:5672';
    assert.equal(messages[0]!.connection!.id, id);
    assert.equal(messages[0]!.connection!.user, 'guest');
    assert.equal(messages[0]!.source, 'pcap');
    // ts of the packet that completed the message, in ms (µs precision kept)
    const firstPublishPacket = packets[7]!;
    assert.ok(
      Math.abs(messages[0]!.ts - firstPublishPacket.ts) < 0.002,
      `${what}: ts ${messages[0]!.ts} vs ${firstPublishPacket.ts}`,
    );
    assert.deepEqual(
      events.map((e) => (e.type === 'topology' ? e.topology.type : e.message.event)),
      ['connection-open', 'publish', 'publish', 'connection-close'],
    );
  }
}

for (const [linkType, name] of [
  [1, 'Ethernet'],
  [113, 'LINUX_SLL'],
  [276, 'LINUX_SLL2'],
  [101, 'RAW'],
  [0, 'NULL'],
] as const) {
  for (const v6 of [false, true]) {
    test(`pcap (µs, both byte orders, ns) and pcapng (µs, ns, EPB) over ${name}, IPv${v6 ? 6 : 4}`, () => {
      const c = conversation(linkType, v6);
      check(c.packets, writePcap(c.packets, { linkType }), v6, 'pcap le µs');
      check(c.packets, writePcap(c.packets, { linkType, littleEndian: false }), v6, 'pcap be µs');
      check(c.packets, writePcap(c.packets, { linkType, nanoseconds: true }), v6, 'pcap le ns');
      check(
        c.packets,
        writePcap(c.packets, { linkType, nanoseconds: true, littleEndian: false }),
        v6,
        'pcap be ns',
      );
      check(c.packets, writePcapng(c.packets, { linkType }), v6, 'pcapng le µs');
      check(
        c.packets,
        writePcapng(c.packets, { linkType, littleEndian: false, tsresol: 9 }),
        v6,
        'pcapng be ns',
      );
    });
  }
}

test('pcapng Simple Packet Blocks decode (without timestamps)', () => {
  const c = conversation(1, false);
  const { messages, result } = decodeBytes(writePcapng(c.packets, { simple: true }));
  assert.equal(messages.length, 2);
  assert.equal(result.skipped.frames, 0);
});

test('pcapng timestamps in binary resolution (if_tsresol 2^-20)', () => {
  const c = conversation(1, false);
  const { messages } = decodeBytes(writePcapng(c.packets, { tsresol: 0x80 | 20 }));
  assert.ok(Math.abs(messages[0]!.ts - c.packets[7]!.ts) < 0.002);
});

test('a non-standard AMQP port is followed when configured, and detected by the protocol header otherwise', () => {
  const c = new Conversation({
    client: { ip: '127.0.0.1', port: 40001 },
    server: { ip: '127.0.0.1', port: 5673 },
  });
  c.handshake();
  c.send(true, PROTOCOL_HEADER);
  c.send(true, publish(1, 'x', 'k', Buffer.from('b')));
  c.send(false, connectionStart());
  const bytes = writePcap(c.packets);
  assert.equal(decodeBytes(bytes, { amqpPort: 5673 }).messages.length, 1);
  const auto = decodeBytes(bytes);
  assert.equal(auto.messages.length, 1);
  assert.equal(auto.messages[0]!.connection!.id, '127.0.0.1:40001 -> 127.0.0.1:5673');
});

test('not a capture: RPCSCOPE_INPUT_FORMAT naming the input; empty input too', () => {
  assert.throws(
    () => decodeBytes(Buffer.from('{"type": "published"} this is a JSON log, not a pcap')),
    (e: unknown) =>
      e instanceof RpcscopeError && e.code === 'RPCSCOPE_INPUT_FORMAT' && e.message.includes('mem.pcap'),
  );
  assert.throws(
    () => decodeBytes(new Uint8Array(0)),
    (e: unknown) => e instanceof RpcscopeError && e.code === 'RPCSCOPE_INPUT_FORMAT',
  );
});
