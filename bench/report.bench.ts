/**
 * `npm run bench report`: the whole `rpcscope report` path (pcap → AMQP → oslo meaning → call⇄reply
 * join → report aggregates, streamed as the CLI does) against tshark's AMQP dissection of the same
 * capture. Uses the real-traffic pcap that bench/decode.bench.ts records under /tmp/rpcscope-bench/
 * (recorded first if missing).
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { cpus } from 'node:os';
import { ReportAccumulator } from '../src/outputs/report.ts';
import { loadCaptures } from '../src/pipeline/load.ts';
import { RecordCounter } from '../src/pipeline/sink.ts';
import { benchCapture, tsharkCommand } from './capture.ts';

const log = (s: string): void => {
  process.stderr.write(`[report.bench] ${s}\n`);
};
const file = benchCapture(log);
const mb = statSync(file).size / 1048576;

async function reportOnce() {
  const acc = new ReportAccumulator();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const count = new RecordCounter();
  const report = acc.result(await loadCaptures([file], { keep: false, sinks: [count, acc] }));
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wallMs, cpuMs: (c.user + c.system) / 1000, messages: count.messages, report };
}

function tshark(): Promise<{ wallMs: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('bash', ['-c', `TIMEFORMAT='%U %S'; time (${tsharkCommand(file)} > /dev/null 2>&1)`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`tshark failed: ${err}`));
      const [u, s] = (err.trim().split('\n').at(-1) ?? '0 0').split(' ').map(Number);
      resolve({ wallMs: performance.now() - t0, cpuMs: ((u ?? 0) + (s ?? 0)) * 1000 });
    });
  });
}

log(`capture ${file}: ${mb.toFixed(1)} MB`);
type Run = Awaited<ReturnType<typeof reportOnce>>;
// A shared machine's CPU time varies from run to run: the best of five is the figure.
const runs: Run[] = [];
for (let i = 0; i < 5; i++) runs.push(await reportOnce());
runs.sort((a, b) => a.cpuMs - b.cpuMs);
const best = runs[0] as Run;
const median = runs[2] as Run;
log('tshark on the same file (best of 3, as fair as our best of 5)...');
const tsRuns = [await tshark(), await tshark(), await tshark()].sort((a, b) => a.cpuMs - b.cpuMs);
const ts = tsRuns[0] as Awaited<ReturnType<typeof tshark>>;
const r = best.report;
const line = (k: string, v: string): void => {
  process.stdout.write(`${k.padEnd(38)} ${v}\n`);
};
line('capture', `${file} (${mb.toFixed(1)} MB, ${best.messages} messages)`);
line('machine', `${cpus()[0]?.model ?? '?'} × ${cpus().length}, node ${process.version}`);
line(
  'rpcscope report (best of 5)',
  `${(best.wallMs / 1000).toFixed(2)} s wall, ${(best.cpuMs / 1000).toFixed(2)} s CPU`,
);
line(
  '  throughput',
  `${(mb / (best.wallMs / 1000)).toFixed(0)} MB/s wall, ${(mb / (best.cpuMs / 1000)).toFixed(0)} MB/s per core (CPU time)`,
);
line(
  '  messages',
  `${((best.messages / best.wallMs) * 1000).toFixed(0)} messages/s; ${r.messages.published} published (${Object.entries(
    r.byKind,
  )
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')})`,
);
line(
  '  median of 5',
  `${(median.cpuMs / 1000).toFixed(2)} s CPU, ${(mb / (median.cpuMs / 1000)).toFixed(0)} MB/s per core`,
);
line(
  'tshark -Y amqp -T fields (best of 3)',
  `${(ts.wallMs / 1000).toFixed(2)} s wall, ${(ts.cpuMs / 1000).toFixed(2)} s CPU, ${(mb / (ts.wallMs / 1000)).toFixed(1)} MB/s`,
);
line(
  'ratio rpcscope report / tshark',
  `${(ts.wallMs / best.wallMs).toFixed(1)}× wall, ${(ts.cpuMs / best.cpuMs).toFixed(1)}× CPU`,
);
