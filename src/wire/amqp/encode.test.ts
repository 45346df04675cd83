import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defs, header, methodInfos, publish } from '../../../test/wire/amqp/oracle.ts';
import type { AmqpProperties } from '../../records.ts';
import { Cursor } from './cursor.ts';
import {
  EncodeError,
  encodeContentHeader,
  encodeMethodFrame,
  encodePublish,
  encodeTable,
  HEARTBEAT_FRAME,
} from './encode.ts';
import { decodeTable } from './field-table.ts';
import { decodeMethod, METHODS } from './methods.ts';
import { decodeContentHeader } from './properties.ts';

/** A small deterministic PRNG (mulberry32): the same arguments on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Field values of every kind amqplib writes, with the integers at each width's bounds. */
const TABLE: Record<string, unknown> = {
  s: 'x-expires → ü',
  empty: '',
  t: true,
  f: false,
  n: null,
  b0: 0,
  bmax: 127,
  bmin: -128,
  s16: 128,
  s16min: -32768,
  i32: 1_800_000,
  i32min: -0x80000000,
  l64: 2 ** 40,
  d: 0.25,
  arr: [1, 'two', [true], { k: 300 }],
  nested: { capabilities: { 'connection.blocked': true, consumer_cancel_notify: true } },
  bytes: Buffer.from([0, 1, 2, 255]),
  skipped: undefined,
};

function argValue(type: string, r: () => number): unknown {
  switch (type) {
    case 'octet':
      return Math.floor(r() * 256);
    case 'short':
      return Math.floor(r() * 65536);
    case 'long':
      return Math.floor(r() * 2 ** 32);
    case 'longlong':
      return Math.floor(r() * 2 ** 48);
    case 'shortstr':
      return 'q'.repeat(Math.floor(r() * 40)) + (r() < 0.3 ? 'é' : '');
    case 'longstr':
      return 'L'.repeat(Math.floor(r() * 300));
    case 'bit':
      return r() < 0.5;
    case 'table':
      return r() < 0.5 ? {} : { 'x-expires': 1_800_000, 'x-queue-type': 'quorum', 'x-ha-policy': 'all' };
    default:
      throw new Error(type);
  }
}

/** amqplib takes longstr arguments as Buffers. */
function oracleFields(
  spec: (typeof METHODS)[number],
  args: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...args };
  for (const a of spec.args) if (a.type === 'longstr') out[a.name] = Buffer.from(args[a.name] as string);
  return out;
}

test('every method encodes byte for byte as amqplib encodes it, and decodes back', () => {
  const r = prng(7);
  const amqplibIds = new Set(methodInfos().map((m) => m.id));
  let compared = 0;
  for (const spec of METHODS) {
    const id = (spec.classId << 16) | spec.methodId;
    for (let round = 0; round < 20; round++) {
      const args: Record<string, unknown> = {};
      for (const a of spec.args) args[a.name] = argValue(a.type, r);
      const mine = encodeMethodFrame(3, spec.classId, spec.methodId, args);
      if (amqplibIds.has(id)) {
        const theirs = defs.encodeMethod(id, 3, oracleFields(spec, args));
        assert.deepEqual(mine, theirs, `${spec.name} round ${round}`);
        compared++;
      }
      assert.equal(mine[0], 1);
      assert.equal(mine.readUInt16BE(1), 3);
      assert.equal(mine.readUInt32BE(3), mine.length - 8);
      assert.equal(mine[mine.length - 1], 0xce);
      const back = decodeMethod(mine, 7, mine.length - 1);
      assert.equal(back.name, spec.name);
      for (const a of spec.args) {
        const v = back.args[a.name];
        if (a.type === 'longstr') assert.equal(Buffer.from(v as Uint8Array).toString(), args[a.name]);
        else assert.deepEqual(v, args[a.name], `${spec.name}.${a.name}`);
      }
    }
  }
  assert.ok(compared > 60 * 20, `compared ${compared} frames with amqplib's`);
});

test('omitted arguments are what amqplib sends for them: 0, empty string, false, empty table', () => {
  for (const [c, m, given] of [
    [50, 20, { queue: 'q', exchange: 'x', routingKey: 'k' }],
    [50, 10, { queue: 'q' }],
    [60, 20, { queue: 'q' }],
    [20, 10, {}],
    [85, 10, {}],
    [60, 80, { deliveryTag: 9 }],
  ] as const) {
    const theirs = defs.encodeMethod((c << 16) | m, 1, given);
    assert.deepEqual(encodeMethodFrame(1, c, m, given), theirs, `${c}.${m}`);
  }
});

