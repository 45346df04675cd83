/**
 * `npm run bench watch`: how fast can `watch` follow the broker?
 *
 * A child process drives the local RabbitMQ as hard as it goes (amqplib, oslo-shaped casts from
 * src/wire/oslo/encode.ts into a temporary vhost, consumed by a consumer of its own), first without
 * tracing (the broker's rate), then with `watch` following it by firehose (the broker's rate with
 * tracing on: the firehose overhead). When watch drops at full speed, the load is stepped down
 * (rate-limited publishers) to find the highest rate watch sustains with zero drops. Printed:
 * the broker's rate, the rate with tracing, the zero-drop rate, and their ratios.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { ManagementClient } from '../src/broker/management.ts';
import { startWatch } from '../src/watch/watch.ts';
import { encodeCast } from '../src/wire/oslo/encode.ts';

const AMQP = 'amqp://guest:guest@127.0.0.1:5672';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

interface LoadResult {
  published: number;
  consumed: number;
  seconds: number;
}

/** Child: publish casts for `seconds` at `rate` msg/s (0 = as fast as the broker takes them). */
async function child(vhost: string, seconds: number, rate: number): Promise<void> {
  const url = `${AMQP}/${encodeURIComponent(vhost)}`;
  const pub = await amqp.connect(url, { clientProperties: { connection_name: 'bench-publisher:0:0' } });
  const sub = await amqp.connect(url, { clientProperties: { connection_name: 'bench-consumer:0:0' } });
  const sch = await sub.createChannel();
  await sch.assertExchange('nova', 'topic', { durable: false });
  await sch.assertQueue('conductor', { durable: false });
  await sch.bindQueue('conductor', 'nova', 'conductor');
  let consumed = 0;
  await sch.prefetch(1000);
  await sch.consume(
    'conductor',
    (m) => {
      if (m !== null) {
        consumed++;
        sch.ack(m, true);
      }
    },
    { noAck: false },
  );
  const ch = await pub.createChannel();
  const msg = encodeCast({
    exchange: 'nova',
    topic: 'conductor',
    method: 'object_action',
    version: '3.0',
    args: {
      objinst: { 'nova_object.name': 'Service', 'nova_object.data': { host: 'compute-1', report_count: 1 } },
    },
    context: { request_id: 'req-bench', user_id: null, is_admin: true },
  });
  let published = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  const drain = () => new Promise<void>((r) => ch.once('drain', () => r()));
  while (performance.now() < end) {
    if (rate > 0) {
      // 10 ms steps: publish what the schedule owes, then sleep.
      const owed = Math.floor(((performance.now() - start) / 1000) * rate) - published;
      for (let i = 0; i < owed; i++) {
        ch.publish(msg.exchange, msg.routingKey, msg.body, msg.properties);
        published++;
      }
      await new Promise((r) => setTimeout(r, 10));
    } else {
      let ok = true;
      for (let i = 0; i < 200 && ok; i++) {
        ok = ch.publish(msg.exchange, msg.routingKey, msg.body, msg.properties);
        published++;
      }
      if (!ok) await drain();
      else await new Promise((r) => setImmediate(r));
    }
  }
  const seconds_ = (performance.now() - start) / 1000;
  // let the consumer catch up so the broker's rate counts delivered messages
  const until = Date.now() + 10_000;
  while (consumed < published && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await pub.close();
  await sub.close();
  process.send?.({ published, consumed, seconds: seconds_ } satisfies LoadResult);
}

function load(vhost: string, seconds: number, rate: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const c = fork(fileURLToPath(import.meta.url), ['--child', vhost, String(seconds), String(rate)], {
      execArgv: ['--import', 'tsx'],
    });
    let result: LoadResult | undefined;
    c.on('message', (m) => {
      result = m as LoadResult;
    });
    c.on('error', reject);
    c.on('exit', (code) =>
      result !== undefined ? resolve(result) : reject(new Error(`load child exited ${code}`)),
    );
  });
}

interface WatchRun {
  load: LoadResult;
  events: number;
  dropped: number;
  caughtUp: boolean;
}

async function withWatch(vhost: string, seconds: number, rate: number): Promise<WatchRun> {
  const w = await startWatch({
    source: { kind: 'firehose', amqpUrl: AMQP, vhosts: [vhost] },
    managementUrl: null,
    operations: false,
  });
  try {
    const r = await load(vhost, seconds, rate);
    // every published message gives two trace records: publish and deliver
    const want = r.published * 2;
    const stats = () => w.sourceStats()[0] ?? { received: 0, dropped: 0 };
    const deadline = Date.now() + 5000;
    while (w.session.messages + stats().dropped < want && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 50));
    await w.stop();
    const s = stats();
    return { load: r, events: w.session.messages, dropped: s.dropped, caughtUp: w.session.messages === want };
  } finally {
    await w.stop();
  }
}

async function main(): Promise<void> {
  const mgmt = new ManagementClient({ url: 'http://127.0.0.1:15672' });
  const vhost = `rpcscope-bench-watch-${randomBytes(3).toString('hex')}`;
  await mgmt.putVhost(vhost);
  await mgmt.setPermissions(vhost, 'guest');
  try {
    const rate = (r: LoadResult) => Math.round(r.published / r.seconds);
    const base = await load(vhost, SECONDS, 0);
    const brokerRate = rate(base);
    process.stdout.write(
      `broker, tracing off: ${brokerRate} msg/s published (${base.consumed}/${base.published} consumed) over ${base.seconds.toFixed(1)} s\n`,
    );
    const full = await withWatch(vhost, SECONDS, 0);
    const tracedRate = rate(full.load);
    process.stdout.write(
      `broker, tracing on + watch: ${tracedRate} msg/s published; watch decoded ${full.events} of ${full.load.published * 2} trace events, ${full.dropped} dropped\n`,
    );
    process.stdout.write(
      `firehose overhead: broker rate with tracing = ${(tracedRate / brokerRate).toFixed(2)} × without (${Math.round(100 * (1 - tracedRate / brokerRate))} % lower)\n`,
    );
    let sustained = full.dropped === 0 && full.caughtUp ? tracedRate : 0;
    if (sustained === 0) {
      // step down until a run has zero drops and watch keeps up
      let lo = 0;
      let hi = tracedRate;
      for (let i = 0; i < 4; i++) {
        const mid = Math.round((lo + hi) / 2);
        const r = await withWatch(vhost, Math.min(SECONDS, 6), mid);
        const ok = r.dropped === 0 && r.caughtUp;
        process.stdout.write(
          `  at ${mid} msg/s: ${ok ? 'kept up' : 'fell behind'} (${r.events}/${r.load.published * 2} events, ${r.dropped} dropped)\n`,
        );
        if (ok) lo = mid;
        else hi = mid;
      }
      sustained = lo;
    }
    process.stdout.write(
      `watch sustained ${sustained} msg/s (${sustained * 2} firehose events/s) with zero drops = ${(sustained / brokerRate).toFixed(2)} × the broker's untraced rate, ${(sustained / tracedRate).toFixed(2)} × its traced rate\n`,
    );
  } finally {
    await mgmt.deleteVhost(vhost);
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] ?? '/', Number(process.argv[4]), Number(process.argv[5]));
} else {
  await main();
}
