/** `npx tsx src/web/build.ts`: bundles the dashboard assets into src/web/assets/dist/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAssets, DIST_DIR } from './assets.ts';

const a = await buildAssets();
mkdirSync(DIST_DIR, { recursive: true });
writeFileSync(join(DIST_DIR, 'app.js'), a.js);
writeFileSync(join(DIST_DIR, 'app.css'), a.css);
process.stderr.write(`wrote ${DIST_DIR}/app.js (${a.js.length} bytes) and app.css (${a.css.length} bytes)\n`);
