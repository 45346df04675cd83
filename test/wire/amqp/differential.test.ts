/**
 * Differential test against amqplib's generated codec (lib/defs.js): every method of AMQP 0-9-1
 * with seeded random arguments, field tables holding every field type, and content headers with
 * all 14 Basic properties, encoded by amqplib and decoded by rpcscope; both decoders must agree.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cursor } from '../../../src/wire/amqp/cursor.ts';
import { decodeTable } from '../../../src/wire/amqp/field-table.ts';
import { decodeMethod, METHODS } from '../../../src/wire/amqp/methods.ts';
import { decodeContentHeader } from '../../../src/wire/amqp/properties.ts';
import { defs, header, methodInfos } from './oracle.ts';
import { rng } from './rng.ts';

/** Canonical form of both decoders' values: amqplib tags T/D with {'!': ...} and returns Buffers. */
function canon(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return v.map(canon);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o['!'] === 'timestamp') return { timestamp: o.value };
    if (o['!'] === 'decimal') return canon(o.value);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) out[k] = canon(o[k]);
    return out;
  }
  return v;
}

function randomString(r: () => number, max: number): string {
  const n = Math.floor(r() * max);
  let s = '';
  const alphabet = Array.from('abcXYZ019._-/ é€😀');
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  // shortstr is 255 bytes at most (UTF-8)
  const chars = Array.from(s); // whole code points: never split a surrogate pair
  while (Buffer.byteLength(chars.join('')) > 255) chars.pop();
  return chars.join('');
}

/** A field table with one value of every type amqplib can encode, nested. */
function everyTypeTable(r: () => number, depth = 0): Record<string, unknown> {
  const t: Record<string, unknown> = {
    str: randomString(r, 40),
    bool: r() < 0.5,
    byte: { '!': 'byte', value: -128 + Math.floor(r() * 256) },
    ubyte: { '!': 'unsignedbyte', value: Math.floor(r() * 256) },
    short: { '!': 'short', value: -32768 + Math.floor(r() * 65536) },
    ushort: { '!': 'unsignedshort', value: Math.floor(r() * 65536) },
    int: { '!': 'int', value: -2147483648 + Math.floor(r() * 4294967296) },
    uint: { '!': 'unsignedint', value: Math.floor(r() * 4294967296) },
    long: { '!': 'long', value: Math.floor((r() - 0.5) * 2 ** 52) },
    double: r() * 1e6 + 0.5,
    float: { '!': 'float', value: 1.5 },
    decimal: {
      '!': 'decimal',
      value: { places: Math.floor(r() * 10), digits: Math.floor(r() * 4294967296) },
    },
    timestamp: { '!': 'timestamp', value: Math.floor(r() * 2 ** 40) },
    void: null,
    bytes: Buffer.from([0, 1, 2, 255, Math.floor(r() * 256)]),
    array: ['a', 1, true, null, { '!': 'timestamp', value: 7 }, [2, 'x']],
    'x-expires': 1800000,
    'x-ha-policy': 'all',
  };
  if (depth < 2) t.nested = everyTypeTable(r, depth + 1);
  return t;
}

function randomArg(r: () => number, type: string): unknown {
  switch (type) {
    case 'octet':
      return Math.floor(r() * 256);
    case 'short':
      return Math.floor(r() * 65536);
    case 'long':
      return Math.floor(r() * 4294967296);
    case 'longlong':
      return Math.floor(r() * 2 ** 50);
    case 'shortstr':
      return randomString(r, 60);
    case 'longstr':
      return Buffer.from(randomString(r, 300));
    case 'bit':
      return r() < 0.5;
    case 'table':
      return everyTypeTable(r);
    case 'timestamp':
      return Math.floor(r() * 2 ** 40);
    default:
      throw new Error(type);
  }
}

