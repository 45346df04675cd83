/**
 * Time-series charts for the HTML reports (emulation, chaos timeline): drawn in the browser by
 * uPlot (src/web/page/report-charts.ts, inlined: one self-contained file), with an SVG of the same
 * chart inside <noscript> for readers without scripts (mail clients, viewers). Both label the
 * axes and print values in their unit; bytes in binary units (KiB, MiB, GiB).
 */
import { reportChartsBundle } from '../web/assets.ts';
import { escapeHtml as esc } from './escape.ts';
import { type ChartUnit, formatValue } from './units.ts';

export type { ChartUnit } from './units.ts';

export interface ChartSpec {
  /** Element id of the chart (unique in the page). */
  readonly id: string;
  readonly title: string;
  /** Value-axis label with its unit, e.g. "messages/s", "latency (ms)", "memory (MiB)". */
  readonly yLabel: string;
  readonly unit: ChartUnit;
  /** Seconds since the start of the run. */
  readonly x: readonly number[];
  readonly series: readonly {
    readonly label: string;
    readonly color: string;
    readonly values: readonly (number | null | undefined)[];
  }[];
  /** Spans of time marked (faults), in seconds since the start. */
  readonly bands?: readonly { readonly from: number; readonly to: number; readonly label: string }[];
  /** A vertical dashed line (the end of the measured window). */
  readonly marker?: number;
  readonly yMax?: number;
  /** The value axis starts at zero (default); false fits it to the data. */
  readonly fromZero?: boolean;
}

const W = 600;
const H = 200;
const L = 78;
const B = 34;
const T = 8;

/** The chart as SVG: axes with their labels, min/max in the unit, bands, one polyline per run of values. */
export function chartSvg(c: ChartSpec): string {
  const end = Math.max(1, ...c.x);
  const vals = c.series.flatMap((s) =>
    s.values.filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v)),
  );
  const fromZero = c.fromZero ?? true;
  let max = c.yMax ?? Math.max(0, ...vals);
  let min = fromZero ? 0 : Math.min(...vals, max);
  if (!fromZero) min = Math.max(0, min - (max - min) * 0.1);
  if (max <= min) max = min + 1;
  const x = (t: number) => L + (t / end) * (W - L - 10);
  const y = (v: number) => T + (1 - (v - min) / (max - min)) * (H - B - T);
  const bands = (c.bands ?? [])
    .map(
      (b) =>
        `<rect x="${x(b.from).toFixed(1)}" y="${T}" width="${Math.max(1, x(b.to) - x(b.from)).toFixed(1)}" height="${H - B - T}" fill="#fde68a" opacity="0.6"><title>${esc(b.label)}</title></rect>`,
    )
    .join('');
  const marker =
    c.marker === undefined
      ? ''
      : `<line x1="${x(c.marker)}" x2="${x(c.marker)}" y1="${T}" y2="${H - B}" stroke="#999" stroke-dasharray="3 3"/>`;
  const lines = c.series
    .map((s) => {
      const segs: string[] = [];
      let cur: string[] = [];
      s.values.forEach((v, k) => {
        const t = c.x[k];
        if (v === null || v === undefined || !Number.isFinite(v) || t === undefined) {
          if (cur.length > 0) segs.push(cur.join(' '));
          cur = [];
        } else cur.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
      });
      if (cur.length > 0) segs.push(cur.join(' '));
      return segs
        .map((p) => `<polyline fill="none" stroke="${esc(s.color)}" stroke-width="1.5" points="${p}"/>`)
        .join('');
    })
    .join('');
  const ticks: string[] = [];
  const step = end > 600 ? 120 : end > 120 ? 30 : end > 30 ? 10 : 5;
  for (let t = 0; t <= end; t += step)
    ticks.push(`<text x="${x(t)}" y="${H - B + 12}" font-size="9" text-anchor="middle">${t}</text>`);
  const legend = c.series
    .map((s) => `<span style="color:${esc(s.color)}">■ ${esc(s.label)}</span>`)
    .join(' ');
  return `<figure><figcaption>${esc(c.title)} ${legend}</figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">
<rect x="${L}" y="${T}" width="${W - L - 10}" height="${H - B - T}" fill="#f8fafc" stroke="#cbd5e1"/>${bands}${marker}${lines}
<text x="${L - 4}" y="${T + 8}" font-size="9" text-anchor="end">${esc(formatValue(c.unit, max))}</text><text x="${L - 4}" y="${H - B}" font-size="9" text-anchor="end">${esc(formatValue(c.unit, min))}</text>${ticks.join('')}
<text x="12" y="${(H - B) / 2}" font-size="10" text-anchor="middle" transform="rotate(-90 12 ${(H - B) / 2})">${esc(c.yLabel)}</text>
<text x="${(L + W) / 2}" y="${H - 4}" font-size="10" text-anchor="middle">time since start (s)</text></svg></figure>`;
}

/** JSON inside a <script> element: no `<` at all, so no `</script>` can end it. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The charts' HTML: per chart a titled box where uPlot draws (the SVG inside <noscript> until it
 * does), then the data and the inlined uPlot bundle and its CSS.
 */
export function chartsHtml(charts: readonly ChartSpec[]): string {
  const bundle = reportChartsBundle();
  const boxes = charts
    .map(
      (c) =>
        `<figure class="chart"><figcaption>${esc(c.title)}</figcaption><div id="${esc(c.id)}" class="plot"><noscript>${chartSvg(c)}</noscript></div></figure>`,
    )
    .join('\n');
  const data = charts.map((c) => ({
    id: c.id,
    yLabel: c.yLabel,
    unit: c.unit,
    x: c.x,
    series: c.series.map((s) => ({
      label: s.label,
      color: s.color,
      values: s.values.map((v) => (v === undefined || !Number.isFinite(v) ? null : v)),
    })),
    bands: c.bands ?? [],
    ...(c.marker !== undefined ? { marker: c.marker } : {}),
    ...(c.yMax !== undefined ? { yMax: c.yMax } : {}),
    fromZero: c.fromZero ?? true,
  }));
  return `<style>${bundle.css}
figure.chart{display:inline-block;vertical-align:top;margin:6px 12px 6px 0}figure.chart figcaption{font-weight:600;font-size:13px}</style>
${boxes}
<script type="application/json" id="rpcscope-charts">${scriptJson(data)}</script>
<script>${bundle.js.replace(/<\/script/gi, '<\\/script')}</script>`;
}
