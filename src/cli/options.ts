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
import { isRpcscopeError, RpcscopeError } from '../errors.ts';
import {
  DURATION_EXAMPLES,
  parseCount,
  parseDurationS,
  parseRatePerS,
  parseSize,
  type RateUnit,
  SIZE_EXAMPLES,
} from '../util/units.ts';

/** The long name of an option ("--duration") for error messages. */
function longName(o: { long?: string | undefined; flags: string }): string {
  return o.long ?? o.flags;
}

/** Parses with `parse`; a value it refuses is RPCSCOPE_BAD_ARGUMENT "FLAG must be WANT, not "v"". */
function checked<T>(
  o: { long?: string | undefined; flags: string },
  want: string,
  parse: (v: string) => T,
  ok: (x: T) => boolean = () => true,
) {
  return (v: string): T => {
    let x: T | undefined;
    try {
      x = parse(v);
    } catch (e) {
      if (!isRpcscopeError(e)) throw e;
    }
    if (x === undefined || !ok(x))
      throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `${longName(o)} must be ${want}, not "${v}"`);
    return x;
  };
}

/** A duration option, in seconds: `500ms`, `90s`, `15m`, `2h`, `7d`; a plain number is seconds. */
export function durationOption<F extends string>(flags: F, description: string) {
  const o = new Option(flags, `${description} (e.g. 500ms, 90s, 15m, 7d; a number alone is seconds)`);
  return o.argParser(
    checked(
      o,
      `a positive number of seconds or a duration (${DURATION_EXAMPLES})`,
      parseDurationS,
      (s) => s > 0,
    ),
  );
}

/** A size option, in bytes: `4096`, `64KiB`, `1MiB`, `10MB`, `2G` (binary units). */
export function sizeOption<F extends string>(flags: F, description: string) {
  const o = new Option(flags, `${description} (e.g. 64KiB, 500MB, 2G)`);
  return o.argParser(checked(o, `a size (${SIZE_EXAMPLES})`, parseSize, (n) => n > 0));
}

/** A whole count option: `100`, `10k`; at least `min` (default 1). */
export function countOption<F extends string>(flags: F, description: string, min = 1) {
  const o = new Option(flags, description);
  return o.argParser(checked(o, `a whole number ≥ ${min} (e.g. 100, 10k)`, parseCount, (n) => n >= min));
}

/** A rate option, in events per second: `2/s`, `120/min`; a plain number is per `plain`. */
export function rateOption<F extends string>(flags: F, description: string, plain: RateUnit) {
  const o = new Option(flags, description);
  return o.argParser(
    checked(o, `a rate (2/s, 120/min, 5/h; a number alone is per ${plain})`, (v) => parseRatePerS(v, plain)),
  );
}

/** A TCP port: a whole number 1–65535. */
export function portOption<F extends string>(flags: F, description: string) {
  const o = new Option(flags, description);
  return o.argParser(
    checked(o, 'a TCP port (1-65535)', Number, (n) => Number.isInteger(n) && n >= 1 && n <= 65535),
  );
}

/** A positive number without a unit (a factor, a seed): finite and > 0 unless `allowZero`. */
export function numberOption<F extends string>(flags: F, description: string, allowZero = false) {
  const o = new Option(flags, description);
  return o.argParser(
    checked(
      o,
      allowZero ? 'a number ≥ 0' : 'a positive number',
      (v) => (v.trim() === '' ? Number.NaN : Number(v)),
      (n) => Number.isFinite(n) && n >= 0 && (n > 0 || allowZero),
    ),
  );
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

/**
 * `--vhost <name>`, repeatable: only records of these vhosts (a tcpdump on a shared broker mixes
 * nova, neutron, cinder…; src/pipeline/vhosts.ts tells each connection's vhost).
 */
export function vhostOption() {
  return new Option(
    '--vhost <name>',
    'only messages of this vhost (repeatable); the others are dropped before correlation and counted',
  ).argParser((v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v]);
}

/** `--hold-messages N` of spec and model: how much of a capture is held before it is folded (spec-stream.ts). */
export function holdOption(defaultHold: number) {
  return countOption(
    '--hold-messages <n>',
    'messages held before the settled part of the capture is folded (bounds memory, ~250 B a message)',
    1000,
  ).default(defaultHold);
}
