/** `rpcscope model CAPTURE... -o scenario.yaml [--computes N] [--rate op=per-minute]`: a scenario from real captures. */
import type { Command } from '@commander-js/extra-typings';
import { stringify } from 'yaml';
import { buildSpec } from '../analyse/spec.ts';
import { loadSpecInput } from '../analyse/spec-load.ts';
import { specResolver } from '../correlate/spec-services.ts';
import { modelFromSpec, wireFacts } from '../emulate/model.ts';
import { parseScenario } from '../emulate/scenario.ts';
import { RpcscopeError } from '../errors.ts';
import { writeOutput } from './output.ts';

function parseRate(v: string, prev: Record<string, number>): Record<string, number> {
  const m = /^(.+)=([0-9.]+)$/.exec(v);
  if (m === null || Number.isNaN(Number(m[2])))
    throw new RpcscopeError(
      'RPCSCOPE_BAD_ARGUMENT',
      `--rate wants NAME=PER_MINUTE, e.g. "server create=2", got "${v}"`,
    );
  return { ...prev, [m[1]!.trim()]: Number(m[2]) };
}

export function register(program: Command): void {
  program
    .command('model')
    .argument('<files...>', 'captures: pcap/pcapng, rabbitmq_tracing JSON log, firehose JSONL')
    .option('-o, --output <path>', 'scenario file to write (default stdout)')
    .option('--computes <n>', 'number of nova-computes in the scenario', (v) => Number.parseInt(v, 10))
    .option(
      '--rate <name=perMinute>',
      'operation rate per minute, by name or alias (repeatable), e.g. "server create=2"',
      parseRate,
      {},
    )
    .option('--default-rate <perMinute>', 'rate of operations without --rate', (v) => Number(v), 1)
    .option(
      '--speedup <factor>',
      'divide every period and operation interval by this factor',
      (v) => Number(v),
      1,
    )
    .option('--amqp <url>', 'broker URL written into the scenario')
    .option('--name <name>', 'scenario name')
    .action(async (files, o) => {
      // one load per file, as `rpcscope spec` does: the model is the spec of these files
      const loaded = await loadSpecInput(files);
      if (loaded.messages.length === 0)
        throw new RpcscopeError('RPCSCOPE_INPUT_FORMAT', 'no AMQP messages found in the input', {
          context: { input: files.join(', ') },
        });
      const spec = buildSpec(loaded, { resolve: specResolver(loaded) });
      const scenario = modelFromSpec(spec, {
        ...wireFacts(loaded.messages),
        ...(o.computes !== undefined ? { computes: o.computes } : {}),
        rates: o.rate,
        defaultRatePerMinute: o.defaultRate,
        speedup: o.speedup,
        ...(o.amqp !== undefined ? { brokerUrl: o.amqp } : {}),
        ...(o.name !== undefined ? { name: o.name } : {}),
      });
      const text = `# yaml-language-server: $schema=../schema/scenario.schema.json\n${stringify(scenario, { lineWidth: 0 })}`;
      parseScenario(text, o.output ?? 'scenario.yaml'); // what we write must load
      if (o.output === undefined) process.stdout.write(text);
      else {
        await writeOutput(o.output, text);
        const n = scenario.services.reduce((a, s) => a + (s.count ?? 1), 0);
        process.stderr.write(
          `[model] ${scenario.services.length} service groups (${n} services), ${scenario.operations?.length ?? 0} operations → ${o.output}\n`,
        );
      }
    });
}
