/**
 * The options every command shares, built one way: durations, sizes, counts and rates read by the
 * one grammar of src/util/units.ts, an invalid value is RPCSCOPE_BAD_ARGUMENT naming its flag, and
 * the names are the same across commands:
 *   -o, --output <path>   where the command's output goes (a file; a directory for commands that
 *                         write several: demo, chaos, export)
 *   --json                JSON on stdout instead of text (with -o: into that file)
 *   --tcpdump <iface>     a live tcpdump of the AMQP port
 *   --duration <d>        how long to run
 * Old spellings (`--out`, `--live`, `--parquet`) stay as hidden aliases that still work.
 */
import { Option } from '@commander-js/extra-typings';
import { RpcscopeError } from '../errors.ts';
import { parseCount, parseDurationS, parseRatePerS, parseSize, type RateUnit } from '../util/units.ts';
import { forFlag } from './flags.ts';

/** The long name of an option ("--duration") for error messages. */
function longName(o: { long?: string | undefined; flags: string }): string {
  return o.long ?? o.flags;
}

/** A duration option, in seconds: `500ms`, `90s`, `15m`, `2h`, `7d`; a plain number is seconds. */
export function durationOption<F extends string>(flags: F, description: string) {
  const o = new Option(flags, `${description} (e.g. 500ms, 90s, 15m, 7d; a number alone is seconds)`);
  return o.argParser((v: string) => {
    const s = forFlag(longName(o), () => parseDurationS(v));
    if (!(s > 0))
      throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `${longName(o)}: must be more than 0, not "${v}"`);
    return s;
  });
}

/** A size option, in bytes: `4096`, `64KiB`, `1MiB`, `10MB`, `2G` (binary units). */
export function sizeOption<F extends string>(flags: F, description: string) {
  const o = new Option(flags, `${description} (e.g. 64KiB, 500MB, 2G)`);
  return o.argParser((v: string) => forFlag(longName(o), () => parseSize(v)));
}

/** A whole count option: `100`, `10k`; at least `min` (default 1). */
export function countOption<F extends string>(flags: F, description: string, min = 1) {
  const o = new Option(flags, description);
  return o.argParser((v: string) => {
    const n = forFlag(longName(o), () => parseCount(v));
    if (n < min)
      throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `${longName(o)}: must be at least ${min}, not "${v}"`);
    return n;
  });
}

/** A rate option, in events per second: `2/s`, `120/min`; a plain number is per `plain`. */
export function rateOption<F extends string>(flags: F, description: string, plain: RateUnit) {
  const o = new Option(flags, description);
  return o.argParser((v: string) => forFlag(longName(o), () => parseRatePerS(v, plain)));
}

/** A TCP port: a whole number 1–65535. */
export function portOption<F extends string>(flags: F, description: string) {
  const o = new Option(flags, description);
  return o.argParser((v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `${longName(o)}: not a TCP port: "${v}"`);
    return n;
  });
}

/** A positive number without a unit (a factor, a seed): finite and > 0 unless `allowZero`. */
export function numberOption<F extends string>(flags: F, description: string, allowZero = false) {
  const o = new Option(flags, description);
  return o.argParser((v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !allowZero))
      throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `${longName(o)}: not a positive number: "${v}"`);
    return n;
  });
}

/** `-o, --output <path>`: where the command's output goes. */
export function outputOption(description: string) {
  return new Option('-o, --output <path>', description);
}

/** `--json`: JSON on stdout instead of text; with -o, into that file. */
export function jsonOption(description = 'JSON instead of text: on stdout, or into the -o file') {
  return new Option('--json', description);
}

/**
 * An old spelling of an option that still works but is not listed in `--help` or the shell
 * completion; the action reads it as `o.canonical ?? o.old`.
 */
export function hiddenAlias<F extends string>(flags: F, canonical: string) {
  return new Option(flags, `old spelling of ${canonical}`).hideHelp();
}
