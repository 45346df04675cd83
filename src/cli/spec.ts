/** `rpcscope spec FILE... [--format md|json|html | --json] [-o PATH]`: the RPC specification of every operation. */
import { type Command, Option } from '@commander-js/extra-typings';
import { HOLD_MESSAGES, readSpec } from '../analyse/spec-stream.ts';
import { RpcscopeError } from '../errors.ts';
import { renderSpecHtml } from '../render/spec-html.ts';
import { renderSpecMarkdown } from '../render/spec-md.ts';
import { boundHeapGrowth } from '../util/heap.ts';
import { flagSpecInput, lateNote } from './damage.ts';
import { jsonDocument } from './json.ts';
import { holdOption, jsonOption, outputOption, vhostOption } from './options.ts';
import { writeOutput } from './output.ts';

const FORMATS = ['md', 'json', 'html'] as const;
type Format = (typeof FORMATS)[number];

function formatFromPath(p: string | undefined): Format | undefined {
  if (p === undefined) return undefined;
  if (/\.html?$/i.test(p)) return 'html';
  if (/\.json$/i.test(p)) return 'json';
  if (/\.(md|markdown)$/i.test(p)) return 'md';
  return undefined;
}

export function register(program: Command): void {
  program
    .command('spec')
    .argument('<files...>', 'captures: pcap/pcapng, rabbitmq_tracing JSON log, firehose JSONL')
    .addOption(
      new Option('-f, --format <format>', 'output format (default: from -o, else md)').choices(FORMATS),
    )
    .addOption(jsonOption('the spec as JSON (schema/spec.schema.json): --format json'))
    .addOption(outputOption('write to this file instead of stdout (the format follows its extension)'))
    .addOption(vhostOption())
    .addOption(holdOption(HOLD_MESSAGES))
    .action(async (files, o) => {
      // the whole capture's compact records are held: keep RSS near them (issue 11)
      boundHeapGrowth();
      if (o.json === true && o.format !== undefined && o.format !== 'json')
        throw new RpcscopeError(
          'RPCSCOPE_BAD_ARGUMENT',
          `--json and --format ${o.format} ask for two formats`,
        );
      const format: Format = o.json === true ? 'json' : (o.format ?? formatFromPath(o.output) ?? 'md');
      let last = 0;
      const loaded = await readSpec(files, {
        holdMessages: o.holdMessages,
        ...(o.vhost !== undefined ? { vhosts: o.vhost } : {}),
        onProgress: (input, done, total) => {
          const now = Date.now();
          if (now - last < 1000 && (total <= 0 || done < total)) return;
          last = now;
          // a stream (stdin, a FIFO) has no size to count against
          const part =
            total > 0 ? `${Math.round((100 * done) / total)} %` : `${(done / 1048576).toFixed(1)} MiB read`;
          process.stderr.write(`[spec] ${input}: ${part}\n`);
        },
      });
      // unreadable files and damaged input: reported, the rest used, the exit status says so
      flagSpecInput(loaded, files);
      lateNote('spec', loaded);
      const spec = loaded.spec;
      const text =
        format === 'json'
          ? jsonDocument('spec', spec)
          : format === 'html'
            ? renderSpecHtml(spec)
            : renderSpecMarkdown(spec);
      if (o.output !== undefined) {
        await writeOutput(o.output, text);
        process.stderr.write(
          `[spec] ${spec.summary.operations} operations (${spec.summary.operationKinds} kinds), ${spec.background.length} services with background traffic → ${o.output}\n`,
        );
      } else process.stdout.write(text);
    });
}
