/**
 * `npm run bench [name...]`: runs every bench/*.bench.ts (or those whose name contains one of the
 * arguments) one after another in its own process, so one benchmark's heap does not skew another's.
 * Each benchmark prints its own figures and its ratio against the reference tool.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const all = readdirSync(here).filter((f) => f.endsWith('.bench.ts'));
// an argument naming a benchmark exactly runs that one only (`neutron` is not also
// `neutron-server`, which needs the nova + neutron rig); otherwise every name containing it
const picks = (f: string, x: string) =>
  all.includes(`${x}.bench.ts`) ? f === `${x}.bench.ts` : f.includes(x);
// benchmarks that stand up a rig of real services run only when named
const ONLY_BY_NAME = new Set(['neutron-server.bench.ts', 'nova-conductor.bench.ts']);
const files = all
  .filter((f) => (filters.length === 0 ? !ONLY_BY_NAME.has(f) : filters.some((x) => picks(f, x))))
  .sort();
if (files.length === 0) {
  process.stderr.write(`no benchmark matches ${filters.join(' ')}\n`);
  process.exit(1);
}
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n=== ${f}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(here, f)], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
