/**
 * The benchmarks' shared capture: the real-traffic pcap that bench/decode.bench.ts records under
 * /tmp/rpcscope-bench/ (recorded first when missing).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const BENCH_DIR = '/tmp/rpcscope-bench';

/** The capture's path, recorded by decode.bench.ts when it is not there yet. */
export function benchCapture(log: (s: string) => void): string {
  const mb = Number(process.env.RPCSCOPE_BENCH_DECODE_MB ?? 220);
  const file = join(BENCH_DIR, `decode-${mb}MB-v2.pcap`);
  if (!existsSync(file)) {
    log(`${file} missing: recording it with bench/decode.bench.ts`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'decode.bench.ts')], {
      stdio: 'inherit',
    });
    if (r.status !== 0 || !existsSync(file)) throw new Error('could not record the benchmark capture');
  }
  return file;
}
