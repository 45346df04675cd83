/**
 * End to end, `rpcscope report --live lo`: tcpdump decoded as it runs, the report printed on
 * Ctrl-C, must say exactly what the real python oslo.messaging harness sent. The harness talks
 * through a loopback relay port of its own so the capture holds only its connections (the broker
 * is shared with other tests).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertCallsMatch,
  assertReportMatches,
  brokerRelay,
  makeVhost,
  type ReportJson,
  runHarness,
  startCli,
  until,
} from '../harness/oslo.ts';

test('report --live decodes a live tcpdump and reports exactly what oslo.messaging sent', async (t) => {
  const vh = await makeVhost('rpcscope-e2e-report-live');
  t.after(vh.remove);
  const proxy = await brokerRelay();
  t.after(proxy.close);
  const live = await startCli(
    ['report', '--live', 'lo', '--port', String(proxy.port), '--json'],
    /Ctrl-C to stop and report/,
  );
  t.after(() => {
    if (live.child.exitCode === null) live.child.kill('SIGKILL');
  });
  const { manifest } = await runHarness(`rabbit://guest:guest@127.0.0.1:${proxy.port}/${vh.name}`);
  const expected = manifest.messages.published + manifest.messages.delivered;
  // progress lines on stderr ("N messages so far") tell when everything has been decoded
  await until(`${expected} messages decoded live`, () => {
    const m = [...live.stderr().matchAll(/(\d+) messages so far/g)].pop();
    return m !== undefined && Number(m[1]) >= expected;
  });
  live.child.kill('SIGINT');
  const r = await live.done;
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ReportJson;
  assertReportMatches(report, manifest);
  assertCallsMatch(report, manifest);
  assert.ok(
    !r.stdout.includes(manifest.secret) && !r.stderr.includes(manifest.secret),
    'the secret is never printed',
  );
});
