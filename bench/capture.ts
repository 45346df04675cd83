/**
 * The benchmarks' shared capture: the real-traffic pcap that bench/decode.bench.ts records under
 * /tmp/rpcscope-bench/ (recorded first when missing).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const BENCH_DIR = '/tmp/rpcscope-bench';
/** Size of the recording (RPCSCOPE_BENCH_DECODE_MB, default 220). */
export const BENCH_MB = Number(process.env.RPCSCOPE_BENCH_DECODE_MB ?? 220);
// v2: ids unique per message (a v1 capture cycled 196 identical bodies, which flattered caching)
export const BENCH_CAPTURE = capturePath(BENCH_MB);

/** Path of the recording of `mb` MB (the memory bench uses a ≥ 1 GB one). */
export function capturePath(mb: number): string {
  return join(BENCH_DIR, `decode-${mb}MB-v2.pcap`);
}

/**
 * A recording of `mb` MB, made by decode.bench.ts (recording only) when it is not there yet:
 * the same real nova messages with fresh ids per pass, so a larger capture is more distinct traffic.
 */
export function benchCaptureOf(mb: number, log: (s: string) => void): string {
  const file = capturePath(mb);
  if (!existsSync(file)) {
    log(`${file} missing: recording it with bench/decode.bench.ts`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'decode.bench.ts')], {
      stdio: 'inherit',
      env: { ...process.env, RPCSCOPE_BENCH_DECODE_MB: String(mb), RPCSCOPE_BENCH_RECORD_ONLY: '1' },
    });
    if (r.status !== 0 || !existsSync(file)) throw new Error('could not record the benchmark capture');
  }
  return file;
}

/** The capture's path, recorded by decode.bench.ts when it is not there yet. */
export function benchCapture(log: (s: string) => void): string {
  const file = BENCH_CAPTURE;
  if (!existsSync(file)) {
    log(`${file} missing: recording it with bench/decode.bench.ts`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'decode.bench.ts')], {
      stdio: 'inherit',
    });
    if (r.status !== 0 || !existsSync(file)) throw new Error('could not record the benchmark capture');
  }
  return file;
}

/**
 * tshark's AMQP dissection of `file`: the reference every bench compares with. Out-of-order TCP
 * reassembly is on: without it tshark 4.0 loses a stream at the first out-of-order segment of a
 * loaded `lo` (docs/decode.md).
 */
export function tsharkArgs(file: string): string[] {
  return [
    '-o',
    'tcp.reassemble_out_of_order:TRUE',
    '-r',
    file,
    '-Y',
    'amqp',
    '-T',
    'fields',
    '-E',
    'aggregator=,',
    '-e',
    'amqp.method.class',
    '-e',
    'amqp.method.method',
    '-e',
    'amqp.method.arguments.routing_key',
  ];
}

/** The same as one shell command line (for bash's `time`). */
export function tsharkCommand(file: string): string {
  return ['tshark', ...tsharkArgs(file)].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
}