test('rpcscope knows exactly the methods amqplib knows', () => {
  const mine = METHODS.map(
    (m) => `${m.classId}.${m.methodId} ${m.name} ${m.args.map((a) => `${a.name}:${a.type}`).join(' ')}`,
  ).sort();
  const theirs = methodInfos()
    .map((m) => `${m.classId}.${m.methodId} ${m.name} ${m.args.map((a) => `${a.name}:${a.type}`).join(' ')}`)
    .sort();
  assert.deepEqual(mine, theirs);
});

test('every method, 20 random argument sets each: rpcscope decodes what amqplib encodes, as amqplib decodes it', () => {
  const r = rng(42);
  let n = 0;
  for (const info of methodInfos()) {
    for (let i = 0; i < 20; i++) {
      const fields: Record<string, unknown> = {};
      for (const a of info.args) fields[a.name] = randomArg(r, a.type);
      const channel = info.classId === 10 ? 0 : 1 + Math.floor(r() * 65535);
      const frame = defs.encodeMethod(info.id, channel, fields);
      assert.equal(frame[0], 1);
      assert.equal(frame.readUInt16BE(1), channel);
      assert.equal(frame.at(-1), 0xce);
      const m = decodeMethod(frame, 7, frame.length - 1);
      assert.equal(m.name, info.name);
      assert.equal(m.classId, info.classId);
      assert.equal(m.methodId, info.methodId);
      const theirs = defs.decode(info.id, frame.subarray(11, frame.length - 1));
      assert.deepEqual(canon(m.args), canon(theirs), `${info.name} #${i}`);
      n++;
    }
  }
  assert.equal(n, methodInfos().length * 20);
});

test('content headers with all 14 Basic properties and every subset pattern agree with amqplib', () => {
  const r = rng(7);
  const names = [
    'contentType',
    'contentEncoding',
    'headers',
    'deliveryMode',
    'priority',
    'correlationId',
    'replyTo',
    'expiration',
    'messageId',
    'timestamp',
    'type',
    'userId',
    'appId',
    'clusterId',
  ];
  const types: Record<string, string> = {
    headers: 'table',
    deliveryMode: 'octet',
    priority: 'octet',
    timestamp: 'timestamp',
  };
  for (let i = 0; i < 200; i++) {
    const props: Record<string, unknown> = {};
    for (const [j, name] of names.entries()) {
      if (i === 0 || (i + j) % 3 !== 0 || r() < 0.3) props[name] = randomArg(r, types[name] ?? 'shortstr');
    }
    const size = Math.floor(r() * 2 ** 40);
    const frame = header(1 + i, size, props);
    const h = decodeContentHeader(frame, 7, frame.length - 1);
    assert.equal(h.classId, 60);
    assert.equal(h.bodySize, size);
    // amqplib's decoder takes the payload from the property flags on (after class, weight, size)
    const theirs = defs.decode(60, frame.subarray(7 + 12, frame.length - 1));
    for (const k of Object.keys(theirs)) if (theirs[k] === undefined) delete theirs[k];
    assert.deepEqual(canon(h.properties), canon(theirs), `header #${i}`);
    assert.deepEqual(Object.keys(h.properties).sort(), Object.keys(props).sort());
    if (i === 0) assert.equal(Object.keys(h.properties).length, 14);
  }
});

test('field tables of every type, 100 random ones, agree with amqplib', () => {
  const r = rng(99);
  for (let i = 0; i < 100; i++) {
    const t = everyTypeTable(r);
    // amqplib encodes a table as the `arguments` of Queue.Declare: take it from there.
    const frame = defs.encodeMethod(defs.QueueDeclare as number, 1, { queue: 'q', arguments: t });
    const theirs = defs.decode(defs.QueueDeclare as number, frame.subarray(11, frame.length - 1)).arguments;
    // payload: class, method, ticket, shortstr "q" (2 bytes), bits, then the table
    const mine = decodeTable(new Cursor(frame, 7 + 4 + 2 + 2 + 1, frame.length - 1));
    assert.deepEqual(canon(mine), canon(theirs));
    assert.equal(typeof (mine.bytes as Uint8Array).byteLength, 'number');
  }
});