test('field tables: every value type as amqplib writes it, inherited keys after own ones, decoded back', () => {
  const mine = encodeMethodFrame(1, 50, 10, { queue: 'q', arguments: TABLE });
  const theirs = defs.encodeMethod((50 << 16) | 10, 1, { queue: 'q', arguments: TABLE });
  assert.deepEqual(mine, theirs);
  const t = encodeTable(TABLE);
  const back = decodeTable(new Cursor(t, 0, t.length));
  const { skipped: _s, bytes, ...rest } = TABLE;
  assert.deepEqual({ ...back, bytes: Buffer.from(back.bytes as Uint8Array) }, { ...rest, bytes });
  // amqplib merges its default client properties under the caller's with Object.create.
  const defaults = { product: 'amqplib', capabilities: { publisher_confirms: true } };
  const props = Object.assign(Object.create(defaults) as Record<string, unknown>, {
    connection_name: 'n',
    capabilities: { 'connection.blocked': true },
  });
  const enc = encodeTable(props);
  assert.deepEqual(Object.keys(decodeTable(new Cursor(enc, 0, enc.length))), [
    'connection_name',
    'capabilities',
    'product',
  ]);
  assert.deepEqual(
    encodeMethodFrame(0, 10, 11, {
      clientProperties: props,
      mechanism: 'PLAIN',
      response: '\0u\0p',
      locale: 'en_US',
    }),
    defs.encodeMethod((10 << 16) | 11, 0, {
      clientProperties: props,
      mechanism: 'PLAIN',
      response: Buffer.from('\0u\0p'),
      locale: 'en_US',
    }),
  );
});

test('content header: oslo properties and every property flag, as amqplib encodes them', () => {
  const oslo: AmqpProperties = {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    deliveryMode: 2,
    priority: 0,
    headers: {},
    expiration: '60000',
  };
  const all: AmqpProperties = {
    ...oslo,
    headers: { 'x-h': 'v', n: 5 },
    correlationId: 'c',
    replyTo: 'reply_1',
    messageId: 'm',
    timestamp: 1_764_000_000,
    type: 't',
    userId: 'guest',
    appId: 'a',
  };
  for (const p of [oslo, all, {}]) {
    for (const size of [0, 1, 300_000]) {
      const mine = encodeContentHeader(5, size, p);
      assert.deepEqual(mine, header(5, size, p as Record<string, unknown>));
      const back = decodeContentHeader(mine, 7, mine.length - 1);
      assert.equal(back.bodySize, size);
      assert.deepEqual(back.properties, p);
    }
  }
});

test('publish: method, header and body frames split at frame_max, 0 B to 300 KB, as amqplib', () => {
  const props: AmqpProperties = {
    contentType: 'application/json',
    deliveryMode: 2,
    priority: 0,
    headers: {},
  };
  for (const frameMax of [4096, 131072]) {
    for (const n of [0, 1, frameMax - 9, frameMax - 8, frameMax - 7, 2 * (frameMax - 8), 300_000]) {
      const body = Buffer.alloc(n);
      for (let i = 0; i < n; i++) body[i] = (i * 31) & 0xff;
      const mine = encodePublish(
        1,
        frameMax,
        { exchange: 'neutron', routingKey: 'q-plugin', mandatory: n % 2 === 0 },
        props,
        body,
      );
      const theirs = publish(
        1,
        'neutron',
        'q-plugin',
        body,
        props as Record<string, unknown>,
        frameMax,
        n % 2 === 0,
      );
      assert.deepEqual(mine, theirs, `${n} B at frame_max ${frameMax}`);
    }
  }
});

test('what the wire cannot carry is refused, not truncated', () => {
  assert.throws(() => encodeMethodFrame(1, 50, 10, { queue: 'q'.repeat(256) }), EncodeError);
  assert.throws(() => encodeMethodFrame(1, 99, 99, {}), EncodeError);
  assert.throws(
    () => encodePublish(1, 8, { exchange: '', routingKey: 'q', mandatory: false }, {}, Buffer.alloc(1)),
    EncodeError,
  );
  assert.throws(() => encodeTable({ f: () => 1 }), EncodeError);
});

test('heartbeat frame', () => {
  assert.deepEqual(Buffer.from(HEARTBEAT_FRAME), Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]));
});
