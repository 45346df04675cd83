/**
 * `npm run bench decode`: pcap → WireMessage decoding speed against tshark's AMQP dissector.
 *
 * The capture is real: tcpdump on lo records amqplib publishing oslo-shaped messages (the bodies,
 * exchanges, routing keys and properties of the real-nova fixtures' tracing logs) through the
 * local RabbitMQ into a temporary vhost, with a consumer receiving them. Every pass over the
 * fixtures rewrites the ids in the bodies (`_msg_id`, `_unique_id`, request and instance uuids) so
 * that no two messages of the capture share a body, as on a real cloud: a publish and its
 * delivery carry the same bytes, two publishes never do. It is cached under /tmp/rpcscope-bench/
 * (delete it to record afresh).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { readPcapFile } from '../src/capture/pcap-file.ts';
import { BENCH_CAPTURE, BENCH_DIR, BENCH_MB, tsharkCommand } from './capture.ts';

const TARGET_BYTES = BENCH_MB * 1024 * 1024;
const dir = BENCH_DIR;
const file = BENCH_CAPTURE;
const fixtures = join(import.meta.dirname, '..', 'data', 'nova-zed');
const log = (s: string): void => {
  process.stderr.write(`[decode.bench] ${s}\n`);
};

interface Sample {
  exchange: string;
  routingKey: string;
  body: Buffer;
  props: amqp.Options.Publish;
}

function samples(): Sample[] {
  const out: Sample[] = [];
  for (const f of readdirSync(fixtures).filter((n) => n.endsWith('.tracing.json'))) {
    for (const line of readFileSync(join(fixtures, f), 'utf8').split('\n')) {
      if (line === '') continue;
      const r = JSON.parse(line) as {
        type: string;
        exchange: string;
        routing_keys: string[];
        payload: string;
        properties: {
          content_type?: string;
          content_encoding?: string;
          delivery_mode?: number;
          expiration?: string;
          priority?: number;
        };
      };
      if (r.type !== 'published') continue;
      const p = r.properties;
      const props: amqp.Options.Publish = { headers: {} };
      if (p.content_type !== undefined) props.contentType = p.content_type;
      if (p.content_encoding !== undefined) props.contentEncoding = p.content_encoding;
      if (p.delivery_mode !== undefined) props.deliveryMode = p.delivery_mode;
      if (p.expiration !== undefined) props.expiration = p.expiration;
      if (p.priority !== undefined) props.priority = p.priority;
      out.push({
        exchange: r.exchange,
        routingKey: r.routing_keys[0] ?? '',
        body: Buffer.from(r.payload, 'base64'),
        props,
      });
    }
  }
  return out;
}

/** uuids, dashed or not (`_msg_id`, `_unique_id`, `req-…`, instance ids), as they appear in bodies. */
const UUID = /\b[0-9a-f]{8}(-?)([0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{12})\b/g;

/**
 * The body of pass `n` over the fixtures: every uuid's first 8 hex digits become `n`, so ids stay
 * the same length and shape, a call and its reply still share their `_msg_id`, and no body repeats
 * one of an earlier pass.
 */
function bodyOfPass(body: Buffer, n: number): Buffer {
  if (n === 0) return body;
  const prefix = n.toString(16).padStart(8, '0');
  return Buffer.from(body.toString('latin1').replace(UUID, `${prefix}$1$2`), 'latin1');
}

async function mgmt(method: string, path: string, body?: unknown): Promise<void> {
  const r = await fetch(`http://127.0.0.1:15672/api/${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status}`);
}

async function record(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.part`;
  const vhost = `rpcscope-bench-decode-${process.pid}`;
  const v = encodeURIComponent(vhost);
  await mgmt('PUT', `vhosts/${v}`);
  await mgmt('PUT', `permissions/${v}/guest`, { configure: '.*', write: '.*', read: '.*' });
  const all = samples();
  log(
    `recording ≥ ${TARGET_BYTES >> 20} MB on lo: amqplib publishing ${all.length} distinct real nova messages in a loop`,
  );
  // tcpdump writes the file itself (no pipe through node) with a 256 MiB ring: the recording must
  // not lose packets on a busy machine.
  const td = spawn('tcpdump', ['-i', 'lo', '-s', '0', '-B', '262144', '-w', tmp, 'tcp port 5672'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tdErr = '';
  td.stderr.setEncoding('utf8');
  const listening = new Promise<void>((resolve, reject) => {
    td.stderr.on('data', (s: string) => {
      tdErr += s;
      if (tdErr.includes('listening on')) resolve();
    });
    td.on('error', reject);
  });
  const exited = new Promise<void>((resolve) => td.on('close', () => resolve()));
  try {
    await listening;
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:5672/${v}`, {
      clientProperties: { connection_name: 'rpcscope-bench:publisher' },
    });
    const consumer = await amqp.connect(`amqp://guest:guest@127.0.0.1:5672/${v}`, {
      clientProperties: { connection_name: 'rpcscope-bench:consumer' },
    });
    const ch = await conn.createConfirmChannel();
    const cch = await consumer.createChannel();
    await cch.prefetch(500);
    const exchanges = new Set(all.map((s) => s.exchange).filter((e) => e !== ''));
    for (const e of exchanges) await ch.assertExchange(e, 'topic', { durable: false });
    const queues = new Set<string>();
    for (const s of all) {
      const q = s.exchange === '' ? s.routingKey : `${s.exchange}.${s.routingKey}`;
      if (queues.has(q)) continue;
      queues.add(q);
      await cch.assertQueue(q, { durable: false, arguments: { 'x-expires': 600000 } });
      if (s.exchange !== '') await cch.bindQueue(q, s.exchange, s.routingKey);
      await cch.consume(q, (m) => {
        if (m !== null) cch.ack(m);
      });
    }
    let sent = 0;
    let last = 0;
    for (;;) {
      for (let i = 0; i < 100; i++) {
        const s = all[sent % all.length]!;
        ch.publish(s.exchange, s.routingKey, bodyOfPass(s.body, Math.floor(sent / all.length)), s.props);
        sent++;
      }
      await ch.waitForConfirms();
      const size = existsSync(tmp) ? statSync(tmp).size : 0;
      if (size - last > 20 << 20) {
        last = size;
        log(`${(size / 1048576).toFixed(0)} MB, ${sent} messages published`);
      }
      if (size >= TARGET_BYTES) break;
    }
    await consumer.close();
    await conn.close();
  } finally {
    await new Promise((r) => setTimeout(r, 1000)); // let tcpdump write what the kernel holds
    td.kill('SIGINT');
    await exited;
    await mgmt('DELETE', `vhosts/${v}`);
  }
  const dropped = /(\d+) packets? dropped by kernel/.exec(tdErr)?.[1];
  log(`tcpdump: ${dropped ?? '?'} packets dropped by kernel`);
  renameSync(tmp, file);
}

