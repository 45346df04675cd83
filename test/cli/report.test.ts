/** `rpcscope report` and `rpcscope demo` as a user runs them (a child process, another cwd). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The installed entry point (registers tsx itself, so it works from any cwd). */
const BIN = join(ROOT, 'bin/rpcscope.js');
const FIX = join(ROOT, 'data/nova-zed');

interface MethodJson {
  kind: string;
  exchange: string;
  topic: string;
  method: string;
  object?: string;
  count: number;
}
interface ReportJson {
  messages: Record<string, number>;
  byKind: Record<string, number>;
  methods: MethodJson[];
  calls: Record<string, unknown> & { latencyMs: Record<string, unknown> };
  skipped: Record<string, number>;
}

function rpcscope(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('report --json has the fields of the issue, counts of published messages', () => {
  const r = rpcscope(['report', '--json', join(FIX, 'stop.tracing.json')]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as ReportJson;
  assert.deepEqual(Object.keys(j.messages).slice(0, 2), ['published', 'delivered']);
  assert.equal(j.messages.published, 17);
  assert.equal(j.messages.delivered, 13);
  assert.deepEqual(Object.keys(j.byKind), ['call', 'cast', 'fanout', 'reply', 'notification', 'other']);
  assert.deepEqual(j.byKind, { call: 6, cast: 1, fanout: 0, reply: 6, notification: 4, other: 0 });
  for (const k of ['total', 'answered', 'unanswered', 'failed', 'failures', 'latencyMs'])
    assert.ok(k in j.calls, k);
  for (const k of ['p50', 'p90', 'p99', 'max']) assert.equal(typeof j.calls.latencyMs[k], 'number');
  for (const k of ['bytes', 'frames', 'records']) assert.equal(j.skipped[k], 0);
  const row = j.methods.find((m) => m.object === 'Instance.save');
  assert.ok(row !== undefined);
  assert.equal(row.kind, 'call');
  assert.equal(row.exchange, 'nova');
  assert.equal(row.topic, 'conductor');
  assert.equal(row.method, 'object_action');
  assert.ok(row.count > 0);
  assert.ok(!j.methods.some((m) => m.kind === 'reply'), 'no rows for replies');
  assert.ok(j.methods.some((m) => m.kind === 'notification' && m.method === 'instance.power_off.start'));
});

test('demo: report, spec and an emulation on the local broker, from any cwd, without secrets', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-demo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const r = rpcscope(['demo', '--computes', '5', '--duration', '5'], dir);
  assert.equal(r.code, 0, r.stderr);
  for (const heading of [
    'Messages by kind',
    'RPC methods',
    'Failures by exception class',
    'Unanswered calls',
    'Slowest calls',
    'Connections',
    'Skipped input',
  ])
    assert.ok(r.stdout.includes(heading), heading);
  assert.match(r.stdout, /messages published 41, delivered 107/);
  assert.match(r.stdout, /Instance\.save/);
  assert.match(r.stdout, /req-37031414-af4f-475d-b94b-f11e29659c07/);
  // the spec of the boot: one operation, 35 messages, as checked by hand in docs/spec.md
  assert.match(r.stdout, /server create \(schedule_and_build_instances\): 35 messages/);
  const html = await readFile(join(dir, 'rpcscope-demo', 'spec.html'), 'utf8');
  assert.match(html, /<svg/);
  // the emulation ran on the broker: every service connected, calls answered, no timeout
  assert.match(r.stdout, /8\/8 services connected/);
  assert.match(r.stdout, /call\/nova-compute/);
  const emu = await readFile(join(dir, 'rpcscope-demo', 'emulation.html'), 'utf8');
  assert.match(emu, /<svg/);
  for (const out of [r.stdout, r.stderr, html]) {
    assert.ok(!out.includes('admin:admin'));
    assert.ok(!out.includes('TYpE4ZVjDj74'));
  }
});

test('demo without a broker: report and spec, the emulation step says why it was skipped', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-demo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const r = rpcscope(['demo', '--amqp', 'amqp://guest:secretpw@127.0.0.1:1'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /messages published 41/);
  assert.match(r.stdout, /no broker answers at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1: emulation skipped/);
  assert.ok(!r.stdout.includes('secretpw'));
});

test('a file that is not a capture: exit 2 and a message naming the file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-report-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const junk = join(dir, 'notes.txt');
  await writeFile(junk, 'hello\n');
  const r = rpcscope(['report', junk]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(junk), r.stderr);
  assert.match(r.stderr, /not a capture/);
});
