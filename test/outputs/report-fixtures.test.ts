/**
 * The report on every real-nova fixture (data/nova-zed) counts what the capture holds.
 * Expected numbers are derived here independently of rpcscope's decoder: from the raw tracing log
 * lines with a tiny classification rule, from tshark where it is installed, and from constants
 * checked by hand with
 *   tshark -r X.pcap -Y 'amqp.method.class == 60 && amqp.method.method == 40' -T fields \
 *     -e amqp.method.arguments.routing_key | tr ',' '\n' | wc -l      (Basic.Publish; 60 = Deliver)
 * and the fixtures README (published/received records; pcap extras around the trace window).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildReport, ReportAccumulator } from '../../src/outputs/report.ts';
import { loadCaptures } from '../../src/pipeline/load.ts';
import type { RpcMessage } from '../../src/records.ts';
import { renderReport } from '../../src/render/report-text.ts';

const FIX = fileURLToPath(new URL('../../data/nova-zed/', import.meta.url));
const SCENARIOS = ['idle', 'boot', 'stop', 'start', 'delete'] as const;

/** tshark-verified Basic.Publish / Basic.Deliver counts of each pcap (see the header). */
const PCAP = {
  idle: { published: 71, delivered: 213, extra: 0 },
  boot: { published: 41, delivered: 107, extra: 0 },
  stop: { published: 19, delivered: 45, extra: 2 },
  start: { published: 46, delivered: 104, extra: 13 },
  delete: { published: 36, delivered: 88, extra: 2 },
} as const;

type Rec = { type: string; exchange: string; routing_keys: string[]; payload: string };

function tracingRecords(s: string): Rec[] {
  return readFileSync(join(FIX, `${s}.tracing.json`), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Rec);
}

function inner(r: Rec): Record<string, unknown> {
  const outer = JSON.parse(Buffer.from(r.payload, 'base64').toString('utf8')) as Record<string, string>;
  return JSON.parse(outer['oslo.message'] as string) as Record<string, unknown>;
}

/** A deliberately small rule, independent of src/wire/oslo: where it went, then what it carries. */
function kindOf(r: Rec): string {
  const key = r.routing_keys[0] ?? '';
  if (r.exchange === '' && key.startsWith('reply_')) return 'reply';
  if (r.exchange.endsWith('_fanout')) return 'fanout';
  const m = inner(r);
  if ('event_type' in m) return 'notification';
  if ('_msg_id' in m) return 'call';
  if ('method' in m) return 'cast';
  return 'other';
}