interface Timed {
  wallMs: number;
  cpuMs: number;
}

async function decodeOnce(): Promise<{
  t: Timed;
  publishes: number;
  delivers: number;
  messages: number;
  packets: number;
  skipped: number;
}> {
  let publishes = 0;
  let delivers = 0;
  let messages = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await readPcapFile(file, {
    event(e) {
      if (e.type !== 'message') return;
      messages++;
      if (e.message.event === 'publish') publishes++;
      else if (e.message.event === 'deliver') delivers++;
    },
  });
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return {
    t: { wallMs, cpuMs: (c.user + c.system) / 1000 },
    publishes,
    delivers,
    messages,
    packets: r.packets,
    skipped: r.skipped.frames,
  };
}

function tshark(): Promise<{ t: Timed; publishes: number; delivers: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // Full AMQP dissection of every packet, printing each method id (class 60: Basic).
    const p = spawn(
      'bash',
      ['-c', `TIMEFORMAT='%U %S'; time (${tsharkCommand(file)} > ${dir}/tshark.out 2>/dev/null)`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (s: string) => {
      err += s;
    });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`tshark failed: ${err}`));
        return;
      }
      const wallMs = performance.now() - t0;
      const [u, s] = err.trim().split('\n').at(-1)!.split(' ').map(Number);
      let publishes = 0;
      let delivers = 0;
      for (const line of readFileSync(`${dir}/tshark.out`, 'utf8').split('\n')) {
        const [cls, mth] = line.split('\t');
        if (!cls || !mth) continue;
        const ms = mth.split(',');
        cls.split(',').forEach((c, i) => {
          if (c !== '60') return;
          if (ms[i] === '40') publishes++;
          else if (ms[i] === '60' || ms[i] === '71') delivers++;
        });
      }
      resolve({ t: { wallMs, cpuMs: ((u ?? 0) + (s ?? 0)) * 1000 }, publishes, delivers });
    });
  });
}

