import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RpcCall, RpcMessage } from '../records.ts';
import { type RecordSink, SinkFanOut } from './sink.ts';

const m = { kind: 'cast' } as RpcMessage;
const c = { outcome: 'ok' } as RpcCall;

test('fan-out: each sink gets what it takes, in order; a throwing sink is counted and the rest still get it', () => {
  const seen: string[] = [];
  const errors: string[] = [];
  const sinks: RecordSink[] = [
    { name: 'a', message: () => seen.push('a.message'), call: () => seen.push('a.call') },
    {
      name: 'broken',
      message: () => {
        throw new Error('boom');
      },
    },
    { name: 'b', call: () => seen.push('b.call'), topology: () => seen.push('b.topology') },
  ];
  const out = new SinkFanOut(sinks, { onError: (sink) => errors.push(sink) });
  out.message(m);
  out.message(m);
  out.call(c);
  assert.deepEqual(seen, ['a.message', 'a.message', 'a.call', 'b.call']);
  assert.deepEqual(out.errors, { broken: 2 });
  assert.deepEqual(errors, ['broken', 'broken']);
  out.guard('pipeline', () => {
    throw new Error('x');
  });
  assert.deepEqual(out.errors, { broken: 2, pipeline: 1 });
});

test('fan-out without onError: the error propagates (offline, a bug in an output fails the command)', () => {
  const out = new SinkFanOut([
    {
      name: 'broken',
      call: () => {
        throw new Error('boom');
      },
    },
  ]);
  assert.throws(() => out.call(c), /boom/);
  assert.deepEqual(out.errors, {});
});

test('fan-out close: every sink once, last first, rejections counted; flush reaches each', async () => {
  const order: string[] = [];
  const out = new SinkFanOut(
    [
      {
        name: 'first',
        flush: () => void order.push('flush first'),
        close: async () => void order.push('first'),
      },
      { name: 'failing', close: () => Promise.reject(new Error('no')) },
      { name: 'last', close: () => void order.push('last') },
    ],
    { onError: () => {} },
  );
  await out.flush();
  await out.close();
  await out.close();
  assert.deepEqual(order, ['flush first', 'last', 'first']);
  assert.deepEqual(out.errors, { failing: 1 });
});
