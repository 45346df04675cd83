/**
 * `npm run bench firehose`: how fast `capture --amqp` (FirehoseSource → rabbitmq_tracing JSON log)
 * records a burst, against the rabbitmq_tracing plugin recording the same burst.
 *
 * A temporary vhost gets N real nova message bodies (from the fixtures' tracing logs) published
 * as fast as the broker confirms, to a queue with a consumer: 2 N trace records (publish +
 * deliver). Each recorder runs alone (one after the other, same burst), and is timed from the
 * first publish until its file holds all 2 N records. Figures: records/s and MB/s of log written,
 * drops, and the ratio rpcscope / plugin.
 */
import { open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import amqp from 'amqplib';
import { ManagementClient } from '../src/broker/management.ts';
import { amqpUrlForVhost, FirehoseSource, TracingLogWriter } from '../src/capture/firehose.ts';

const N = Number(process.env.RPCSCOPE_BENCH_FIREHOSE_N ?? 20_000);
const AMQP = 'amqp://guest:guest@127.0.0.1:5672';
const mgmt = new ManagementClient({ url: 'http://127.0.0.1:15672', user: 'guest', password: 'guest' });
const fixtures = join(import.meta.dirname, '..', 'data', 'nova-zed');
const log = (s: string): void => {
  process.stderr.write(`[firehose.bench] ${s}\n`);
};

async function bodies(): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const line of (await readFile(join(fixtures, 'boot.tracing.json'), 'utf8')).split('\n')) {
    if (line === '') continue;
    const r = JSON.parse(line) as { type: string; payload: string };
    if (r.type === 'published') out.push(Buffer.from(r.payload, 'base64'));
  }
  return out;
}

/** Counts newlines appended to a file since `from`, reading only the new bytes. */
async function newlines(path: string, state: { offset: number; lines: number }): Promise<number> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (fh === undefined) return state.lines;
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, state.offset);
      if (bytesRead === 0) break;
      state.offset += bytesRead;
      for (let i = 0; i < bytesRead; i++) if (buf[i] === 10) state.lines++;
    }
  } finally {
    await fh.close();
  }
  return state.lines;
}

async function burst(
  vhost: string,
  sample: Buffer[],
): Promise<{ t0: number; bytes: number; published: number }> {
  const url = amqpUrlForVhost(AMQP, vhost);
  const consumer = await amqp.connect(url);
  consumer.on('error', () => {}); // the vhost is deleted under it when interrupted
  const cch = await consumer.createChannel();
  await cch.assertExchange('nova', 'topic', { durable: false });
  const q = await cch.assertQueue('conductor', { durable: false });
  await cch.bindQueue(q.queue, 'nova', 'conductor');
  let got = 0;
  let allIn!: () => void;
  const received = new Promise<void>((r) => {
    allIn = r;
  });
  await cch.consume(
    q.queue,
    () => {
      if (++got === N) allIn();
    },
    { noAck: true },
  );
  const conn = await amqp.connect(url);
  conn.on('error', () => {});
  const ch = await conn.createConfirmChannel();
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < N; i++) {
    const body = sample[i % sample.length]!;
    bytes += body.length;
    if (!ch.publish('nova', 'conductor', body, { contentType: 'application/json', expiration: '60000' }))
      await new Promise((r) => ch.once('drain', r));
  }
  await ch.waitForConfirms();
  const published = performance.now();
  await conn.close();
  await received;
  await consumer.close();
  return { t0, bytes, published };
}

async function withVhost<T>(fn: (vhost: string) => Promise<T>): Promise<T> {
  const vhost = `rpcscope-bench-firehose-${process.pid}-${Date.now().toString(36)}`;
  await mgmt.putVhost(vhost, {});
  await mgmt.setPermissions(vhost, 'guest');
  // Interrupted (Ctrl-C, timeout): do not leave the vhost, and with it the plugin's trace, behind.
  const interrupted = () => {
    log(`interrupted: deleting vhost ${vhost}`);
    mgmt
      .deleteVhost(vhost)
      .catch((e: unknown) => log(`could not delete vhost ${vhost}: ${String(e)}`))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await fn(vhost);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await mgmt.deleteVhost(vhost).catch(() => {});
  }
}

interface Result {
  seconds: number;
  /** Until the broker had confirmed the whole burst. */
  publishSeconds: number;
  records: number;
  fileBytes: number;
  dropped: number;
}

async function rpcscope(sample: Buffer[]): Promise<Result> {
  return withVhost(async (vhost) => {
    const out = `/tmp/rpcscope-bench-firehose-${process.pid}.json`;
    const writer = new TracingLogWriter(out);
    const src = await FirehoseSource.open({ amqpUrl: AMQP, vhost, sink: writer, management: mgmt });
    try {
      const { t0, published } = await burst(vhost, sample);
      const want = 2 * N;
      for (;;) {
        const s = src.stats();
        if (s.published + s.delivered + s.dropped >= want) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const seconds = (performance.now() - t0) / 1000;
      const s = await src.close();
      const f = await writer.close();
      return {
        seconds,
        publishSeconds: (published - t0) / 1000,
        records: f.records,
        fileBytes: f.bytes,
        dropped: s.dropped,
      };
    } finally {
      await src.close();
      await rm(out, { force: true });
    }
  });
}

async function plugin(sample: Buffer[]): Promise<Result> {
  return withVhost(async (vhost) => {
    const name = `rpcscope-bench-${process.pid}`;
    const path = `/var/tmp/rabbitmq-tracing/${name}.log`;
    await mgmt.putTrace(vhost, name, { format: 'json', pattern: '#' });
    try {
      const { t0, published } = await burst(vhost, sample);
      const want = 2 * N;
      const state = { offset: 0, lines: 0 };
      const limit = Date.now() + 600_000;
      while ((await newlines(path, state)) < want) {
        if (Date.now() > limit) throw new Error(`plugin wrote ${state.lines} of ${want} records in 10 min`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const seconds = (performance.now() - t0) / 1000;
      return {
        seconds,
        publishSeconds: (published - t0) / 1000,
        records: state.lines,
        fileBytes: (await stat(path)).size,
        dropped: 0,
      };
    } finally {
      await mgmt.deleteTrace(vhost, name).catch(() => {});
      await mgmt.deleteTraceFile(`${name}.log`).catch(() => {});
    }
  });
}

const sample = await bodies();
log(`${N} publishes (+${N} deliveries) of real nova bodies, ${sample.length} distinct, per recorder`);
const ours = await rpcscope(sample);
const theirs = await plugin(sample);
const line = (name: string, r: Result) =>
  `${name.padEnd(28)} ${r.seconds.toFixed(2).padStart(7)} s  ${Math.round(r.records / r.seconds)
    .toString()
    .padStart(
      7,
    )} records/s  ${(r.fileBytes / 1e6 / r.seconds).toFixed(1).padStart(6)} MB/s of log  dropped ${r.dropped}  (burst confirmed in ${r.publishSeconds.toFixed(2)} s)`;
process.stdout.write(`${line('rpcscope capture --amqp', ours)}\n`);
process.stdout.write(`${line('rabbitmq_tracing plugin', theirs)}\n`);
process.stdout.write(
  `ratio rpcscope / plugin: ${(theirs.seconds / ours.seconds).toFixed(2)}× (time to record the same ${2 * N} records)\n`,
);
if (ours.records + ours.dropped !== 2 * N) {
  process.stderr.write(`rpcscope recorded ${ours.records} + dropped ${ours.dropped} ≠ ${2 * N}\n`);
  process.exitCode = 1;
}
