import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipTcp, link } from '../../../test/capture/pcap-build.ts';
import {
  ipv4Text,
  ipv6Text,
  newTcpPacket,
  PARSE_BAD,
  PARSE_FRAGMENT,
  PARSE_LINK,
  PARSE_OK,
  PARSE_OTHER,
  parsePacket,
} from './link.ts';

const v6 = (s: string): Uint8Array => {
  const ip = ipTcp({ ip: s, port: 1 }, { ip: '::1', port: 2 }, 0, 0, 0, new Uint8Array(0));
  return ip.subarray(8, 24);
};

test('IPv6 text is RFC 5952 canonical', () => {
  assert.equal(ipv6Text(v6('::1'), 0), '::1');
  assert.equal(ipv6Text(v6('fe80::1:0:0:5'), 0), 'fe80::1:0:0:5');
  assert.equal(ipv6Text(v6('2001:db8:0:0:1:0:0:1'), 0), '2001:db8::1:0:0:1');
  assert.equal(ipv6Text(v6('2001:db8:1:2:3:4:5:6'), 0), '2001:db8:1:2:3:4:5:6');
  assert.equal(ipv6Text(v6('::'), 0), '::');
  assert.equal(ipv6Text(v6('::ffff:c000:0280'), 0), '::ffff:192.0.2.128');
  assert.equal(ipv4Text(0x7f000001), '127.0.0.1');
});

test('802.1Q-tagged Ethernet, TCP header fields and payload bounds', () => {
  const ip = ipTcp(
    { ip: '10.1.2.3', port: 40000 },
    { ip: '10.1.2.4', port: 5672 },
    0xfffffff0,
    77,
    0x18,
    Buffer.from('AMQP'),
  );
  const eth = link(1, ip);
  const tagged = new Uint8Array(eth.length + 4);
  tagged.set(eth.subarray(0, 12), 0);
  tagged.set([0x81, 0x00, 0x00, 0x05], 12);
  tagged.set(eth.subarray(12), 16);
  const t = newTcpPacket();
  assert.equal(parsePacket(1, tagged, 0, tagged.length, t), PARSE_OK);
  assert.equal(ipv4Text(t.src), '10.1.2.3');
  assert.deepEqual([t.sport, t.dport, t.seq, t.ack, t.flags], [40000, 5672, 0xfffffff0, 77, 0x18]);
  assert.equal(Buffer.from(tagged.subarray(t.payload, t.end)).toString(), 'AMQP');
  // Ethernet padding after the IP packet is not payload
  const padded = new Uint8Array(tagged.length + 6);
  padded.set(tagged);
  assert.equal(parsePacket(1, padded, 0, padded.length, t), PARSE_OK);
  assert.equal(t.end - t.payload, 4);
});

test('truncated headers are BAD, UDP and ARP are OTHER, fragments are FRAGMENT', () => {
  const t = newTcpPacket();
  const ip = ipTcp(
    { ip: '10.0.0.1', port: 1 },
    { ip: '10.0.0.2', port: 5672 },
    1,
    1,
    0x10,
    new Uint8Array(10),
  );
  const eth = link(1, ip);
  assert.equal(parsePacket(1, eth, 0, 30, t), PARSE_BAD);
  const udp = Uint8Array.from(eth);
  udp[14 + 9] = 17;
  assert.equal(parsePacket(1, udp, 0, udp.length, t), PARSE_OTHER);
  const arp = Uint8Array.from(eth);
  arp[12] = 0x08;
  arp[13] = 0x06;
  assert.equal(parsePacket(1, arp, 0, arp.length, t), PARSE_OTHER);
  const frag = Uint8Array.from(eth);
  frag[14 + 6] = 0x20; // MF
  assert.equal(parsePacket(1, frag, 0, frag.length, t), PARSE_FRAGMENT);
  assert.equal(parsePacket(147, eth, 0, eth.length, t), PARSE_LINK, 'unknown link type');
});
