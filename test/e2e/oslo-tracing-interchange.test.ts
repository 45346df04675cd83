/**
 * `rpcscope capture --amqp` writes the rabbitmq_tracing plugin's JSON log format: the plugin
 * and rpcscope record the same real oslo.messaging traffic at the same time, and every record
 * of one must be byte for byte a record of the other, the timestamp aside (each stamps the time
 * it received the copy). Tracing was already on (the plugin's trace turns it on), so rpcscope
 * must leave it on.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, makeVhost, mgmt, type ReportJson, runHarness, startCli, until } from '../harness/oslo.ts';

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** The record as written, minus its timestamp: byte-level comparison of everything else. */
function withoutTimestamp(line: string): string {
  const out = line.replace(/"timestamp":"[^"]*",/, '');
  assert.notEqual(out, line, `no timestamp field in ${line.slice(0, 120)}`);
  return out;
}

test('capture --amqp and the rabbitmq_tracing plugin write the same records', async (t) => {
  const vh = await makeVhost('rpcscope-e2e-interchange');
  t.after(vh.remove);
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-e2e-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'rpcscope.tracing.json');
  const traceName = `rpcscope-e2e-${vh.name.slice(-8)}`;
  const traceFile = `${traceName}.log`;

  await mgmt.putTrace(vh.name, traceName, { format: 'json', pattern: '#' });
  t.after(async () => {
    await mgmt.deleteTrace(vh.name, traceName).catch(() => {});
    await mgmt.deleteTraceFile(traceFile).catch(() => {});
  });
  assert.equal((await mgmt.vhost(vh.name)).tracing, true, 'the plugin turned tracing on');

  const cap = await startCli(
    ['capture', '--amqp', 'amqp://guest:guest@127.0.0.1:5672', '--vhost', vh.name, '--out', out],
    /Ctrl-C to stop/,
  );
  t.after(() => {
    if (cap.child.exitCode === null) cap.child.kill('SIGKILL');
  });
  const { manifest } = await runHarness(`rabbit://guest:guest@127.0.0.1:5672/${vh.name}`);
  const expected = manifest.messages.published + manifest.messages.delivered;
  await until(
    'rpcscope to write every record',
    async () => lines(await readFile(out, 'utf8')).length >= expected,
  );
  await until('the plugin to write every record', async () => {
    const text = await mgmt.traceFile(traceFile).catch(() => '');
    return lines(text).length >= expected;
  });
  cap.child.kill('SIGINT');
  const capRun = await cap.done;
  assert.equal(capRun.code, 0, capRun.stderr);
  assert.match(capRun.stderr, /tracing left on \(tracing was on before the capture\)/);
  assert.equal((await mgmt.vhost(vh.name)).tracing, true, 'rpcscope left tracing on for the plugin');
  await mgmt.deleteTrace(vh.name, traceName);
  const pluginText = await mgmt.traceFile(traceFile);

  const ours = lines(await readFile(out, 'utf8'));
  const theirs = lines(pluginText);
  assert.equal(ours.length, expected);
  assert.equal(theirs.length, expected);
  // Two consumers of the trace exchange may see copies from different channels in a different
  // order; compare as sorted lists of exact byte strings.
  assert.deepEqual(ours.map(withoutTimestamp).sort(), theirs.map(withoutTimestamp).sort());
  // Key order too: same keys in the same order in every record.
  const keys = (l: string) => Object.keys(JSON.parse(l) as object).join(',');
  assert.deepEqual([...new Set(ours.map(keys))], [...new Set(theirs.map(keys))]);

  // And so the report reads both the same.
  const pluginPath = join(dir, 'plugin.tracing.json');
  await writeFile(pluginPath, pluginText);
  const [a, b] = await Promise.all([cli(['report', out, '--json']), cli(['report', pluginPath, '--json'])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const ra = JSON.parse(a.stdout) as ReportJson;
  const rb = JSON.parse(b.stdout) as ReportJson;
  assert.deepEqual(
    { messages: ra.messages, byKind: ra.byKind, methods: ra.methods.map((m) => [m.kind, m.method, m.count]) },
    { messages: rb.messages, byKind: rb.byKind, methods: rb.methods.map((m) => [m.kind, m.method, m.count]) },
  );
});
