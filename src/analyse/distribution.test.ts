import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rng } from '../../test/wire/amqp/rng.ts';
import { Distribution, MAX_DISTINCT, SampleBudget, SKETCH_ACCURACY } from './distribution.ts';
import { median } from './spec-stats.ts';

/** Latency-like values: log-normal around 5 ms, µs resolution. */
function latencies(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
    return Math.round(5000 * Math.exp(0.8 * z)) / 1000;
  });
}

test('within its budget a series is exact: the median spec-stats gives, min and max', () => {
  const xs = latencies(1001, 1);
  const d = new Distribution(new SampleBudget(10_000));
  for (const x of xs) d.push(x);
  assert.equal(d.isReduced, false);
  assert.equal(d.median(), median(xs));
  assert.equal(d.median(7), median([...xs, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(d.min(), Math.min(...xs));
  assert.equal(d.max(), Math.max(...xs));
  const c = 3.2;
  assert.equal(d.medianDeviation(c), median(xs.map((x) => Math.abs(x - c))));
});

test('past the budget the largest series are reduced first, and the budget holds', () => {
  const budget = new SampleBudget(1000);
  const big = new Distribution(budget);
  const small = new Distribution(budget);
  for (let i = 0; i < 100; i++) small.push(i);
  for (let i = 0; i < 5000; i++) {
    big.push(i % 300);
    assert.ok(budget.held <= budget.limit, `held ${budget.held} at ${i}`);
  }
  assert.equal(big.isReduced, true);
  assert.equal(small.isReduced, false, 'the small series keeps its values');
  assert.equal(budget.reduced, 1);
  assert.equal(budget.bucketed, 0);
});

test('a reduced series with few distinct values (sizes, counts) stays exact', () => {
  const r = rng(2);
  const xs = Array.from({ length: 50_001 }, () => 800 + Math.floor(r() * 400));
  const d = new Distribution(new SampleBudget(100));
  for (const x of xs) d.push(x);
  assert.equal(d.isReduced, true);
  assert.equal(d.isApproximate, false);
  assert.equal(d.length, xs.length);
  assert.equal(d.median(), median(xs));
  assert.equal(d.median(20_000), median([...xs, ...new Array<number>(20_000).fill(0)]));
  assert.equal(d.medianDeviation(1000), median(xs.map((x) => Math.abs(x - 1000))));
});

test('a bucketed series: medians within the sketch accuracy, min and max exact, memory bounded', () => {
  const xs = latencies(200_001, 3);
  const d = new Distribution(new SampleBudget(1000));
  for (const x of xs) d.push(x);
  assert.equal(d.isApproximate, true);
  // log-normal over ~4 decades of values: a few thousand buckets at most, whatever the count
  assert.ok(d.entries < 5000, `${d.entries} buckets`);
  const exact = median(xs);
  assert.ok(Math.abs(d.median() - exact) <= exact * SKETCH_ACCURACY, `median ${d.median()} vs ${exact}`);
  assert.equal(
    d.min(),
    xs.reduce((m, x) => Math.min(m, x)),
  );
  assert.equal(
    d.max(),
    xs.reduce((m, x) => Math.max(m, x)),
  );
  const mad = median(xs.map((x) => Math.abs(x - exact)));
  // a deviation's error is the value's error: relative to the values, not to the deviation
  assert.ok(Math.abs(d.medianDeviation(exact) - mad) <= 2 * exact * SKETCH_ACCURACY);
  // integers stay integers once bucketed
  const sizes = new Distribution(new SampleBudget(10));
  for (let i = 0; i < 10 * MAX_DISTINCT; i++) sizes.push(1000 + i);
  assert.equal(sizes.isApproximate, true);
  assert.ok(Number.isInteger(sizes.median()));
  assert.ok(
    Math.abs(sizes.median() - median(Array.from({ length: 10 * MAX_DISTINCT }, (_, i) => 1000 + i))) <= 30,
  );
});

test('addAll pools series however they are held', () => {
  const a = latencies(3000, 4);
  const b = latencies(3000, 5);
  const exactA = new Distribution();
  for (const x of a) exactA.push(x);
  const bucketedB = new Distribution(new SampleBudget(10));
  for (const x of b) bucketedB.push(x);
  const pooled = new Distribution();
  pooled.addAll(exactA);
  assert.equal(pooled.median(), median(a));
  pooled.addAll(bucketedB);
  assert.equal(pooled.length, 6000);
  const m = median([...a, ...b]);
  assert.ok(Math.abs(pooled.median() - m) <= m * SKETCH_ACCURACY);
  assert.equal(pooled.max(), Math.max(...a, ...b));
  // zeros and negatives have their own buckets
  const signed = new Distribution(new SampleBudget(1));
  for (const x of [-5, -5, 0, 0, 0, 3, 3 + MAX_DISTINCT]) signed.push(x);
  for (let i = 0; i < MAX_DISTINCT; i++) signed.push(10 + i / 7);
  assert.equal(signed.isApproximate, true);
  assert.equal(signed.min(), -5);
  const few = new Distribution(new SampleBudget(1));
  for (const x of [-5, -5, 0, 0, 0]) few.push(x);
  assert.equal(few.median(), 0);
});

test('nearest-rank percentiles: an observed value while exact or a table, within the accuracy once bucketed', () => {
  const nearest = (xs: number[], p: number): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1] ?? 0;
  };
  const xs = latencies(999, 6);
  const exact = new Distribution();
  for (const x of xs) exact.push(x);
  assert.deepEqual(
    exact.percentiles([0, 50, 90, 99, 100]),
    [0, 50, 90, 99, 100].map((p) => nearest(xs, p)),
  );
  const sizes = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
  const table = new Distribution(new SampleBudget(2));
  for (const x of sizes) table.push(x);
  assert.equal(table.isReduced, true);
  assert.deepEqual(
    table.percentiles([50, 90, 99]),
    [50, 90, 99].map((p) => nearest(sizes, p)),
  );
  const many = latencies(100_000, 7);
  const bucketed = new Distribution(new SampleBudget(10));
  for (const x of many) bucketed.push(x);
  assert.equal(bucketed.isApproximate, true);
  for (const [i, v] of bucketed.percentiles([50, 90, 99]).entries()) {
    const want = nearest(many, [50, 90, 99][i] ?? 0);
    assert.ok(Math.abs(v - want) <= want * SKETCH_ACCURACY, `p${[50, 90, 99][i]} ${v} vs ${want}`);
  }
  assert.deepEqual(new Distribution().percentiles([50]), [0]);
});