function window(s: string): { start: number; end: number } {
  const lines = readFileSync(join(FIX, `${s}.meta.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { start?: number; end?: number });
  const start = lines.find((l) => l.start !== undefined)?.start;
  const end = lines.find((l) => l.end !== undefined)?.end;
  assert.ok(start !== undefined && end !== undefined);
  return { start: start * 1000, end: end * 1000 };
}

function tshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('tracing log and firehose JSONL: the report counts every published record, classified', async () => {
  for (const s of SCENARIOS) {
    const recs = tracingRecords(s);
    const published = recs.filter((r) => r.type === 'published');
    const expected: Record<string, number> & { call: number; reply: number; other: number } = {
      call: 0,
      cast: 0,
      fanout: 0,
      reply: 0,
      notification: 0,
      other: 0,
    };
    for (const r of published) expected[kindOf(r)] = (expected[kindOf(r)] ?? 0) + 1;
    const calls = new Set(published.filter((r) => kindOf(r) === 'call').map((r) => inner(r)._msg_id));
    const answered = new Set(
      published
        .filter((r) => kindOf(r) === 'reply' && inner(r).ending === true && calls.has(inner(r)._msg_id))
        .map((r) => inner(r)._msg_id),
    );
    // Instance.save as nova's conductor proxies it: object_action on an objinst named Instance
    const instanceSave = published.filter((r) => {
      const m = inner(r);
      const a = m.args as { objinst?: Record<string, unknown>; objmethod?: string } | undefined;
      return (
        m.method === 'object_action' &&
        a?.objinst?.['nova_object.name'] === 'Instance' &&
        a.objmethod === 'save'
      );
    }).length;

    for (const file of [`${s}.tracing.json`, `${s}.firehose.jsonl`]) {
      const r = buildReport(await loadCaptures([join(FIX, file)]));
      assert.equal(r.messages.published, published.length, file);
      assert.equal(r.messages.delivered, recs.length - published.length, file);
      assert.deepEqual(r.byKind, expected, file);
      assert.equal(r.calls.total, expected.call, file);
      assert.equal(r.calls.answered, answered.size, file);
      assert.equal(r.calls.unanswered + r.calls.noRoute, expected.call - answered.size, file);
      const rowsTotal = r.methods.reduce((n, m) => n + m.count, 0);
      assert.equal(
        rowsTotal,
        published.length - expected.reply - expected.other,
        `${file}: methods cover every non-reply`,
      );
      const row = r.methods.find(
        (m) => m.kind === 'call' && m.topic === 'conductor' && m.object === 'Instance.save',
      );
      assert.equal(row?.count ?? 0, instanceSave, file);
      assert.equal(r.skipped.records, 0);
    }
  }
  // the fixtures README's table
  assert.deepEqual(
    SCENARIOS.map((s) => tracingRecords(s).filter((r) => r.type === 'published').length),
    [71, 41, 17, 33, 34],
  );
});

test('pcap: Basic.Publish / Basic.Deliver counts equal tshark; inside the trace window the same RPCs as the tracing log', async () => {
  const haveTshark = tshark();
  for (const s of SCENARIOS) {
    const path = join(FIX, `${s}.pcap`);
    const loaded = await loadCaptures([path]);
    const r = buildReport(loaded);
    assert.equal(r.messages.published, PCAP[s].published, s);
    assert.equal(r.messages.delivered, PCAP[s].delivered, s);
    if (haveTshark) {
      // one tshark run per pcap: every Basic method id of every AMQP frame (several per packet)
      const methods = execFileSync(
        'tshark',
        [
          '-r',
          path,
          '-Y',
          'amqp.method.class == 60',
          '-T',
          'fields',
          '-e',
          'amqp.method.class',
          '-e',
          'amqp.method.method',
        ],
        { encoding: 'utf8' },
      )
        .split('\n')
        .flatMap((line) => {
          const [classes = '', ids = ''] = line.split('\t');
          const c = classes.split(',');
          return ids.split(',').filter((_, i) => c[i] === '60');
        });
      assert.equal(
        r.messages.published,
        methods.filter((m) => m === '40').length,
        `${s} vs tshark Basic.Publish`,
      );
      assert.equal(
        r.messages.delivered,
        methods.filter((m) => m === '60').length,
        `${s} vs tshark Basic.Deliver`,
      );
    }
    const { start, end } = window(s);
    const key = (m: RpcMessage) =>
      `${m.kind} ${m.exchange} ${m.topic} ${m.method ?? m.eventType ?? ''} ${m.object ?? ''}`;
    const tally = (msgs: readonly RpcMessage[]) => {
      const t = new Map<string, number>();
      for (const m of msgs) if (m.wire.event === 'publish') t.set(key(m), (t.get(key(m)) ?? 0) + 1);
      return [...t].sort();
    };
    const inWindow = loaded.messages.filter((m) => m.wire.ts >= start && m.wire.ts <= end);
    const outside = loaded.messages.filter(
      (m) => m.wire.event === 'publish' && (m.wire.ts < start || m.wire.ts > end),
    );
    assert.equal(outside.length, PCAP[s].extra, `${s}: publishes around the window (fixtures README)`);
    const tracing = await loadCaptures([join(FIX, `${s}.tracing.json`)]);
    assert.deepEqual(tally(inWindow), tally(tracing.messages), s);
  }
});

test('no secret from the fixtures appears in any report output', async () => {
  const secrets = new Set<string>();
  const walk = (v: unknown, secretKey: boolean) => {
    if (typeof v === 'string' && secretKey && v.length >= 4) secrets.add(v);
    if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) walk(x, /password|token/i.test(k));
  };
  for (const s of SCENARIOS)
    for (const l of readFileSync(join(FIX, `${s}.firehose.jsonl`), 'utf8').split('\n'))
      if (l !== '') walk((JSON.parse(l) as { oslo_message?: unknown }).oslo_message, false);
  assert.ok(secrets.has('admin:admin'), 'the noauth2 token is in the fixtures');
  assert.ok(secrets.size >= 2, `the boot admin_password is in the fixtures: ${[...secrets].length}`);
  for (const s of SCENARIOS)
    for (const ext of ['pcap', 'tracing.json', 'firehose.jsonl']) {
      const r = buildReport(await loadCaptures([join(FIX, `${s}.${ext}`)]));
      const out = JSON.stringify(r) + renderReport(r);
      for (const secret of secrets)
        assert.ok(!out.includes(secret), `${s}.${ext} leaks ${secret.slice(0, 2)}…`);
    }
});

test('the streamed report (keep: false) equals the report over kept records', async () => {
  for (const file of ['boot.pcap', 'start.tracing.json']) {
    const acc = new ReportAccumulator();
    const streamed = await loadCaptures([join(FIX, file)], { keep: false, sinks: [acc] });
    assert.equal(streamed.messages.length, 0, 'nothing kept');
    assert.deepEqual(acc.result(streamed), buildReport(await loadCaptures([join(FIX, file)])), file);
  }
});
