/**
 * `npm run bench instructions`: `rpcscope report`, its decoder and tshark counted in machine
 * instructions by valgrind's callgrind: rpcscope on the whole benchmark capture, tshark (50× too
 * slow under callgrind for that) on a 6,000-packet slice of it, compared per byte. The slice has
 * the same mix of messages (the recording loops over the same 196 messages); rpcscope is also
 * counted on the slice, where its JIT's warm-up weighs more.
 *
 * Why: on a shared VM the CPU time of the same command moves by ±30 % from one minute to the
 * next (tshark's as much as ours), so the time ratios of bench/report and bench/decode wander.
 * An instruction count is the same on every run, whatever else the machine does (node runs with
 * --predictable: no concurrent compiler or GC threads). It is not a speed: cache misses and
 * memory stalls are not in it, and they weigh more on an allocating JavaScript program than on
 * tshark. Start-up (node loading its modules; tshark reading one packet) is subtracted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BENCH_DIR, benchCapture, tsharkArgs } from './capture.ts';

const PACKETS = 6000;
const log = (s: string): void => {
  process.stderr.write(`[instructions.bench] ${s}\n`);
};

if (spawnSync('valgrind', ['--version']).status !== 0) {
  log('valgrind is not installed (apt-get install valgrind): nothing measured');
  process.exit(0);
}
const big = benchCapture(log);
const slice = join(BENCH_DIR, `slice-${PACKETS}.pcap`);
const one = join(BENCH_DIR, 'slice-1.pcap');
for (const [out, range] of [
  [slice, `1-${PACKETS}`],
  [one, '1'],
] as const) {
  if (existsSync(out)) continue;
  const r = spawnSync('editcap', ['-r', big, out, range], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`editcap failed: ${r.stderr}`);
}
const mb = statSync(slice).size / 1048576;

// Bundled next to node_modules, so that the driver's packages resolve; run by plain node.
const outDir = join(import.meta.dirname, '..', 'node_modules', '.cache', 'rpcscope-bench');
mkdirSync(outDir, { recursive: true });
const driver = join(outDir, 'instructions-driver.mjs');
await build({
  entryPoints: [join(import.meta.dirname, 'instructions-driver.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  outfile: driver,
  logLevel: 'warning',
});

/** Instructions callgrind counts for one run of `cmd`, and what it printed. */
function count(cmd: string, args: string[]): { instructions: number; out: string } {
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const refs = /refs:\s+([\d,]+)/.exec(r.stderr)?.[1];
  if (r.status !== 0 || refs === undefined)
    throw new Error(`callgrind ${cmd} failed: ${r.stderr.slice(-2000)}`);
  return { instructions: Number(refs.replaceAll(',', '')), out: r.stdout };
}

const node = (mode: string, file: string) => count(process.execPath, ['--predictable', driver, mode, file]);
const tshark = (file: string) => count('tshark', tsharkArgs(file));

log(`capture ${big}, slice ${slice} (${mb.toFixed(1)} MB): about 8 minutes under callgrind`);
const start = node('none', slice);
const runs = {
  decode: node('decode', big),
  report: node('report', big),
  decodeSlice: node('decode', slice),
  reportSlice: node('report', slice),
};
log('tshark...');
const tsStart = tshark(one);
const ts = tshark(slice);

const bigBytes = statSync(big).size;
const sliceBytes = statSync(slice).size;
/** Instructions per byte, start-up subtracted. */
const per = (r: { instructions: number }, base: { instructions: number }, bytes: number) =>
  (r.instructions - base.instructions) / bytes;
const dec = per(runs.decode, start, bigBytes);
const rep = per(runs.report, start, bigBytes);
const tsn = per(ts, tsStart, sliceBytes);
const line = (k: string, v: string): void => {
  process.stdout.write(`${k.padEnd(38)} ${v}\n`);
};
line('capture', `${big} (${(bigBytes / 1048576).toFixed(1)} MB, ${runs.report.out.trim()} messages)`);
line('rpcscope decode (pcap → AMQP)', `${dec.toFixed(1)} instructions per byte`);
line('rpcscope report (whole path)', `${rep.toFixed(1)} instructions per byte`);
line(
  '  on the slice (JIT warm-up weighs)',
  `decode ${per(runs.decodeSlice, start, sliceBytes).toFixed(1)}, report ${per(runs.reportSlice, start, sliceBytes).toFixed(1)} per byte`,
);
line(
  'tshark -Y amqp -T fields (slice)',
  `${tsn.toFixed(1)} instructions per byte (${mb.toFixed(1)} MB slice)`,
);
line('ratio tshark / rpcscope decode', `${(tsn / dec).toFixed(1)}× instructions`);
line('ratio tshark / rpcscope report', `${(tsn / rep).toFixed(1)}× instructions`);
