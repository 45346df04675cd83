/**
 * End to end, firehose: `rpcscope capture --amqp` records a vhost while the real python
 * oslo.messaging (RPC server, client, notifier) runs in it; `rpcscope report --json` of that
 * recording must say exactly what the harness sent. Tracing must be back off afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  assertCallsMatch,
  assertReportMatches,
  cli,
  makeVhost,
  mgmt,
  type ReportJson,
  runHarness,
  startCli,
  until,
} from '../harness/oslo.ts';

async function lineCount(path: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '').length;
}

test('capture --amqp of real oslo.messaging traffic reports exactly what was sent', async (t) => {
  const vh = await makeVhost('rpcscope-e2e-firehose');
  t.after(vh.remove);
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-e2e-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'capture.tracing.json');

  assert.equal((await mgmt.vhost(vh.name)).tracing, false);
  const cap = await startCli(
    ['capture', '--amqp', 'amqp://guest:guest@127.0.0.1:5672', '--vhost', vh.name, '--out', out],
    /Ctrl-C to stop/,
  );
  t.after(() => {
    if (cap.child.exitCode === null) cap.child.kill('SIGKILL');
  });
  assert.equal((await mgmt.vhost(vh.name)).tracing, true, 'tracing on while capturing');

  const { manifest, stderr: harnessLog } = await runHarness(`rabbit://guest:guest@127.0.0.1:5672/${vh.name}`);
  t.diagnostic(`harness: ${JSON.stringify({ ...manifest, secret: '(hidden)' })}`);
  // Every publish and delivery gives one record; wait until they are all written, then stop
  // the capture the way an operator does: Ctrl-C.
  const expected = manifest.messages.published + manifest.messages.delivered;
  await until(`${expected} records in ${out}`, async () => (await lineCount(out)) >= expected);
  cap.child.kill('SIGINT');
  const capRun = await cap.done;
  assert.equal(capRun.code, 0, capRun.stderr);
  assert.match(capRun.stderr, /stopped \(SIGINT\).*0 dropped.*tracing restored off/);
  assert.equal((await mgmt.vhost(vh.name)).tracing, false, 'tracing restored off after capture');
  assert.equal(await lineCount(out), expected, 'no record more than the harness caused');

  await vh.remove();
  await assert.rejects(mgmt.vhost(vh.name), { status: 404 }, 'vhost deleted');

  const rep = await cli(['report', out, '--json']);
  assert.equal(rep.code, 0, rep.stderr);
  const report = JSON.parse(rep.stdout) as ReportJson;

  await t.test('messages, kinds and the methods table match the manifest', () => {
    assertReportMatches(report, manifest);
  });

  await t.test('calls: answered, failed with the exception class, the timed-out one unanswered', () => {
    assertCallsMatch(report, manifest);
  });

  await t.test('the secret never appears in what rpcscope prints', async () => {
    // The auth token is in every context and the admin_password argument of every cast: it is
    // in the capture file (a raw recording, like the plugin's log), never in rpcscope's output.
    const bodies = (await readFile(out, 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => Buffer.from((JSON.parse(l) as { payload: string }).payload, 'base64').toString());
    assert.ok(bodies.filter((b) => b.includes(manifest.secret)).length > 0, 'the secret did travel');
    const human = await cli(['report', out]);
    assert.equal(human.code, 0, human.stderr);
    for (const [name, text] of [
      ['capture stderr', capRun.stderr],
      ['capture stdout', capRun.stdout],
      ['report --json', rep.stdout + rep.stderr],
      ['report', human.stdout + human.stderr],
    ] as const) {
      assert.ok(!text.includes(manifest.secret), `${name} shows the secret`);
    }
    assert.ok(!harnessLog.includes(manifest.secret), 'harness log shows the secret');
  });
});
