/**
 * The dashboard's static assets: the page script bundled with esbuild (uPlot included, no CDN) and
 * its CSS. `npm run build` (also run by `npm pack`) writes them beside the compiled module, into
 * dist/web/assets/, and the installed package serves those files; a checkout has none there and
 * bundles them in memory on first use (esbuild and uPlot are development dependencies).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RpcscopeError } from '../errors.ts';

export interface Assets {
  readonly js: string;
  readonly css: string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** Where the prebuilt assets are: dist/web/assets/ in the package, src/web/assets/ (absent) in a checkout. */
export const ASSETS_DIR = join(here, 'assets');

function css(): string {
  const require = createRequire(import.meta.url);
  const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  return `${uplotCss}\n${readFileSync(join(here, 'page', 'style.css'), 'utf8')}`;
}

/** esbuild options shared by the dashboard page and the report charts. */
const BUNDLE = {
  bundle: true,
  platform: 'browser',
  target: 'es2020',
  minify: true,
  write: false,
  logLevel: 'silent',
  legalComments: 'none',
} as const;

/** Bundles the page with esbuild into memory. */
export async function buildAssets(): Promise<Assets> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (cause) {
    throw new RpcscopeError(
      'RPCSCOPE_TOOL_MISSING',
      'the dashboard assets are not built and esbuild is not installed: run `npm run build` in a development checkout',
      { cause },
    );
  }
  const r = await esbuild.build({ ...BUNDLE, entryPoints: [join(here, 'page', 'app.ts')], format: 'esm' });
  const js = r.outputFiles[0]?.text;
  if (js === undefined) throw new RpcscopeError('RPCSCOPE_INTERNAL', 'esbuild produced no output');
  return { js, css: css() };
}

/** The HTML reports' chart script (uPlot + page/report-charts.ts, an IIFE to inline) and uPlot's CSS. */
export function buildReportChartsSync(): Assets {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  } catch (cause) {
    throw new RpcscopeError(
      'RPCSCOPE_TOOL_MISSING',
      'the report chart bundle is not built and esbuild is not installed: run `npm run build` in a development checkout',
      { cause },
    );
  }
  const r = esbuild.buildSync({
    ...BUNDLE,
    entryPoints: [join(here, 'page', 'report-charts.ts')],
    format: 'iife',
  });
  const js = r.outputFiles[0]?.text;
  if (js === undefined) throw new RpcscopeError('RPCSCOPE_INTERNAL', 'esbuild produced no output');
  const require = createRequire(import.meta.url);
  return { js, css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8') };
}

let charts: Assets | undefined;

/** The report charts' bundle: prebuilt (report-charts.js/.css in the dist directory) or built once. */
export function reportChartsBundle(): Assets {
  if (charts === undefined) {
    const js = join(ASSETS_DIR, 'report-charts.js');
    const css = join(ASSETS_DIR, 'report-charts.css');
    charts =
      existsSync(js) && existsSync(css)
        ? { js: readFileSync(js, 'utf8'), css: readFileSync(css, 'utf8') }
        : buildReportChartsSync();
  }
  return charts;
}

let cached: Promise<Assets> | undefined;

/** The prebuilt assets when present, else an in-memory bundle (built once per process). */
export function loadAssets(): Promise<Assets> {
  if (cached === undefined) {
    const js = join(ASSETS_DIR, 'app.js');
    const cssFile = join(ASSETS_DIR, 'app.css');
    cached =
      existsSync(js) && existsSync(cssFile)
        ? Promise.resolve({ js: readFileSync(js, 'utf8'), css: readFileSync(cssFile, 'utf8') })
        : buildAssets();
  }
  return cached;
}
