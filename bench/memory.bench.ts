/**
 * `npm run bench memory`: peak RSS of the commands that read a whole capture (`report`, `spec`,
 * `model`, `watch --replay --exit-at-end`) on a ≥ 1 GB pcap, each in its own process measured by
 * GNU time (`/usr/bin/time -v`, "Maximum resident set size"), against the 256 MiB target of issue
 * 11. The capture is bench/capture.ts's recording of real nova messages (RPCSCOPE_BENCH_MEMORY_MB,
 * default 1100 MB), recorded on first use. RPCSCOPE_BENCH_MEMORY_ONLY=spec,model runs only those
 * commands (by first word). Figures only: no assertion fails the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCaptureOf } from './capture.ts';

const TARGET_MIB = 256;
const MB = Number(process.env.RPCSCOPE_BENCH_MEMORY_MB ?? 1100);
const log = (s: string): void => {
  process.stderr.write(`[memory.bench] ${s}\n`);
};
// The CLI as installed (`npm pack` → dist/, plain Node): the checkout's bin/rpcscope.js adds the
// tsx loader and its compile cache (~45 MiB), which no user runs.
const root = join(import.meta.dirname, '..');
log('npm run build (the installed CLI is dist/cli/main.js)...');
const built = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (built.status !== 0) throw new Error('npm run build failed');
const cli = join(root, 'dist', 'cli', 'main.js');
const file = benchCaptureOf(MB, log);
const out = mkdtempSync(join(tmpdir(), 'rpcscope-bench-memory-'));
const size = statSync(file).size / 1048576;

const allCommands: { name: string; args: string[] }[] = [
  { name: 'report --json', args: ['report', '--json', file] },
  { name: 'spec', args: ['spec', file, '-o', join(out, 'spec.json')] },
  { name: 'model', args: ['model', file, '-o', join(out, 'scenario.yaml')] },
  {
    name: 'watch --replay --exit-at-end',
    args: ['watch', '--replay', file, '--speed', 'max', '--exit-at-end', '--no-http'],
  },
];
// RPCSCOPE_BENCH_MEMORY_ONLY=spec,model: only the commands whose name starts with one of these words
const only = process.env.RPCSCOPE_BENCH_MEMORY_ONLY?.split(',')
  .map((w) => w.trim())
  .filter((w) => w !== '');
const commands =
  only === undefined || only.length === 0
    ? allCommands
    : allCommands.filter((c) => only.some((w) => c.name.split(' ')[0] === w));

const line = (k: string, v: string): void => {
  process.stdout.write(`${k.padEnd(32)} ${v}\n`);
};
line('capture', `${file} (${size.toFixed(0)} MiB)`);
let over = 0;
try {
  for (const c of commands) {
    log(`rpcscope ${c.name}...`);
    const r = spawnSync('/usr/bin/time', ['-v', process.execPath, cli, ...c.args], {
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
      maxBuffer: 64 << 20,
    });
    const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? Number.NaN);
    const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)/.exec(r.stderr)?.[1] ?? '?';
    const mib = kb / 1024;
    if (!(mib <= TARGET_MIB)) over++;
    line(
      `rpcscope ${c.name}`,
      `peak RSS ${mib.toFixed(0)} MiB (${(mib / TARGET_MIB).toFixed(2)}× the ${TARGET_MIB} MiB target), ${wall} wall, exit ${r.status}`,
    );
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
line('over the target', `${over} of ${commands.length}`);
