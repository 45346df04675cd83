/** `rpcscope model CAPTURE... -o scenario.yaml [--computes N] [--rate op=RATE]`: a scenario from real captures. */
import type { Command } from '@commander-js/extra-typings';
import { stringify } from 'yaml';
import { HOLD_MESSAGES, readSpec } from '../analyse/spec-stream.ts';
import { modelFromSpec } from '../emulate/model.ts';
import { parseScenario } from '../emulate/scenario.ts';
import { RpcscopeError } from '../errors.ts';
import { boundHeapGrowth } from '../util/heap.ts';
import { parseRatePerS } from '../util/units.ts';
import { flagSpecInput, lateNote } from './damage.ts';
import { forFlag } from './flags.ts';
import { countOption, holdOption, numberOption, outputOption, rateOption, vhostOption } from './options.ts';
import { writeOutput } from './output.ts';

/** `--rate NAME=RATE`: a plain number is per minute, `2/min`, `1/h`, `0.1/s` also read. */
function parseRate(v: string, prev: Record<string, number>): Record<string, number> {
  const m = /^(.+)=([^=]+)$/.exec(v);
  if (m === null)
    throw new RpcscopeError(
      'RPCSCOPE_BAD_ARGUMENT',
      `--rate wants NAME=PER_MINUTE, e.g. "server create=2" or "server create=1/h", got "${v}"`,
    );
  const perMinute = forFlag('--rate', () => parseRatePerS(m[2]!, 'min')) * 60;
  return { ...prev, [m[1]!.trim()]: perMinute };
}

export function register(program: Command): void {
  program
    .command('model')
    .argument('<files...>', 'captures: pcap/pcapng, rabbitmq_tracing JSON log, firehose JSONL')
    .addOption(outputOption('scenario file to write (default stdout)'))
    .addOption(vhostOption())
    .addOption(holdOption(HOLD_MESSAGES))
    .addOption(countOption('--computes <n>', 'number of nova-computes in the scenario'))
    .option(
      '--rate <name=rate>',
      'operation rate by name or alias (repeatable), per minute unless a unit says (2/min, 1/h), e.g. "server create=2"',
      parseRate,
      {},
    )
    .addOption(
      rateOption(
        '--default-rate <rate>',
        'rate of operations without --rate: per minute, or 2/min, 1/h',
        'min',
      ).default(1 / 60, '1 (per minute)'),
    )
    .addOption(
      numberOption('--speedup <factor>', 'divide every period and operation interval by this factor').default(
        1,
      ),
    )
    .option('--amqp <url>', 'broker URL written into the scenario')
    .option('--name <name>', 'scenario name')
    .action(async (files, o) => {
      // the whole capture's compact records are held: keep RSS near them (issue 11)
      boundHeapGrowth();
      // one load per file, as `rpcscope spec` does: the model is the spec of these files
      const loaded = await readSpec(files, {
        holdMessages: o.holdMessages,
        ...(o.vhost !== undefined ? { vhosts: o.vhost } : {}),
      });
      // unreadable files and damaged input: reported, the rest used, the exit status says so
      flagSpecInput(loaded, files);
      lateNote('model', loaded);
      const scenario = modelFromSpec(loaded.spec, {
        ...loaded.wire,
        ...(o.computes !== undefined ? { computes: o.computes } : {}),
        rates: o.rate,
        defaultRatePerMinute: o.defaultRate * 60,
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
