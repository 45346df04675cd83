import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupOperations, publishedMessages, type ServiceRef } from '../correlate/operations.ts';
import { specResolver } from '../correlate/spec-services.ts';
import type { ConnectionRef, RpcKind, RpcMessage } from '../records.ts';
import { analyseBackground, BackgroundAccumulator, type BackgroundOptions, windowTest } from './periodic.ts';
import { loadSpecInput } from './spec-load.ts';

const ZED = new URL('../../data/nova-zed/', import.meta.url).pathname;
const NEUTRON = new URL('../../test/fixtures/neutron-rig/', import.meta.url).pathname;

/**
 * `m` behind proxies revoked once `use` returns: reading the message, or any object reached through
 * it, after that throws, so an accumulator that kept a reference fails at finish.
 */
function lend(m: RpcMessage, use: (m: RpcMessage) => void): void {
  const revokes: (() => void)[] = [];
  const wrap = <T extends object>(o: T): T => {
    const { proxy, revoke } = Proxy.revocable(o, {
      get(target, key) {
        const v: unknown = Reflect.get(target, key);
        return typeof v === 'object' && v !== null ? wrap(v) : v;
      },
    });
    revokes.push(revoke);
    return proxy;
  };
  use(wrap(m));
  for (const r of revokes) r();
}

/** The spec's background of real captures, as buildSpec hands it over (one segment per file). */
async function backgroundOf(files: readonly string[]) {
  const loaded = await loadSpecInput(files);
  const resolve = specResolver(loaded);
  const published = publishedMessages(loaded.messages);
  const operationWindows: { startMs: number; endMs: number }[] = [];
  const background = groupOperations(published, loaded.calls, { resolve }, (op) =>
    operationWindows.push({ startMs: op.startMs, endMs: op.endMs }),
  );
  const options: BackgroundOptions = {
    windowMs: loaded.segments?.reduce((s, g) => s + g.endMs - g.startMs, 0) ?? 0,
    ...(loaded.segments !== undefined ? { segments: loaded.segments } : {}),
    operationWindows,
    resolve,
  };
  return { published, background, options };
}

for (const files of [
  ['boot.pcap', 'delete.pcap', 'idle.pcap'].map((f) => ZED + f),
  ['idle.pcap', 'agent-restart.pcap'].map((f) => NEUTRON + f),
]) {
  test(`accumulator in batches, messages revoked after each call, equals analyseBackground: ${files.map((f) => f.split('/').slice(-2).join('/')).join(' ')}`, async () => {
    const { published, background, options } = await backgroundOf(files);
    const whole = analyseBackground(background, { ...options, allMessages: published });
    const rows = whole.flatMap((s) => s.periodic);
    assert.ok(rows.length >= 7, 'several background RPCs');
    assert.ok(
      rows.some((p) => p.repliesPerMinute > 0),
      'background calls with their replies',
    );
    assert.ok(
      rows.some((p) => p.periodS !== undefined),
      'periods measured',
    );

    const acc = new BackgroundAccumulator();
    for (const m of published) lend(m, (v) => acc.seen(v));
    // uneven batches, as a streaming spec hands them over
    const sizes = [1, 7, 50, 3, 400];
    for (let at = 0, i = 0; at < background.length; i++) {
      const n = sizes[i % sizes.length] ?? 1;
      for (const m of background.slice(at, at + n)) lend(m, (v) => acc.add(v));
      at += n;
    }
    assert.deepEqual(acc.finish(options), whole);
    // finish leaves the accumulator as it was
    assert.deepEqual(acc.finish(options), whole);
  });
}

