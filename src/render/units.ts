/**
 * Values in their unit, for chart axes and tooltips: bytes in binary units ("161.5 MiB", never
 * "161.5M B"), latencies in ms, percentages. No imports: the browser chart bundle uses it too.
 */
export type ChartUnit = 'count' | 'rate' | 'ms' | 'bytes' | 'percent' | 'cores';

const BYTES = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** A value in its unit: "1.5 MiB", "12.3 ms", "99.5 %", "1234". */
export function formatValue(unit: ChartUnit, v: number): string {
  if (unit === 'bytes') {
    let i = 0;
    let x = Math.abs(v);
    while (x >= 1024 && i < BYTES.length - 1) {
      x /= 1024;
      i++;
    }
    return `${(Math.sign(v) * x).toFixed(x < 10 && i > 0 ? 1 : 0)} ${BYTES[i]}`;
  }
  const a = Math.abs(v);
  const n = String(Number(v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2)));
  return unit === 'ms' ? `${n} ms` : unit === 'percent' ? `${n} %` : n;
}
