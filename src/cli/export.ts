/** `rpcscope export --store PATH --parquet OUT`: the watch store as Parquet for other engines. */
import type { Command } from '@commander-js/extra-typings';
import { RpcscopeError } from '../errors.ts';
import { exportParquet } from '../outputs/store.ts';

export function register(program: Command): void {
  program
    .command('export')
    .requiredOption('--store <path>', 'DuckDB file written by `watch --store`')
    .option('--parquet <dir>', 'output directory for the Parquet files')
    .action(async (o) => {
      if (o.parquet === undefined) throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', 'give --parquet DIR');
      const r = await exportParquet(o.store, o.parquet);
      for (const f of r.files) process.stdout.write(`${f}\n`);
      process.stderr.write(`export: ${r.messages} messages, ${r.calls} calls\n`);
    });
}
