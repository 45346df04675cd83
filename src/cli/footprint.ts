/** `rpcscope footprint META.json... [--json]`: broker footprint per process from management snapshots. */
import { readFile } from 'node:fs/promises';
import type { Command } from '@commander-js/extra-typings';
import { footprintOf, type ProcessFootprint, type SnapshotVhost } from '../analyse/footprint.ts';
import { RpcscopeError } from '../errors.ts';
import { jsonDocument } from './json.ts';
import { jsonOption } from './options.ts';

export interface FootprintEntry extends ProcessFootprint {
  /** The snapshot file the process was read from. */
  readonly input: string;
}

/** `footprint --json` (schema/footprint.schema.json): every process of every snapshot given. */
export interface FootprintDocument {
  readonly processes: FootprintEntry[];
}

export function register(program: Command): void {
  program
    .command('footprint')
    .argument(
      '<files...>',
      "management snapshots: the rig's NAME.meta.json (snapshot_end) or {vhost: {connections, channels, queues, bindings}}",
    )
    .addOption(jsonOption('the footprint as JSON (schema/footprint.schema.json)'))
    .action(async (files, o) => {
      const rows: FootprintEntry[] = [];
      for (const f of files) {
        let doc: unknown;
        try {
          doc = JSON.parse(await readFile(f, 'utf8'));
        } catch (e) {
          throw new RpcscopeError(
            'RPCSCOPE_INPUT_FORMAT',
            `${f}: not a JSON management snapshot (${String(e)})`,
          );
        }
        const d = doc as { snapshot_end?: Record<string, SnapshotVhost> } & Record<string, SnapshotVhost>;
        rows.push(...footprintOf(d.snapshot_end ?? d).map((r) => ({ input: f, ...r })));
      }
      if (o.json === true) {
        const doc: FootprintDocument = { processes: rows };
        process.stdout.write(jsonDocument('footprint', doc));
        return;
      }
      const L = [
        '| vhost | process | connections | channels | queues (topic / topic.host / fanout / reply) | bindings | exchanges |',
        '|---|---|---:|---:|---|---:|---:|',
      ];
      for (const r of rows)
        L.push(
          `| ${r.vhost} | ${r.service}${r.pid !== undefined ? `:${r.pid}` : ''} | ${r.connections} | ${r.channels} | ${r.queues.total} (${r.queues.topic} / ${r.queues.topicHost} / ${r.queues.fanout} / ${r.queues.reply}) | ${r.bindings} | ${r.exchanges} |`,
        );
      process.stdout.write(`${L.join('\n')}\n`);
    });
}
