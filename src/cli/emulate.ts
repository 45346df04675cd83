/**
 * `rpcscope emulate scenario.yaml [--computes N] [--duration D] [--amqp URL] [--shard i/N]
 *  [--json] [-o OUT.json] [--html OUT] [--find-limit --objective ...] [--merge A.json B.json ...]`
 */
import { readFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import cliProgress from 'cli-progress';
import { runEmulation } from '../emulate/emulator.ts';
import { findLimit, parseObjectives } from '../emulate/findlimit.ts';
import { mergeResults } from '../emulate/merge.ts';
import { parseShard } from '../emulate/plan.ts';
import { parseScenario } from '../emulate/scenario.ts';
import type { EmulationOptions, EmulationResult } from '../emulate/types.ts';
import { exitStatus, RpcscopeError } from '../errors.ts';
import { renderHtml } from '../render/emulation-html.ts';
import { renderSummary } from '../render/emulation-text.ts';
import { onStopSignal } from '../util/stop.ts';
import { forFlag } from './flags.ts';
import { jsonDocument } from './json.ts';
import { countOption, durationOption, outputOption, rateOption } from './options.ts';
import { writeOutput } from './output.ts';

function readJson(path: string): EmulationResult {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EmulationResult;
  } catch (cause) {
    throw new RpcscopeError('RPCSCOPE_INPUT_FORMAT', 'not an emulation result JSON', {
      cause,
      context: { input: path },
    });
  }
}

interface OutputFlags {
  /** `--json`: the result as JSON on stdout (the summary goes to stderr), or into -o; a string is
   * the old `--json FILE` spelling, still read. */
  readonly json?: string | true;
  readonly output?: string;
  readonly html?: string;
}

/** Where the JSON document goes: -o, the old `--json FILE`, stdout with `--json`, or nowhere. */
function jsonTarget(o: OutputFlags): { file: string } | 'stdout' | undefined {
  if (o.output !== undefined) return { file: o.output };
  if (typeof o.json === 'string') return { file: o.json };
  return o.json === true ? 'stdout' : undefined;
}

/** The text summary (stdout, or stderr when stdout carries the JSON), then the JSON and HTML. */
async function output(kind: 'emulation' | 'find-limit', value: object, text: string, o: OutputFlags) {
  const json = jsonTarget(o);
  (json === 'stdout' ? process.stderr : process.stdout).write(text);
  if (json === 'stdout') process.stdout.write(jsonDocument(kind, value, 1));
  else if (json !== undefined) await writeOutput(json.file, jsonDocument(kind, value, 1));
}

async function outputResult(r: EmulationResult, o: OutputFlags): Promise<void> {
  await output('emulation', r, renderSummary(r), o);
  if (o.html !== undefined) await writeOutput(o.html, renderHtml(r));
}

