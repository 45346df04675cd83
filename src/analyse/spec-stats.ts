/** Small order statistics for the spec; inputs are short arrays (per operation, per instance). */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export interface CountStat {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export function countStat(xs: readonly number[]): CountStat {
  if (xs.length === 0) return { min: 0, median: 0, max: 0 };
  return { min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
}

/** Least-squares line y = a + b·x; b = 0 when all x are equal. */
export function fitLine(points: readonly { x: number; y: number }[]): { a: number; b: number } {
  const n = points.length;
  if (n === 0) return { a: 0, b: 0 };
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  const b = sxx === 0 ? 0 : sxy / sxx;
  return { a: my - b * mx, b };
}
