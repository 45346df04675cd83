/**
 * `tsx src/web/build.ts OUT_DIR` (run by `npm run build`): bundles the dashboard assets into
 * OUT_DIR (dist/web/assets/, where the compiled src/web/assets.js looks for them).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAssets } from './assets.ts';

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write('usage: tsx src/web/build.ts OUT_DIR\n');
  process.exit(2);
}
const a = await buildAssets();
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'app.js'), a.js);
writeFileSync(join(out, 'app.css'), a.css);
process.stderr.write(`wrote ${out}/app.js (${a.js.length} bytes) and app.css (${a.css.length} bytes)\n`);
