/**
 * The metrics as a real Prometheus reads them: `promtool check metrics` (Debian's prometheus
 * package, installed by scripts/setup.sh) lints the exposition of a real nova capture plus a cloud
 * where 300 client processes each used their own reply queue; reply queues never become label
 * values and a real topic first seen after them is kept, not folded into "other".
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { WatchMetrics } from '../../src/outputs/prometheus.ts';
import { loadCaptures } from '../../src/pipeline/load.ts';
import type { RpcKind, RpcMessage, WireEvent } from '../../src/records.ts';
import { replyQueueName } from '../../src/wire/naming.ts';

let seq = 0;
function msg(kind: RpcKind, event: WireEvent, topic: string, process: string): RpcMessage {
  const routingKey = topic;
  return {
    wire: {
      seq: seq++,
      ts: 1000 + seq,
      source: 'firehose',
      event,
      exchange: kind === 'reply' ? '' : 'nova',
      routingKey,
      properties: {},
      bodySize: 10,
      connection: {
        id: `c${process}`,
        client: '10.0.0.1:1',
        server: '10.0.0.2:5672',
        name: `${process}:1:x`,
      },
    },
    kind,
    envelope: '2.0',
    exchange: kind === 'reply' ? '' : 'nova',
    topic,
    method: kind === 'reply' ? undefined : 'ping',
    context: {},
    bodySize: 10,
  } as RpcMessage;
}

function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error !== undefined)
    throw new Error(`promtool not runnable (run scripts/setup.sh): ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('promtool check metrics passes on a nova capture; process_* and build info are there', async () => {
  const m = new WatchMetrics({ version: '9.9.9' });
  for (const f of ['boot', 'delete', 'stop']) {
    const l = await loadCaptures([`data/nova-zed/${f}.firehose.jsonl`]);
    for (const x of l.messages) m.message(x);
    for (const c of l.calls) m.call(c);
  }
  m.hazards([{ kind: 'reply-queue-no-consumer', object: `/${replyQueueName('ab12')}` }]);
  const text = await m.text();
  const r = promtool(text);
  assert.equal(r.status, 0, r.out);
  assert.equal(r.out.trim(), '', 'promtool lint findings');
  assert.match(text, /^process_cpu_seconds_total \d/m);
  assert.match(text, /^process_start_time_seconds \d/m);
  assert.match(text, /^process_resident_memory_bytes \d/m);
  assert.match(text, /^rpcscope_build_info\{version="9\.9\.9",nodejs="[\d.]+"\} 1$/m);
  // the hazard gauge names the queue to act on (it holds only the hazards present now)
  assert.match(text, /rpcscope_broker_hazard\{hazard="reply-queue-no-consumer",object="\/reply_ab12"\} 1/);
  assert.doesNotMatch(text.replace(/^rpcscope_broker_hazard\{.*$/gm, ''), /="[^"]*reply_/);
  assert.match(text, /rpcscope_topic_messages_total\{exchange="",topic="reply",kind="reply"\} \d+/);
  // a broken exposition is caught: the check is not vacuous
  assert.notEqual(promtool('bad metric{x="1" 1\n').status, 0);
});

test('300 reply queues fold into one "reply" value; a topic first seen later is kept', async () => {
  const m = new WatchMetrics({ maxValuesPerLabel: 200 });
  for (let i = 0; i < 300; i++) {
    const q = replyQueueName(i.toString(16).padStart(32, '0'));
    m.message(msg('reply', 'publish', q, `nova-compute-${i % 3}`));
    m.message(msg('reply', 'deliver', q, 'nova-api'));
  }
  m.message(msg('cast', 'publish', 'compute', 'nova-api'));
  m.message(msg('cast', 'publish', 'neutron_new_topic', 'neutron-server'));
  const text = await m.text();
  assert.equal(promtool(text).status, 0);
  assert.doesNotMatch(text, /="[^"]*reply_/);
  assert.doesNotMatch(text, /="other"/);
  assert.match(text, /rpcscope_topic_messages_total\{exchange="",topic="reply",kind="reply"\} 300/);
  assert.match(
    text,
    /rpcscope_topic_messages_total\{exchange="nova",topic="neutron_new_topic",kind="cast"\} 1/,
  );
  assert.match(
    text,
    /rpcscope_service_messages_total\{service="nova-compute-0",kind="reply",event="publish"\} 100/,
  );
  assert.match(text, /^rpcscope_label_overflow_total 0$/m);
});

test('the cap is per metric family: a burst of methods does not fold topics of another metric', async () => {
  const m = new WatchMetrics({ maxValuesPerLabel: 3 });
  // five topics in the topic-message counter: two fold into "other", counted once each
  for (const t of ['a', 'b', 'c', 'd', 'e', 'e']) m.message(msg('notification', 'publish', t, 'p'));
  const text = await m.text();
  assert.match(text, /rpcscope_topic_messages_total\{exchange="nova",topic="other",kind="notification"\} 3/);
  assert.match(text, /^rpcscope_label_overflow_total 3$/m);
  assert.match(
    text,
    /^rpcscope_label_folded_series_total\{metric="rpcscope_topic_messages",label="topic"\} 2$/m,
  );
  // the oslo client family had its own budget and saw no topic at all: a cast to "e" keeps its name
  m.message(msg('cast', 'publish', 'e', 'p'));
  assert.match(
    await m.text(),
    /oslo_messaging_rpc_client_invocation_start_total\{call_type="cast",exchange="nova",topic="e",/,
  );
  assert.equal(promtool(await m.text()).status, 0);
});
