/**
 * One grammar for the quantities every command and file takes: durations, sizes, counts and rates.
 * Pure functions with no dependency above errors.ts, so the CLI, the watch application and the
 * chaos timeline (scenario files) all read `90s` or `64KiB` the same way.
 *
 * Durations: a number with a unit, or several (`1h30m`): `ms`, `s`, `m`, `h`, `d`; a plain number
 *   is seconds (what every command documented before). `500ms`, `90`, `90s`, `15m`, `2h`, `7d`.
 * Sizes: a number with a unit: `B`, `K`/`KB`/`KiB`, `M`/`MB`/`MiB`, `G`/`GB`/`GiB`, `T`/`TB`/`TiB`,
 *   any case. Every unit is binary (1 MB = 1 MiB = 1048576 bytes), as Prometheus's
 *   `--storage.tsdb.retention.size` and `du -h` read them: an operator writing `500MB` for a disk
 *   budget means the same thing either way, and one reading avoids a surprise by 5 %. A plain
 *   number is bytes.
 * Counts: a whole number, optionally with `k` (×1000) or `M` (×1000000): `100`, `10k`.
 * Rates: a number per unit of time, `2/s`, `120/min`, `5/h` (`/m` is `/min`); a plain number is in
 *   the unit the option documents (`plain`).
 */
import { RpcscopeError } from '../errors.ts';

const DURATION_UNIT_S: Readonly<Record<string, number>> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
};

const SIZE_UNIT: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

const NUMBER = String.raw`\d+(?:\.\d+)?|\.\d+`;
const DURATION_PART = new RegExp(`(${NUMBER})(ms|s|m|h|d)`, 'y');
const PLAIN = new RegExp(`^(?:${NUMBER})$`);

function bad(what: string, text: string, example: string): RpcscopeError {
  return new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `"${text}" is not ${what} (use e.g. ${example})`);
}

export const DURATION_EXAMPLES = '500ms, 90s, 15m, 2h, 7d, 1h30m; a plain number is seconds';
export const SIZE_EXAMPLES = '4096, 64KiB, 1MiB, 10MB, 2G (binary units: 1 MB = 1 MiB)';

/** A duration in seconds: `500ms` → 0.5, `90` → 90, `1h30m` → 5400. Never negative. */
export function parseDurationS(text: string): number {
  const s = text.trim();
  if (PLAIN.test(s)) return Number(s);
  if (s === '') throw bad('a duration', text, DURATION_EXAMPLES);
  let total = 0;
  let at = 0;
  let lastUnit = Number.POSITIVE_INFINITY;
  while (at < s.length) {
    DURATION_PART.lastIndex = at;
    const m = DURATION_PART.exec(s);
    if (m === null) throw bad('a duration', text, DURATION_EXAMPLES);
    const unit = DURATION_UNIT_S[m[2]!]!;
    // `1h30m` reads largest first; `30m1h` or `1m1m` is a typo, not a duration
    if (unit >= lastUnit) throw bad('a duration', text, DURATION_EXAMPLES);
    lastUnit = unit;
    total += Number(m[1]) * unit;
    at = DURATION_PART.lastIndex;
  }
  return total;
}

/** A duration in milliseconds (whole): `90s` → 90000, `7d` → 604800000. */
export function parseDurationMs(text: string): number {
  return Math.round(parseDurationS(text) * 1000);
}

/** A size in bytes (whole): `64KiB` → 65536, `10MB` → 10485760, `4096` → 4096. */
export function parseSize(text: string): number {
  const m = new RegExp(`^(${NUMBER})\\s*(?:([kmgt])(?:i?b)?|(b))?$`, 'i').exec(text.trim());
  if (m === null) throw bad('a size', text, SIZE_EXAMPLES);
  const unit = SIZE_UNIT[(m[2] ?? m[3] ?? '').toLowerCase()]!;
  return Math.floor(Number(m[1]) * unit);
}

/** A whole count: `100`, `10k` (×1000), `2M` (×1000000). */
export function parseCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kM]?)$/.exec(text.trim());
  const n = m === null ? Number.NaN : Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : 1);
  if (!Number.isSafeInteger(n)) throw bad('a whole number', text, '100, 10k');
  return n;
}

export type RateUnit = 's' | 'min' | 'h';
const RATE_UNIT_S: Readonly<Record<RateUnit, number>> = { s: 1, min: 60, h: 3600 };

/** A rate in events per second: `2/s` → 2, `120/min` → 2; a plain number is per `plain`. */
export function parseRatePerS(text: string, plain: RateUnit): number {
  const m = new RegExp(`^(${NUMBER})\\s*(?:/\\s*(s|sec|m|min|h))?$`).exec(text.trim());
  if (m === null) throw bad('a rate', text, `2/s, 120/min, 5/h; a plain number is per ${plain}`);
  const u = m[2] === undefined ? plain : m[2] === 'sec' ? 's' : m[2] === 'm' ? 'min' : (m[2] as RateUnit);
  return Number(m[1]) / RATE_UNIT_S[u];
}

/** Seconds in the shortest exact form of this grammar: 0.5 → "500ms", 5400 → "1h30m". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  let ms = Math.round(seconds * 1000);
  const parts: string[] = [];
  for (const [u, f] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= f) {
      parts.push(`${Math.floor(ms / f)}${u}`);
      ms %= f;
    }
  }
  if (ms > 0) parts.push(`${ms}ms`);
  return parts.join('');
}
