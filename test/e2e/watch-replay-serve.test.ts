/**
 * End to end, `rpcscope watch --replay` keeps serving after the replay ended: /metrics scraped
 * then shows the final state (every message counted, every call decided as of the capture's end),
 * equal to `rpcscope report --json` on the same file; Ctrl-C then stops it with status 0. A
 * missing capture exits with the input-not-found status.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EXIT } from '../../src/errors.ts';
import { loadCaptures } from '../../src/pipeline/load.ts';
import { cli, startCli } from '../harness/oslo.ts';

const dir = mkdtempSync(join(tmpdir(), 'rpcscope-watch-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The boot capture cut where a call is still waiting for its reply: `report` decides it
 * unanswered as of the capture's end, and so must watch once the replay has ended (a replay at
 * full speed never reaches the call's expiration on its own).
 */
async function cutCapture(): Promise<string> {
  const lines = readFileSync('data/nova-zed/boot.firehose.jsonl', 'utf8').split('\n').filter(Boolean);
  for (let n = lines.length - 1; n > 0; n--) {
    const file = join(dir, `boot-cut-${n}.firehose.jsonl`);
    writeFileSync(file, `${lines.slice(0, n).join('\n')}\n`);
    const l = await loadCaptures([file], { keep: true });
    if (l.calls.some((c) => c.outcome === 'unanswered')) return file;
  }
  throw new Error('no cut of the boot capture leaves a call unanswered');
}

const FIXTURES = ['data/nova-zed/boot.firehose.jsonl', 'data/nova-zed/boot.pcap', 'cut'];

/** Sum of a counter's samples whose labels match every `where` pair. */
function sum(metrics: string, name: string, where: Record<string, string> = {}): number {
  let n = 0;
  for (const line of metrics.split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]),
    );
    if (Object.entries(where).every(([k, v]) => labels[k] === v)) n += Number(m[3]);
  }
  return n;
}

interface ReportJson {
  messages: { published: number; delivered: number; returned: number };
  calls: { total: number; answered: number; unanswered: number; failed: number };
}

for (const name of FIXTURES)
  test(`watch --replay ${name}: after the end, /metrics equals report --json until Ctrl-C`, async () => {
    const fixture = name === 'cut' ? await cutCapture() : name;
    const rep = await cli(['report', '--json', fixture]);
    assert.equal(rep.code, 0, rep.stderr);
    const want = JSON.parse(rep.stdout) as ReportJson;
    if (name === 'cut') assert.ok(want.calls.unanswered > 0);
    const w = await startCli(
      ['watch', '--replay', fixture, '--speed', 'max', '--http', '127.0.0.1:0'],
      /watch: end of input/,
    );
    try {
      assert.match(w.stderr(), /still serving until Ctrl-C/);
      const url = /watch: metrics (\S+)/.exec(w.stderr())?.[1];
      assert.ok(url !== undefined, w.stderr());
      const metrics = await (await fetch(url)).text();
      const messages = want.messages.published + want.messages.delivered + want.messages.returned;
      assert.equal(sum(metrics, 'rpcscope_messages_total'), messages);
      assert.equal(sum(metrics, 'rpcscope_calls_total'), want.calls.total);
      assert.equal(
        sum(metrics, 'rpcscope_calls_total', { outcome: 'ok' }),
        want.calls.answered - want.calls.failed,
      );
      assert.equal(sum(metrics, 'rpcscope_calls_total', { outcome: 'unanswered' }), want.calls.unanswered);
      // still serving: the dashboard answers after the replay ended
      assert.equal((await fetch(url.replace(/metrics$/, ''))).status, 200);
      assert.equal(w.child.exitCode, null, 'watch exited at the end of the replay');
    } finally {
      w.child.kill('SIGINT');
    }
    const r = await w.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /watch: stopped: \d+ messages, \d+ calls, 0 dropped/);
  });

test('watch --replay of a missing file exits with the input-not-found status', async () => {
  const r = await cli(['watch', '--replay', 'no/such/capture.pcap', '--no-http', '--exit-at-end']);
  assert.equal(r.code, EXIT.input, r.stderr);
  assert.match(r.stderr, /RPCSCOPE_INPUT_NOT_FOUND/);
});
