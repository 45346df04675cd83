/**
 * The plots of the HTML reports (emulation, chaos timeline), in the browser: uPlot, bundled with
 * esbuild into an IIFE that the report inlines (one self-contained file). The charts come as JSON
 * in `<script type="application/json" id="rpcscope-charts">` (ChartSpec, src/render/charts.ts);
 * each is drawn into its `<div id>`, with labelled axes, units on the value axis, fault bands.
 */
import uPlot from 'uplot';
import { type ChartUnit, formatValue } from '../../render/units.ts';

interface Spec {
  readonly id: string;
  readonly yLabel: string;
  readonly unit: ChartUnit;
  readonly x: number[];
  readonly series: readonly { label: string; color: string; values: (number | null)[] }[];
  readonly bands: readonly { from: number; to: number; label: string }[];
  readonly marker?: number;
  readonly yMax?: number;
  readonly fromZero: boolean;
}

const value = (unit: ChartUnit, v: number | null): string => (v === null ? '–' : formatValue(unit, v));

function draw(spec: Spec, el: HTMLElement): void {
  const bandsPlugin: uPlot.Plugin = {
    hooks: {
      drawClear: (u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = 'rgba(253, 230, 138, 0.6)';
        for (const b of spec.bands) {
          const x0 = u.valToPos(b.from, 'x', true);
          const x1 = u.valToPos(b.to, 'x', true);
          ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
        }
        if (spec.marker !== undefined) {
          const x = u.valToPos(spec.marker, 'x', true);
          ctx.strokeStyle = '#999';
          ctx.setLineDash([4, 4]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
        }
        ctx.restore();
      },
    },
  };
  const opts: uPlot.Options = {
    width: Math.max(320, Math.min(900, el.clientWidth || 560)),
    height: 200,
    plugins: [bandsPlugin],
    scales: {
      x: { time: false },
      y: {
        range: (_u, min, max) => [
          spec.fromZero ? Math.min(0, min) : min,
          spec.yMax ?? (max > (spec.fromZero ? 0 : min) ? max : (spec.fromZero ? 0 : min) + 1),
        ],
      },
    },
    axes: [
      { label: 'time since start (s)', values: (_u, ticks) => ticks.map((t) => `${t}`) },
      {
        label: spec.yLabel,
        size: 70,
        values: (_u, ticks) => ticks.map((t) => value(spec.unit, t)),
      },
    ],
    series: [
      { label: 'time (s)' },
      ...spec.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 1.5,
        spanGaps: false,
        value: (_u: uPlot, v: number | null) => value(spec.unit, v),
      })),
    ],
  };
  new uPlot(opts, [spec.x, ...spec.series.map((s) => s.values)], el);
}

const data = document.getElementById('rpcscope-charts');
if (data !== null) {
  for (const spec of JSON.parse(data.textContent ?? '[]') as Spec[]) {
    const el = document.getElementById(spec.id);
    if (el === null) continue;
    el.querySelector('noscript')?.remove();
    draw(spec, el);
    el.dataset.drawn = 'uplot';
  }
}
