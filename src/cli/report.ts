/** `rpcscope report FILE... [--json]` and `rpcscope report --live IFACE [--duration S]`. */
import { stat } from 'node:fs/promises';
import type { Command } from '@commander-js/extra-typings';
import cliProgress from 'cli-progress';
import { RpcscopeError } from '../errors.ts';
import { type Report, ReportAccumulator } from '../outputs/report.ts';
import { type LoadOptions, loadCaptures } from '../pipeline/load.ts';
import { renderReport } from '../render/report-text.ts';
import { flagDamage } from './damage.ts';

/** Inputs smaller than this finish before a progress line would help. */
const PROGRESS_MIN_BYTES = 16 * 1024 * 1024;

async function totalBytes(files: string[]): Promise<number> {
  let n = 0;
  for (const f of files) n += (await stat(f).catch(() => ({ size: 0 }))).size;
  return n;
}

/**
 * The report of capture files, streamed (memory does not grow with the capture), with progress on
 * stderr for large inputs (a bar on a TTY, a line every few seconds otherwise).
 */
export async function reportFiles(files: string[], label: string): Promise<Report> {
  const acc = new ReportAccumulator();
  // Streamed: nothing is kept, the accumulator is the only output.
  const stream: LoadOptions = { keep: false, sinks: [acc] };
  const total = await totalBytes(files);
  if (total < PROGRESS_MIN_BYTES) return acc.result(await loadCaptures(files, stream));
  const tty = process.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: `${label} {bar} {percentage}% | {value}/{total} MiB`,
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const mib = (b: number) => Math.round(b / 1048576);
  bar?.start(mib(total), 0);
  let base = 0;
  let lastFile = '';
  let lastFileBytes = 0;
  let lastLine = 0;
  try {
    const loaded = await loadCaptures(files, {
      ...stream,
      onProgress: (input, done) => {
        if (input !== lastFile) {
          base += lastFileBytes;
          lastFile = input;
        }
        lastFileBytes = done;
        const now = base + done;
        if (bar !== undefined) bar.update(mib(now));
        else if (Date.now() - lastLine >= 2000) {
          lastLine = Date.now();
          process.stderr.write(
            `${label}: ${mib(now)}/${mib(total)} MiB (${Math.round((100 * now) / total)} %)\n`,
          );
        }
      },
    });
    return acc.result(loaded);
  } finally {
    bar?.stop();
  }
}

export function printReport(report: Report, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
}

export function register(program: Command): void {
  program
    .command('report')
    .argument('[files...]', 'captures: pcap/pcapng (tcpdump -w), rabbitmq_tracing JSON log, firehose JSONL')
    .option('--json', 'print one JSON object instead of tables')
    .option('--live <iface>', 'decode a live tcpdump on this interface and report at the end (or on Ctrl-C)')
    .option('--duration <seconds>', 'with --live: stop after this many seconds')
    .option('--port <port>', 'with --live: the broker AMQP port', '5672')
    .action(async (files, o) => {
      if (o.live !== undefined) {
        if (files.length > 0)
          throw new RpcscopeError(
            'RPCSCOPE_BAD_ARGUMENT',
            'give either capture files or --live IFACE, not both',
          );
        const { reportLive } = await import('./report-live.ts');
        const durationS = o.duration === undefined ? undefined : Number(o.duration);
        if (durationS !== undefined && !(durationS > 0))
          throw new RpcscopeError(
            'RPCSCOPE_BAD_ARGUMENT',
            `--duration must be a positive number of seconds, not ${o.duration}`,
          );
        const report = await reportLive(o.live, durationS, Number(o.port));
        printReport(report, o.json === true);
        flagDamage(report.skipped, [o.live]);
        return;
      }
      if (files.length === 0)
        throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', 'give one or more capture files, or --live IFACE');
      const report = await reportFiles(files, 'report');
      printReport(report, o.json === true);
      flagDamage(report.skipped, files);
    });
}
