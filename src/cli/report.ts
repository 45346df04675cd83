/** `rpcscope report FILE...|- [--json] [-o FILE]` and `rpcscope report --tcpdump IFACE [--duration D]`. */
import { stat } from 'node:fs/promises';
import { type Command, Option } from '@commander-js/extra-typings';
import cliProgress from 'cli-progress';
import { RpcscopeError } from '../errors.ts';
import { type Report, ReportAccumulator } from '../outputs/report.ts';
import { type LoadOptions, loadCaptures } from '../pipeline/load.ts';
import { renderReport } from '../render/report-text.ts';
import { boundHeapGrowth } from '../util/heap.ts';
import { flagDamage } from './damage.ts';
import { jsonDocument } from './json.ts';
import { durationOption, hiddenAlias, jsonOption, outputOption, portOption, vhostOption } from './options.ts';
import { writeOutput } from './output.ts';

/** Inputs smaller than this finish before a progress line would help. */
const PROGRESS_MIN_BYTES = 16 * 1024 * 1024;
/**
 * Inputs from this size on (or a stream, whose size is unknown) run with V8's heap growth bounded
 * (util/heap.ts): what the report holds is ~25 MB whatever the capture, but at full decoding speed
 * V8 lets garbage pile up to several times that, and the peak of that climbs with a longer run
 * (186, 208, 227 MiB on 1.1, 2.2, 4.4 GB; 171 MiB bounded on 4.4 GB). Smaller inputs keep the
 * faster default (the decode benchmark's 220 MB capture among them).
 */
const BOUND_HEAP_MIN_BYTES = 512 * 1024 * 1024;

async function totalBytes(files: string[]): Promise<number> {
  let n = 0;
  for (const f of files) n += (f === '-' ? { size: 0 } : await stat(f).catch(() => ({ size: 0 }))).size;
  return n;
}

/**
 * The report of capture files, streamed (memory does not grow with the capture), with progress on
 * stderr for large inputs (a bar on a TTY, a line every few seconds otherwise).
 */
export async function reportFiles(
  files: string[],
  label: string,
  vhosts: readonly string[] = [],
): Promise<Report> {
  const acc = new ReportAccumulator();
  // Streamed: nothing is kept, the accumulator is the only output.
  const stream: LoadOptions = { keep: false, sinks: [acc], ...(vhosts.length > 0 ? { vhosts } : {}) };
  const total = await totalBytes(files);
  if (total >= BOUND_HEAP_MIN_BYTES || files.includes('-')) boundHeapGrowth();
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

/** The report as the command prints it: JSON (`--json`) or the text tables. */
export function reportText(report: Report, json: boolean): string {
  return json ? jsonDocument('report', report) : renderReport(report);
}

export function printReport(report: Report, json: boolean): void {
  process.stdout.write(reportText(report, json));
}

export function register(program: Command): void {
  program
    .command('report')
    .argument(
      '[files...]',
      'captures: pcap/pcapng (tcpdump -w), rabbitmq_tracing JSON log, firehose JSONL; - reads stdin',
    )
    .addOption(jsonOption('one JSON object (schema/report.schema.json) instead of tables'))
    .addOption(outputOption('write the report to this file instead of stdout'))
    .addOption(
      new Option(
        '--tcpdump <iface>',
        'decode a live tcpdump on this interface and report at the end (or on Ctrl-C)',
      ),
    )
    .addOption(hiddenAlias('--live <iface>', '--tcpdump'))
    .addOption(vhostOption())
    .addOption(durationOption('--duration <d>', 'with --tcpdump: stop after this long'))
    .addOption(portOption('--port <port>', 'with --tcpdump: the broker AMQP port').default(5672))
    .action(async (files, o) => {
      const iface = o.tcpdump ?? o.live;
      let report: Report;
      let inputs: string[];
      if (iface !== undefined) {
        if (o.vhost !== undefined)
          throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', '--vhost reads capture files, not --tcpdump');
        if (files.length > 0)
          throw new RpcscopeError(
            'RPCSCOPE_BAD_ARGUMENT',
            'give either capture files or --tcpdump IFACE, not both',
          );
        const { reportLive } = await import('./report-live.ts');
        report = await reportLive(iface, o.duration, o.port);
        inputs = [iface];
      } else {
        if (files.length === 0)
          throw new RpcscopeError(
            'RPCSCOPE_BAD_ARGUMENT',
            'give one or more capture files (- for stdin), or --tcpdump IFACE',
          );
        report = await reportFiles(files, 'report', o.vhost);
        inputs = files;
      }
      const text = reportText(report, o.json === true);
      if (o.output !== undefined) await writeOutput(o.output, text);
      else process.stdout.write(text);
      flagDamage(report.skipped, inputs);
    });
}
