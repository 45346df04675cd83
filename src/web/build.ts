/**
 * `tsx src/web/build.ts OUT_DIR` (run by `npm run build`): bundles the dashboard assets into
 * OUT_DIR (dist/web/assets/, where the compiled src/web/assets.js looks for them), and the HTML
 * reports' chart bundle (report-charts.js/.css, inlined by src/render/charts.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAssets, buildReportChartsSync } from './assets.ts';

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
const charts = buildReportChartsSync();
writeFileSync(join(out, 'report-charts.js'), charts.js);
writeFileSync(join(out, 'report-charts.css'), charts.css);
process.stderr.write(`wrote ${out}/report-charts.js (${charts.js.length} bytes) and report-charts.css\n`);
