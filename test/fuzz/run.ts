/**
 * `npm run fuzz [-- --inputs N --seed S]`: the long fuzz run (default 1,000,000 inputs spread over
 * every format), progress lines on stderr, a summary at the end; crashing inputs are written to
 * test/fixtures/fuzz/ (replayed by test/fuzz/regressions.test.ts). Exit 1 when anything crashed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FORMATS, fuzzRange, newSummary } from './harness.ts';

const { values } = parseArgs({
  options: { inputs: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '20261127' } },
});
const total = Number(values.inputs);
const seed = Number(values.seed);
const s = newSummary();
const t0 = Date.now();
const step = 600;
const perFormat = Math.ceil(total / FORMATS.length);
let reported = 0;
for (let from = 0; from < perFormat; from += step) {
  const to = Math.min(perFormat, from + step);
  for (const f of FORMATS) fuzzRange(f, seed, from, to, s);
  if (s.inputs - reported >= 20000 || to === perFormat) {
    reported = s.inputs;
    const el = (Date.now() - t0) / 1000;
    process.stderr.write(
      `fuzz: ${s.inputs} inputs, ${s.crashes.length} crashes, ${s.withSkips} with skips counted, ${s.rejected} rejected (${el.toFixed(0)} s, ${(s.inputs / el).toFixed(0)}/s)\n`,
    );
  }
}
const dir = join(import.meta.dirname, '..', 'fixtures', 'fuzz');
mkdirSync(dir, { recursive: true });
for (const c of s.crashes.slice(0, 50)) {
  const ext = {
    pcap: 'pcap',
    pcapng: 'pcapng',
    tracing: 'tracing.json',
    firehose: 'firehose.jsonl',
    scenario: 'scenario.yaml',
    chaos: 'chaos.yaml',
  }[c.format];
  writeFileSync(join(dir, `crash-${c.format}-${c.seed}-${c.index}.${ext}`), c.data);
}
const secs = (Date.now() - t0) / 1000;
console.log(`fuzz summary (seed ${seed})`);
console.log(`  inputs            ${s.inputs} in ${secs.toFixed(0)} s (${(s.inputs / secs).toFixed(0)}/s)`);
console.log(
  `  by format         ${Object.entries(s.byFormat)
    .map(([f, n]) => `${f} ${n}`)
    .join(', ')}`,
);
console.log(`  crashes           ${s.crashes.length}`);
for (const c of s.crashes.slice(0, 20)) console.log(`    ${c.format} #${c.index} (${c.kind}): ${c.error}`);
console.log(`  rejected          ${s.rejected} (RpcscopeError with a code: not a capture, invalid scenario)`);
console.log(`  damage counted    ${s.withSkips} inputs with skipped bytes/frames/records`);
console.log(`  undetected        ${s.undetected.length} inputs with certain damage and nothing counted`);
console.log(`  messages decoded  ${s.decodedMessages}`);
process.exitCode = s.crashes.length > 0 || s.undetected.length > 0 ? 1 : 0;
