/**
 * End to end, tcpdump: `rpcscope capture --tcpdump lo` records the real python oslo.messaging
 * harness's AMQP connections as pcap; `rpcscope report --json` of the pcap must say exactly what
 * the harness sent.
 *
 * The local broker is shared with other tests running at the same time, so port 5672 on `lo`
 * carries traffic that is not ours. The harness therefore talks to the broker through a plain TCP
 * relay on a loopback port of its own, and tcpdump captures that port only (`capture --port`):
 * the pcap holds exactly the harness's connections, handshakes included (rpcscope recognises
 * AMQP on any port by the protocol header).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readPcapFile } from '../../src/capture/pcap-file.ts';
import {
  assertCallsMatch,
  assertReportMatches,
  brokerRelay,
  cli,
  makeVhost,
  type ReportJson,
  runHarness,
  startCli,
  until,
} from '../harness/oslo.ts';

async function countMessages(path: string): Promise<{ publish: number; deliver: number }> {
  const n = { publish: 0, deliver: 0 };
  try {
    await readPcapFile(path, {
      event(e) {
        if (e.type === 'message' && (e.message.event === 'publish' || e.message.event === 'deliver'))
          n[e.message.event]++;
      },
    });
  } catch {
    // the file is still being written; count again later
  }
  return n;
}

test('capture --tcpdump of real oslo.messaging traffic reports exactly what was sent', async (t) => {
  const vh = await makeVhost('rpcscope-e2e-tcpdump');
  t.after(vh.remove);
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-e2e-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'capture.pcap');
  const proxy = await brokerRelay();
  t.after(proxy.close);

  const cap = await startCli(
    ['capture', '--tcpdump', 'lo', '--port', String(proxy.port), '--out', out],
    /Ctrl-C to stop/,
  );
  t.after(() => {
    if (cap.child.exitCode === null) cap.child.kill('SIGKILL');
  });

  const t0 = Date.now();
  const { manifest } = await runHarness(`rabbit://guest:guest@127.0.0.1:${proxy.port}/${vh.name}`);
  // libpcap hands packets to tcpdump in blocks; wait until the pcap holds everything the
  // harness says it caused, then stop as an operator does (Ctrl-C).
  await until(`the harness's messages in ${out}`, async () => {
    const n = await countMessages(out);
    return n.publish >= manifest.messages.published && n.deliver >= manifest.messages.delivered;
  });
  t.diagnostic(`harness + wait ${Date.now() - t0} ms`);
  cap.child.kill('SIGINT');
  const capRun = await cap.done;
  assert.equal(capRun.code, 0, capRun.stderr);
  assert.match(
    capRun.stderr,
    new RegExp(
      `stopped \\(SIGINT\\): ${manifest.messages.published} published, ${manifest.messages.delivered} delivered`,
    ),
  );
  await vh.remove();

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
    const human = await cli(['report', out]);
    assert.equal(human.code, 0, human.stderr);
    for (const [name, text] of [
      ['capture', capRun.stdout + capRun.stderr],
      ['report --json', rep.stdout + rep.stderr],
      ['report', human.stdout + human.stderr],
    ] as const) {
      assert.ok(!text.includes(manifest.secret), `${name} shows the secret`);
    }
  });
});
