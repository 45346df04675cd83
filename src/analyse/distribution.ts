/**
 * Order statistics of a series in bounded memory, for the spec's medians over captures of any
 * length (issue 11). A series keeps its values exactly while every series of the spec together
 * fits a shared budget (`SampleBudget`); past it, the largest series are reduced, each to a
 * value → count table while it has few distinct values (byte sizes, counts per operation: still
 * exact), else to logarithmic buckets of relative width 2·SKETCH_ACCURACY, DDSketch's scheme
 * (Masson, Rim, Lee, VLDB 2019): any quantile within 0.1 % of a value of the series, min and max
 * exact, memory bounded by the range of the values, not their number.
 */
import { median as exactMedian } from './spec-stats.ts';

/** Relative accuracy of a quantile once a series is bucketed. */
export const SKETCH_ACCURACY = 0.001;
const GAMMA = (1 + SKETCH_ACCURACY) / (1 - SKETCH_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Below this magnitude a value counts as 0 (no bucket of its own). */
const TINY = 1e-9;
/** A table with more distinct values than this becomes buckets. */
export const MAX_DISTINCT = 2048;

/**
 * Exact values held by every series of one spec, at most `limit` (8 bytes each): past it the
 * largest series are reduced until half the limit is held.
 */
export class SampleBudget {
  readonly limit: number;
  #held = 0;
  readonly #members: Distribution[] = [];
  /** Series reduced so far (0: every figure is exact). */
  reduced = 0;
  /** Of those, bucketed (their quantiles are within SKETCH_ACCURACY). */
  bucketed = 0;

  constructor(limit: number) {
    this.limit = Math.max(1, limit);
  }

  get held(): number {
    return this.#held;
  }

  /** @internal a series joins the budget */
  join(d: Distribution): void {
    this.#members.push(d);
  }

  /** @internal a series changed how many values it holds exactly */
  change(n: number): void {
    this.#held += n;
    if (this.#held > this.limit) this.#shed();
  }

  #shed(): void {
    const exact = this.#members
      .filter((d) => d.exactLength > 0)
      .sort((a, b) => b.exactLength - a.exactLength);
    for (const d of exact) {
      if (this.#held <= this.limit / 2) break;
      d.reduce();
    }
    // reduced series no longer count against the budget: forget them
    let w = 0;
    for (const d of this.#members) if (d.exactLength > 0 || !d.isReduced) this.#members[w++] = d;
    this.#members.length = w;
  }
}

type Entry = readonly [value: number, count: number];

/** A series of numbers: exact while the budget allows, then a table or buckets (see the file comment). */
export class Distribution {
  readonly #budget: SampleBudget | undefined;
  #exact: Float64Array | undefined = new Float64Array(8);
  #n = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;
  #integers = true;
  /** value → count, once reduced while few distinct values */
  #table: Map<number, number> | undefined;
  /** bucket index → count (positive and negative values apart), once bucketed */
  #pos: Map<number, number> | undefined;
  #neg: Map<number, number> | undefined;
  #zeros = 0;

  constructor(budget?: SampleBudget) {
    this.#budget = budget;
    budget?.join(this);
  }

  get length(): number {
    return this.#n;
  }
  /** Values held one by one (0 once reduced). */
  get exactLength(): number {
    return this.#exact === undefined ? 0 : this.#n;
  }
  /** Numbers held: the values, or the table's or buckets' entries (what memory grows with). */
  get entries(): number {
    if (this.#exact !== undefined) return this.#n;
    if (this.#table !== undefined) return this.#table.size;
    return (this.#pos?.size ?? 0) + (this.#neg?.size ?? 0) + (this.#zeros > 0 ? 1 : 0);
  }
  get isReduced(): boolean {
    return this.#exact === undefined;
  }
  /** Whether quantiles are estimates (within SKETCH_ACCURACY). */
  get isApproximate(): boolean {
    return this.#pos !== undefined;
  }

  push(x: number): void {
    this.#n++;
    if (x < this.#min) this.#min = x;
    if (x > this.#max) this.#max = x;
    if (this.#integers && !Number.isInteger(x)) this.#integers = false;
    const a = this.#exact;
    if (a !== undefined) {
      if (this.#n > a.length) {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        this.#exact = b;
      }
      (this.#exact as Float64Array)[this.#n - 1] = x;
      this.#budget?.change(1);
      return;
    }
    this.#count(x, 1);
  }

  min(): number {
    return this.#n === 0 ? Number.POSITIVE_INFINITY : this.#min;
  }
  max(): number {
    return this.#n === 0 ? Number.NEGATIVE_INFINITY : this.#max;
  }

  /** The values, when held exactly (tests, and exact statistics). */
  values(): number[] | undefined {
    return this.#exact === undefined ? undefined : Array.from(this.#exact.subarray(0, this.#n));
  }

  /** Median, with `zeros` more values of 0 (series absent from some instances count 0 there). */
  median(zeros = 0): number {
    const xs = this.values();
    if (xs !== undefined) {
      for (let i = 0; i < zeros; i++) xs.push(0);
      return exactMedian(xs);
    }
    return weightedMedian(withZeros(this.#entries(), zeros));
  }

  /**
   * Nearest-rank percentiles (`ps` in 0..100): the value of rank ⌈p·n/100⌉, one that was observed
   * while the series is exact or a table (report.ts percentile), a bucket's estimate once bucketed.
   * 0 for an empty series.
   */
  percentiles(ps: readonly number[]): number[] {
    const n = this.#n;
    if (n === 0) return ps.map(() => 0);
    const xs = this.values();
    const sorted = xs?.sort((a, b) => a - b);
    const entries = sorted === undefined ? this.#entries() : undefined;
    return ps.map((p) => {
      const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
      if (sorted !== undefined) return sorted[rank - 1] ?? 0;
      let seen = 0;
      for (const [v, c] of entries ?? []) {
        seen += c;
        if (seen >= rank) return v;
      }
      return this.#max;
    });
  }

  /** Median absolute deviation from `center` (a period's jitter). */
  medianDeviation(center: number): number {
    const xs = this.values();
    if (xs !== undefined) return exactMedian(xs.map((x) => Math.abs(x - center)));
    const dev = this.#entries().map(([v, c]): Entry => [Math.abs(v - center), c]);
    return weightedMedian(dev.sort((a, b) => a[0] - b[0]));
  }

  /** Adds every value of `other` (a series pooled over instances). */
  addAll(other: Distribution): void {
    const xs = other.values();
    if (xs !== undefined) {
      for (const x of xs) this.push(x);
      return;
    }
    if (this.#exact !== undefined) this.reduce();
    this.#n += other.#n;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
    this.#integers &&= other.#integers;
    if (other.#table !== undefined) for (const [v, c] of other.#table) this.#count(v, c);
    else {
      // both bucketed now (a table is bucketed before it takes buckets)
      if (this.#pos === undefined) this.#bucket();
      for (const [i, c] of other.#pos ?? []) bump(this.#pos as Map<number, number>, i, c);
      for (const [i, c] of other.#neg ?? []) bump(this.#neg as Map<number, number>, i, c);
      this.#zeros += other.#zeros;
    }
  }

  /** Lets the values go: a table while few distinct ones, else buckets. */
  reduce(): void {
    const a = this.#exact;
    if (a === undefined) return;
    this.#exact = undefined;
    this.#table = new Map();
    const n = this.#n;
    for (let i = 0; i < n; i++) {
      this.#countTable(a[i] ?? 0, 1);
    }
    if (this.#budget !== undefined) {
      this.#budget.reduced++;
      if (this.#pos !== undefined) this.#budget.bucketed++;
      this.#budget.change(-n);
    }
  }

  #count(x: number, c: number): void {
    if (this.#table !== undefined) {
      const wasBucketed = this.#pos !== undefined;
      this.#countTable(x, c);
      if (!wasBucketed && this.#pos !== undefined && this.#budget !== undefined) this.#budget.bucketed++;
      return;
    }
    this.#countBucket(x, c);
  }

  #countTable(x: number, c: number): void {
    const t = this.#table;
    if (t === undefined) {
      this.#countBucket(x, c);
      return;
    }
    bump(t, x, c);
    if (t.size > MAX_DISTINCT) this.#bucket();
  }

  /** Table → buckets. */
  #bucket(): void {
    const t = this.#table;
    this.#table = undefined;
    this.#pos = new Map();
    this.#neg = new Map();
    if (t !== undefined) for (const [v, c] of t) this.#countBucket(v, c);
  }

  #countBucket(x: number, c: number): void {
    const m = Math.abs(x);
    if (m < TINY) this.#zeros += c;
    else bump((x > 0 ? this.#pos : this.#neg) as Map<number, number>, Math.ceil(Math.log(m) / LOG_GAMMA), c);
  }

  /** (value, count) ascending; bucketed values are their bucket's estimate, kept within min..max. */
  #entries(): Entry[] {
    if (this.#table !== undefined) return [...this.#table].sort((a, b) => a[0] - b[0]);
    const est = (i: number): number => {
      const v = (2 * GAMMA ** i) / (GAMMA + 1);
      return this.#integers ? Math.round(v) : v;
    };
    const clamp = (v: number): number => Math.min(this.#max, Math.max(this.#min, v));
    const out: Entry[] = [];
    for (const [i, c] of this.#neg ?? []) out.push([clamp(-est(i)), c]);
    if (this.#zeros > 0) out.push([clamp(0), this.#zeros]);
    for (const [i, c] of this.#pos ?? []) out.push([clamp(est(i)), c]);
    return out.sort((a, b) => a[0] - b[0]);
  }
}

function bump(m: Map<number, number>, k: number, c: number): void {
  m.set(k, (m.get(k) ?? 0) + c);
}

function withZeros(entries: Entry[], zeros: number): Entry[] {
  if (zeros <= 0) return entries;
  return [...entries, [0, zeros] as const].sort((a, b) => a[0] - b[0]);
}

/** spec-stats median over (value, count) ascending: the middle value, or the mean of the two middle ones. */
function weightedMedian(entries: readonly Entry[]): number {
  const n = entries.reduce((s, e) => s + e[1], 0);
  if (n === 0) return 0;
  const at = (rank: number): number => {
    let seen = 0;
    for (const [v, c] of entries) {
      seen += c;
      if (seen > rank) return v;
    }
    return entries[entries.length - 1]?.[0] ?? 0;
  };
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}
