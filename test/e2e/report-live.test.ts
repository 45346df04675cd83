/**
 * End to end, `rpcscope report --live lo`: tcpdump decoded as it runs, the report printed on
 * Ctrl-C, must say exactly what the real python oslo.messaging harness sent. The harness talks
 * through a loopback relay port of its own so the capture holds only its connections (the broker
 * is shared with other tests).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import {
  assertCallsMatch,
  assertReportMatches,
  makeVhost,
  type ReportJson,
  runHarness,
  startCli,
  until,
} from '../harness/oslo.ts';

async function relay(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(5672, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

test('report --live decodes a live tcpdump and reports exactly what oslo.messaging sent', async (t) => {
  const vh = await makeVhost('rpcscope-e2e-report-live');
  t.after(vh.remove);
  const proxy = await relay();
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