if (!existsSync(file)) await record();
// bench/capture.ts asks for a recording only (the memory bench's ≥ 1 GB capture)
if (process.env.RPCSCOPE_BENCH_RECORD_ONLY === '1') process.exit(0);
const size = statSync(file).size;
const mb = size / 1048576;
log(`capture ${file}: ${mb.toFixed(1)} MB`);

const runs = [];
for (let i = 0; i < 5; i++) runs.push(await decodeOnce());
runs.sort((a, b) => a.t.wallMs - b.t.wallMs);
const best = runs[0]!;
const med = runs[2]!;
log('tshark (full AMQP dissection) on the same file, best of 3...');
const tsRuns = [await tshark(), await tshark(), await tshark()].sort((a, b) => a.t.cpuMs - b.t.cpuMs);
const ts = tsRuns[0]!;

const line = (k: string, v: string): void => {
  process.stdout.write(`${k.padEnd(38)} ${v}\n`);
};
line('capture', `${file} (${mb.toFixed(1)} MB, ${best.packets} packets, ${best.messages} messages)`);
line('machine', `${cpus()[0]?.model ?? '?'} × ${cpus().length}, node ${process.version}`);
line(
  'rpcscope readPcapFile (best of 5)',
  `${(best.t.wallMs / 1000).toFixed(2)} s wall, ${(best.t.cpuMs / 1000).toFixed(2)} s CPU`,
);
line(
  '  throughput',
  `${(mb / (best.t.wallMs / 1000)).toFixed(0)} MB/s wall, ${(mb / (best.t.cpuMs / 1000)).toFixed(0)} MB/s per core (CPU time)`,
);
line(
  '  messages',
  `${((best.messages / best.t.wallMs) * 1000).toFixed(0)} messages/s (${best.publishes} publish, ${best.delivers} deliver), median run ${(med.t.wallMs / 1000).toFixed(2)} s`,
);
line('  skipped frames', String(best.skipped));
line(
  'tshark -Y amqp -T fields (best of 3)',
  `${(ts.t.wallMs / 1000).toFixed(2)} s wall, ${(ts.t.cpuMs / 1000).toFixed(2)} s CPU, ${(mb / (ts.t.wallMs / 1000)).toFixed(1)} MB/s`,
);
line(
  '  methods found',
  `${ts.publishes} publish, ${ts.delivers} deliver (rpcscope: ${best.publishes}, ${best.delivers})`,
);
line(
  'ratio rpcscope / tshark',
  `${(ts.t.wallMs / best.t.wallMs).toFixed(1)}× wall, ${(ts.t.cpuMs / best.t.cpuMs).toFixed(1)}× CPU`,
);
if (ts.publishes !== best.publishes || ts.delivers !== best.delivers) {
  process.stdout.write('MISMATCH: rpcscope and tshark disagree on the number of publishes/deliveries\n');
  process.exitCode = 1;
}
