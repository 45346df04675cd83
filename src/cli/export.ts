/** `rpcscope export --store PATH -o DIR`: the watch store as Parquet for other engines. */
import { stat } from 'node:fs/promises';
import type { Command } from '@commander-js/extra-typings';
import { RpcscopeError } from '../errors.ts';
import { exportParquet } from '../outputs/store.ts';
import { hiddenAlias, outputOption } from './options.ts';

/** The store must exist and be a file: opening a missing path would create an empty store. */
async function existingStore(path: string): Promise<void> {
  const s = await stat(path).catch((cause: unknown) => {
    throw new RpcscopeError(
      'RPCSCOPE_INPUT_NOT_FOUND',
      `no store here: ${cause instanceof Error ? cause.message : String(cause)} (a store is written by watch --store)`,
      { cause, context: { input: path } },
    );
  });
  if (!s.isFile())
    throw new RpcscopeError('RPCSCOPE_INPUT_NOT_FOUND', 'not a store file but a directory or device', {
      context: { input: path },
    });
}

export function register(program: Command): void {
  program
    .command('export')
    .requiredOption('--store <path>', 'DuckDB file written by `watch --store`')
    .addOption(outputOption('output directory for messages.parquet and calls.parquet'))
    .addOption(hiddenAlias('--parquet <dir>', '--output'))
    .action(async (o) => {
      const out = o.output ?? o.parquet;
      if (out === undefined)
        throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', 'give -o DIR for the Parquet files');
      await existingStore(o.store);
      const r = await exportParquet(o.store, out);
      for (const f of r.files) process.stdout.write(`${f}\n`);
      process.stderr.write(`export: ${r.messages} messages, ${r.calls} calls\n`);
    });
}