for (const files of [
  ['boot.pcap', 'delete.pcap', 'idle.pcap'].map((f) => ZED + f),
  ['idle.pcap', 'agent-restart.pcap', 'port-create.pcap'].map((f) => NEUTRON + f),
]) {
  test(`settled halfway (series fed one message at a time, replies let go after a while) with the same resolver, equals analyseBackground: ${files.map((f) => f.split('/').slice(-2).join('/')).join(' ')}`, async () => {
    const { published, background, options } = await backgroundOf(files);
    const whole = analyseBackground(background, { ...options, allMessages: published });
    const inOperation = windowTest(options.operationWindows ?? []);
    const segments = options.segments ?? [];
    const segmentOf = (t: number): number => {
      const i = segments.findIndex((g) => t >= g.startMs && t <= g.endMs);
      return i < 0 ? segments.length : i;
    };
    const acc = new BackgroundAccumulator();
    for (const m of published) acc.seen(m);
    const half = background.length >> 1;
    for (const m of background.slice(0, half)) lend(m, (v) => acc.add(v, inOperation(v.wire.ts)));
    assert.equal(acc.held, background.filter((m, i) => i < half && m.kind !== 'reply').length);
    acc.settle(options.resolve, segmentOf);
    assert.equal(acc.held, 0);
    assert.ok(acc.isSettled);
    for (const m of background.slice(half)) lend(m, (v) => acc.add(v, inOperation(v.wire.ts)));
    assert.equal(acc.held, 0, 'nothing held per message once settled');
    const { operationWindows: _, ...rest } = options;
    assert.deepEqual(
      acc.finish({ ...rest, anyOperations: (options.operationWindows ?? []).length > 0 }),
      whole,
    );
  });
}

test('settled: a sender is named with what the resolver knew then', () => {
  const learnt = new Map<string, ServiceRef>();
  const resolve = (m: RpcMessage): ServiceRef | undefined => {
    const c = m.wire.connection;
    return c === undefined ? undefined : learnt.get(c.id);
  };
  const acc = new BackgroundAccumulator();
  const msgs = heartbeats(40001, false);
  for (const m of msgs.slice(0, 6)) acc.add(m);
  acc.settle(resolve, () => 0);
  learnt.set(conn(40001).id, { type: 'nova-compute', instance: 'cmp-1' });
  for (const m of msgs.slice(6)) acc.add(m);
  const [svc, ...rest] = acc.finish({ windowMs: 60_000, resolve });
  assert.equal(rest.length, 0);
  assert.equal(svc?.service, 'client 10.0.0.1:40001');
  assert.equal(svc?.periodic[0]?.count, 6);
  assert.equal(svc?.periodic[0]?.periodS, 10);
  assert.equal(svc?.periodic[0]?.repliesPerMinute, 6);
});

let seq = 0;
const conn = (port: number): ConnectionRef => ({
  id: `10.0.0.1:${port} -> 10.0.0.9:5672`,
  client: `10.0.0.1:${port}`,
  server: '10.0.0.9:5672',
});
function msg(
  kind: RpcKind,
  ts: number,
  fields: { port?: number; method?: string; msgId?: string; ending?: boolean; server?: string } = {},
): RpcMessage {
  const { port = 40001, ...rest } = fields;
  return {
    wire: {
      seq: seq++,
      ts,
      source: 'pcap',
      event: 'publish',
      connection: conn(port),
      exchange: 'nova',
      routingKey: kind === 'reply' ? 'reply_x' : 'conductor',
      properties: {},
      bodySize: 500,
    },
    kind,
    envelope: '2.0',
    exchange: 'nova',
    topic: kind === 'reply' ? 'reply_x' : 'conductor',
    context: {},
    bodySize: kind === 'reply' ? 200 : 1000 + (ts % 7),
    ...(kind === 'reply' ? {} : { method: 'report_state' }),
    ...rest,
  };
}

/** A call every 10 s for a minute, each answered; `replyFirst` puts each reply ahead of its call. */
function heartbeats(port: number, replyFirst: boolean): RpcMessage[] {
  const out: RpcMessage[] = [];
  for (let t = 0; t < 60_000; t += 10_000) {
    const id = `${port}-${t}`;
    const call = msg('call', t, { port, msgId: id });
    const beat = msg('reply', t + 5, { msgId: id, ending: false });
    const reply = msg('reply', t + 10, { msgId: id, ending: true });
    out.push(...(replyFirst ? [beat, reply, call] : [call, beat, reply]));
  }
  return out;
}

test('a reply counts toward its call whichever comes first; heartbeats (ending false) do not', () => {
  const opts = { windowMs: 60_000 };
  const after = analyseBackground(heartbeats(40001, false), opts);
  const before = analyseBackground(heartbeats(40001, true), opts);
  assert.deepEqual(before, after);
  const row = after[0]?.periodic[0];
  assert.equal(row?.count, 6);
  assert.equal(row?.periodS, 10);
  assert.equal(row?.perMinute, 6);
  assert.equal(row?.repliesPerMinute, 6, 'one final reply per call, the heartbeat reply left out');

  // split across add() batches with the reply in the batch before its call
  const acc = new BackgroundAccumulator();
  const msgs = heartbeats(40001, true);
  for (const m of msgs) acc.seen(m);
  for (const m of msgs.slice(0, 2)) acc.add(m);
  for (const m of msgs.slice(2)) acc.add(m);
  assert.deepEqual(acc.finish(opts), after);
});