export function register(program: Command): void {
  program
    .command('emulate')
    .argument('[scenario]', 'scenario YAML (from `rpcscope model` or written by hand)')
    .addOption(countOption('--computes <n>', 'count of the scalable service group (nova-compute)'))
    .addOption(durationOption('--duration <d>', 'steady-state duration after ramp-up').default(60))
    .option(
      '--amqp <url>',
      'broker URL for services without their own (or RPCSCOPE_AMQP_URL; overrides the scenario)',
    )
    .option('--management <url>', 'management API URL (default: broker host, port 15672)')
    .option('--no-management', 'do not sample the broker through the management API')
    .option('--shard <i/N>', 'emulate only shard i of N (1-based); services split deterministically')
    .addOption(
      rateOption(
        '--connect-rate <rate>',
        'new connections during ramp-up: per second, or 200/s, 6000/min',
        's',
      ).default(200),
    )
    .addOption(durationOption('--sample <d>', 'sampling interval').default(5))
    .addOption(countOption('--seed <n>', 'PRNG seed', 0).default(1))
    .option('--no-teardown', 'leave declared queues in place at the end')
    .option(
      '--json [file]',
      'the full result as JSON (schema/emulation.schema.json) on stdout, the summary then on stderr; with -o into that file',
    )
    .addOption(outputOption('write the full result as JSON to this file (the summary stays on stdout)'))
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--find-limit', 'step computes up until --objective breaks; report the largest count that held')
    .option('--objective <spec>', 'for --find-limit: e.g. "p99<1s,timeouts<0.1%"', 'p99<1s,timeouts<0.1%')
    .addOption(countOption('--max-computes <n>', 'for --find-limit: stop stepping here').default(10000))
    .addOption(
      countOption('--step <n>', 'for --find-limit: add this many computes per step (default: double)'),
    )
    .option('--merge <results...>', 'merge shard results (JSON files) instead of running')
    .action(async (scenarioArg, o) => {
      let file = scenarioArg;
      // `emulate --json scenario.yaml`: the optional value took the scenario; it is the scenario
      if (file === undefined && typeof o.json === 'string' && /\.ya?ml$/i.test(o.json)) {
        file = o.json;
        o.json = true;
      }
      if (o.merge !== undefined) {
        const merged = mergeResults(o.merge.map(readJson));
        await outputResult(merged, o);
        return;
      }
      if (file === undefined)
        throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', 'a scenario file is required (or --merge)');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (cause) {
        throw new RpcscopeError('RPCSCOPE_INPUT_NOT_FOUND', 'cannot read the scenario file', {
          cause,
          context: { input: file },
        });
      }
      const scenario = parseScenario(text, file);
      // the environment keeps a password off the command line (a Kubernetes Secret: docs/kubernetes.md)
      const amqpUrl = o.amqp ?? process.env.RPCSCOPE_AMQP_URL;
      const shard = o.shard === undefined ? undefined : parseShard(o.shard);
      if (o.shard !== undefined && shard === undefined)
        throw new RpcscopeError(
          'RPCSCOPE_BAD_ARGUMENT',
          `--shard wants i/N with 1 ≤ i ≤ N, got "${o.shard}"`,
        );
      // first Ctrl-C: stop and tear down; a second one exits 130 (src/util/stop.ts)
      const stop = onStopSignal(() => process.stderr.write('\n[emulate] stopping (signal); tearing down\n'));
      const run = async (computes: number | undefined): Promise<EmulationResult> => {
        const tty = process.stderr.isTTY === true;
        const bar = tty
          ? new cliProgress.SingleBar(
              { format: '[emulate] ramp-up {bar} {value}/{total} services', stream: process.stderr },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
        let barStarted = false;
        let lastLine = 0;
        const opts: EmulationOptions = {
          ...(amqpUrl !== undefined ? { amqpUrl } : {}),
          ...(o.management === false
            ? { managementUrl: null }
            : typeof o.management === 'string'
              ? { managementUrl: o.management }
              : {}),
          durationS: o.duration,
          ...(computes !== undefined ? { computes } : {}),
          ...(shard !== undefined ? { shard } : {}),
          connectRatePerS: o.connectRate,
          sampleIntervalS: o.sample,
          seed: o.seed,
          teardown: o.teardown,
          signal: stop.signal,
          onProgress: (done, total) => {
            if (bar !== undefined) {
              if (!barStarted) {
                bar.start(total, 0);
                barStarted = true;
              }
              bar.update(done);
              if (done === total) bar.stop();
            } else if (Date.now() - lastLine > 2000 || done === total) {
              lastLine = Date.now();
              process.stderr.write(`[emulate] ramp-up ${done}/${total} services\n`);
            }
          },
          onEvent: (e) => {
            if (e.type === 'phase') process.stderr.write(`[emulate] ${e.phase}\n`);
            else if (e.type === 'sample' && e.sample.phase === 'steady')
              process.stderr.write(
                `[emulate] t=${e.sample.t.toFixed(0)}s up=${e.sample.servicesUp} sent/s=${e.sample.sentPerS.toFixed(0)} p99=${e.sample.p99Ms?.toFixed(0) ?? '-'}ms timeouts/s=${e.sample.timeoutsPerS.toFixed(1)} rss=${(e.sample.emulator.rssBytes / 1048576).toFixed(0)}MiB\n`,
              );
          },
        };
        const r = await runEmulation(scenario, opts);
        if (barStarted) bar?.stop();
        return r;
      };
      try {
        if (o.findLimit === true) {
          const objectives = forFlag('--objective', () => parseObjectives(o.objective));
          const limit = await findLimit(
            run,
            objectives,
            {
              start: o.computes ?? 100,
              max: o.maxComputes,
              ...(o.step !== undefined ? { step: o.step } : { factor: 2 }),
            },
            (s) =>
              process.stderr.write(
                `[emulate] ${s.computes} computes: ${s.verdict.held ? 'held' : `broke: ${s.verdict.broken.join('; ')}`}\n`,
              ),
          );
          const lines = [
            `find-limit (${o.objective}):`,
            ...limit.steps.map(
              (s) =>
                `  ${s.computes} computes: ${s.verdict.held ? 'held' : 'BROKE'}  ${Object.entries(
                  s.verdict.figures,
                )
                  .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(3)}`)
                  .join(' ')}`,
            ),
            limit.largestHeld !== undefined
              ? `largest count that held: ${limit.largestHeld}`
              : 'no count held',
            limit.firstBroken !== undefined
              ? `first broken at ${limit.firstBroken.computes}: ${limit.firstBroken.broken.join('; ')}`
              : `did not break up to ${o.maxComputes}`,
          ];
          await output('find-limit', limit, `${lines.join('\n')}\n`, o);
          return;
        }
        const r = await run(o.computes);
        await outputResult(r, o);
        if (stop.signal.aborted) process.exitCode = exitStatus('RPCSCOPE_INTERRUPTED');
        else if (r.stoppedBy === 'broker') process.exitCode = exitStatus('RPCSCOPE_BROKER_UNREACHABLE');
        else if (!r.complete) process.exitCode = exitStatus('RPCSCOPE_RUN_INCOMPLETE');
      } finally {
        stop.dispose();
      }
    });
}
