/**
 * Damaged input does not stop a command: what decoded is used and printed, the rest is counted as
 * skipped. A script must still see it: one line on stderr naming the first damaged place, and the
 * exit status of RPCSCOPE_INPUT_DAMAGED (4).
 */
import { SKETCH_ACCURACY } from '../analyse/distribution.ts';
import { BACKGROUND_HELD } from '../analyse/periodic.ts';
import { type SpecLoaded, specInputProblems } from '../analyse/spec-load.ts';
import { QUIET_MS, type SpecRead } from '../analyse/spec-stream.ts';
import { exitStatus, RpcscopeError } from '../errors.ts';
import type { DecodeIssue } from '../records.ts';

/** What a command skipped: `Report.skipped` (issues as text) or a load's SkipStats. */
export interface Skipped {
  readonly bytes: number;
  readonly frames: number;
  readonly records: number;
  readonly issues: readonly (string | DecodeIssue)[];
}

function place(i: string | DecodeIssue): string {
  if (typeof i === 'string') return i;
  const at = i.line !== undefined ? `:${i.line}` : i.offset !== undefined ? `@${i.offset}` : '';
  return `${i.input}${at}: ${i.message}`;
}

/** Says so and sets the exit status when anything was skipped; otherwise does nothing. */
export function flagDamage(skipped: Skipped, inputs: readonly string[]): void {
  if (skipped.bytes === 0 && skipped.frames === 0 && skipped.records === 0) return;
  const first = skipped.issues[0];
  process.stderr.write(
    `rpcscope: RPCSCOPE_INPUT_DAMAGED: ${first !== undefined ? place(first) : inputs.join(', ')} (skipped ${skipped.bytes} bytes, ${skipped.frames} frames, ${skipped.records} records; the results are from what decoded)\n`,
  );
  process.exitCode = exitStatus('RPCSCOPE_INPUT_DAMAGED');
}

/**
 * What `spec` and `model` read, said as `report` says it: a line per file that could not be read
 * (the others were used) and the skipped counts with the first located issues, on stderr, and the
 * exit status for them (src/analyse/spec-load.ts specInputProblems). Nothing read at all: the
 * first failure is thrown; files read but no AMQP message in them: RPCSCOPE_INPUT_FORMAT.
 */
export function flagSpecInput(
  loaded: Pick<SpecLoaded, 'failed' | 'skipped' | 'results'> & Pick<SpecRead, 'messages'>,
  inputs: readonly string[],
): void {
  const problems = specInputProblems(loaded);
  const first = loaded.failed[0];
  const none = first !== undefined && loaded.results.length === 0;
  for (const l of problems.lines.slice(none ? 1 : 0)) process.stderr.write(`${l}\n`);
  if (none) throw first.error;
  if (problems.code !== undefined) process.exitCode = exitStatus(problems.code);
  if (loaded.messages === 0)
    throw new RpcscopeError('RPCSCOPE_INPUT_FORMAT', 'no AMQP messages found in the input', {
      context: { input: inputs.join(', ') },
    });
}

/**
 * A spec read in folds (spec-stream.ts) says when an operation sent again after it had been folded:
 * its later messages were grouped on their own. Not damage: the exit status stays.
 */
export function lateNote(
  command: string,
  read: Pick<SpecRead, 'late' | 'folds' | 'quietMs' | 'statistics'>,
): void {
  if (read.late > 0)
    process.stderr.write(
      `[${command}] ${read.late} messages came for operations already folded (quiet for ${(read.quietMs ?? QUIET_MS) / 1000} s, folded to bound memory in ${read.folds} chunks): grouped on their own; --hold-messages N holds more of the capture at once\n`,
    );
  const st = read.statistics;
  if (st.bucketedSeries > 0)
    process.stderr.write(
      `[${command}] the capture outgrew the exact statistics: ${st.bucketedSeries} series' medians are estimates within ${SKETCH_ACCURACY * 100} % (spec "statistics")\n`,
    );
  if (st.backgroundNamedEarly)
    process.stderr.write(
      `[${command}] background senders were named after ${BACKGROUND_HELD.toLocaleString('en-US')} background messages, not at the end of the capture (spec "statistics")\n`,
    );
}