test('a reply goes to the last background call with its _msg_id, as before', () => {
  // the same id published twice (a retried publish), from two senders: the later one owns the reply
  const bg = [
    msg('call', 0, { port: 40001, msgId: 'dup' }),
    msg('reply', 10, { msgId: 'dup' }),
    msg('call', 20, { port: 40002, msgId: 'dup', method: 'other' }),
  ];
  const out = analyseBackground(bg, { windowMs: 60_000 });
  const rows = out.flatMap((s) => s.periodic);
  assert.equal(rows.find((p) => p.method === 'report_state')?.repliesPerMinute, 0);
  assert.equal(rows.find((p) => p.method === 'other')?.repliesPerMinute, 1);
});

test('identity is decided at finish: a resolver that learns its connections after the adds', () => {
  const learnt = new Map<string, ServiceRef>();
  const resolve = (m: RpcMessage): ServiceRef | undefined => {
    const c = m.wire.connection;
    return c === undefined ? undefined : learnt.get(c.id);
  };
  const msgs = [...heartbeats(40001, false), ...heartbeats(40002, false)].sort(
    (a, b) => a.wire.ts - b.wire.ts,
  );
  const acc = new BackgroundAccumulator();
  for (const m of msgs) lend(m, (v) => acc.seen(v));
  for (const m of msgs) lend(m, (v) => acc.add(v));
  // nothing known yet: each connection is a client of its own
  const unknown = acc.finish({ windowMs: 60_000, resolve });
  assert.deepEqual(
    unknown.map((s) => s.service),
    ['client 10.0.0.1:40001', 'client 10.0.0.1:40002'],
  );
  learnt.set(conn(40001).id, { type: 'nova-compute', instance: 'cmp-1' });
  learnt.set(conn(40002).id, { type: 'nova-compute', instance: 'cmp-2' });
  const [svc, ...rest] = acc.finish({ windowMs: 60_000, resolve });
  assert.equal(rest.length, 0);
  assert.equal(svc?.service, 'nova-compute');
  assert.deepEqual(svc?.instanceNames, ['cmp-1', 'cmp-2']);
  assert.equal(svc?.periodic[0]?.count, 6, 'per instance');
  assert.equal(svc?.perInstancePerMinute, 12, 'six calls and six replies a minute');
});

test('an unnamed instance is named by the one host its service is addressed at', () => {
  const acc = new BackgroundAccumulator();
  const toHost = (server: string): RpcMessage => ({ ...msg('cast', 0, { server }), topic: 'compute' });
  const resolve = (): ServiceRef => ({ type: 'nova-compute' });
  acc.seen(toHost('cmp-1'));
  acc.seen(toHost('cmp-1'));
  for (const m of heartbeats(40001, false)) acc.add(m);
  assert.deepEqual(acc.finish({ windowMs: 60_000, resolve })[0]?.instanceNames, ['cmp-1']);
  acc.seen(toHost('cmp-2'));
  assert.deepEqual(acc.finish({ windowMs: 60_000, resolve })[0]?.instanceNames, ['unnamed']);
});

test('replies are counted for calls let go long before the end; a reply minutes after its call is not', () => {
  const msgs: RpcMessage[] = [];
  for (let t = 0; t < 600_000; t += 10_000) {
    msgs.push(msg('call', t, { msgId: `c-${t}` }), msg('reply', t + 10, { msgId: `c-${t}` }));
  }
  // answered five minutes late (oslo's caller gave up after rpc_response_timeout)
  msgs.push(msg('call', 600_000, { msgId: 'slow' }));
  for (let t = 600_010; t < 900_000; t += 10_000) msgs.push(msg('cast', t, { method: 'tick' }));
  msgs.push(msg('reply', 900_000, { msgId: 'slow' }));
  const [svc] = analyseBackground(msgs, { windowMs: 900_000 });
  const row = svc?.periodic.find((p) => p.method === 'report_state');
  assert.equal(row?.count, 61);
  // 60 of 61 calls answered: the rate of replies is the calls' rate × 60/61
  assert.equal(row?.repliesPerMinute, Math.round((((row?.perMinute ?? 0) * 60) / 61) * 1000) / 1000);
});
