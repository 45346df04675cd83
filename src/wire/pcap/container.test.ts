import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Conversation, decodeBytes, writePcap, writePcapng } from '../../../test/capture/pcap-build.ts';
import { PROTOCOL_HEADER, publish } from '../../../test/wire/amqp/oracle.ts';

function conv(port: number, ts: number): Conversation {
  const c = new Conversation({
    client: { ip: '192.168.1.10', port },
    server: { ip: '192.168.1.1', port: 5672 },
    ts,
  });
  c.handshake();
  c.send(true, PROTOCOL_HEADER);
  c.send(true, publish(1, 'nova', `from-${port}`, Buffer.from('x')));
  return c;
}

test('pcapng with several sections of different byte order, link type and timestamp resolution', () => {
  const a = conv(40001, 1_700_000_000_000);
  const b = conv(40002, 1_700_000_001_000);
  const bytes = Buffer.concat([
    writePcapng(a.packets, { littleEndian: true, tsresol: 6, linkType: 1 }),
    writePcapng(b.packets, { littleEndian: false, tsresol: 9, linkType: 1 }),
  ]);
  for (const chunk of [bytes.length, 333, 13]) {
    const { messages, result } = decodeBytes(bytes, { chunk });
    assert.deepEqual(
      messages.map((m) => [m.routingKey, Math.round(m.ts)]),
      [
        ['from-40001', Math.round(a.packets.at(-1)!.ts)],
        ['from-40002', Math.round(b.packets.at(-1)!.ts)],
      ],
    );
    assert.equal(result.skipped.records, 0);
    assert.equal(result.packets, a.packets.length + b.packets.length);
  }
});

test('a pcapng block whose trailer disagrees with its length is skipped; the next blocks decode', () => {
  const a = conv(40001, 1_700_000_000_000);
  const good = writePcapng(a.packets);
  const bad = Buffer.from(good);
  // SHB (28) + IDB (32) + first EPB: break the first EPB's trailing length
  const epb = 28 + 32;
  const total = bad.readUInt32LE(epb + 4);
  bad.writeUInt32LE(total + 4, epb + total - 4);
  const { messages, result } = decodeBytes(bad, { input: 'x.pcapng', chunk: 50 });
  assert.equal(result.skipped.records, 1);
  assert.equal(result.skipped.issues[0]!.offset, epb);
  assert.equal(result.skipped.issues[0]!.input, 'x.pcapng');
  // the lost packet is the client's SYN: the stream is then joined mid-way, the publish still decodes
  assert.deepEqual(
    messages.map((m) => m.routingKey),
    ['from-40001'],
  );
});

test('a packet block naming an interface that was never described is counted', () => {
  const a = conv(40001, 1_700_000_000_000);
  const bytes = Buffer.from(writePcapng(a.packets));
  bytes.writeUInt32LE(7, 28 + 32 + 8); // interface id of the first EPB
  const { result } = decodeBytes(bytes);
  assert.equal(result.skipped.records, 1);
  assert.match(result.skipped.issues[0]!.message, /unknown interface 7/);
});

test('pcap timestamps: µs and ns files give the same times to the µs', () => {
  const a = conv(40001, 1_700_000_000_123.457);
  const us = decodeBytes(writePcap(a.packets)).messages[0]!.ts;
  const ns = decodeBytes(writePcap(a.packets, { nanoseconds: true })).messages[0]!.ts;
  assert.ok(Math.abs(us - ns) < 0.001);
  assert.ok(Math.abs(us - a.packets.at(-1)!.ts) < 0.001);
});

test('an unsupported link type is one issue naming it, every packet counted', () => {
  const a = conv(40001, 1_700_000_000_000);
  const { result, messages } = decodeBytes(
    writePcap(a.packets, { linkType: 1 }).fill(0, 20, 21).fill(105, 20, 21),
  );
  assert.equal(messages.length, 0);
  assert.equal(result.skipped.records, a.packets.length);
  assert.equal(result.skipped.issues.length, 1);
  assert.match(result.skipped.issues[0]!.message, /link type 105 is not supported/);
});

test('a real capture fed a few bytes at a time decodes as it does whole, truncated end included', () => {
  const whole = readFileSync(new URL('../../../data/nova-zed/boot.pcap', import.meta.url));
  // cut inside the last record: the truncated tail must be counted the same way
  const bytes = whole.subarray(0, whole.length - 100);
  const key = (r: ReturnType<typeof decodeBytes>) => ({
    messages: r.messages.map((m) => [m.connection?.id, m.routingKey, m.ts, m.body.length]),
    packets: r.result.packets,
    skipped: [r.result.skipped.records, r.result.skipped.bytes],
  });
  const reference = key(decodeBytes(bytes));
  assert.ok(reference.messages.length > 50, `${reference.messages.length} messages`);
  assert.equal(reference.skipped[0], 1);
  for (const chunk of [1, 7, 1000])
    assert.deepEqual(key(decodeBytes(bytes, { chunk })), reference, `chunk ${chunk}`);
});
