/**
 * `rpcscope emulate scenario.yaml [--computes N] [--duration D] [--amqp URL] [--shard i/N]
 *  [--json OUT] [--html OUT] [--find-limit --objective ...] [--merge A.json B.json ...]`
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
import { writeOutput } from './output.ts';

/** "90", "90s", "5m", "1h" → seconds. */
export function parseDuration(v: string): number {
  const m = /^([0-9.]+)\s*(s|m|h)?$/.exec(v.trim());
  if (m === null)
    throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `duration "${v}" not understood; use 90, 90s, 5m or 1h`);
  return Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
}

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

async function output(r: EmulationResult, o: { json?: string; html?: string }): Promise<void> {
  process.stdout.write(renderSummary(r));
  if (o.json !== undefined) await writeOutput(o.json, `${JSON.stringify(r, null, 1)}\n`);
  if (o.html !== undefined) await writeOutput(o.html, renderHtml(r));
}

export function register(program: Command): void {
  program
    .command('emulate')
    .argument('[scenario]', 'scenario YAML (from `rpcscope model` or written by hand)')
    .option('--computes <n>', 'count of the scalable service group (nova-compute)', (v) =>
      Number.parseInt(v, 10),
    )
    .option('--duration <d>', 'steady-state duration after ramp-up: 90, 90s, 5m', parseDuration, 60)
    .option('--amqp <url>', 'broker URL for services without their own (overrides the scenario)')
    .option('--management <url>', 'management API URL (default: broker host, port 15672)')
    .option('--no-management', 'do not sample the broker through the management API')
    .option('--shard <i/N>', 'emulate only shard i of N (1-based); services split deterministically')
    .option('--connect-rate <perS>', 'new connections per second during ramp-up', (v) => Number(v), 200)
    .option('--sample <s>', 'sampling interval in seconds', (v) => Number(v), 5)
    .option('--seed <n>', 'PRNG seed', (v) => Number.parseInt(v, 10), 1)
    .option('--no-teardown', 'leave declared queues in place at the end')
    .option('--json <out>', 'write the full result as JSON')
    .option('--html <out>', 'write a self-contained HTML report')
    .option('--find-limit', 'step computes up until --objective breaks; report the largest count that held')
    .option('--objective <spec>', 'for --find-limit: e.g. "p99<1s,timeouts<0.1%"', 'p99<1s,timeouts<0.1%')
    .option(
      '--max-computes <n>',
      'for --find-limit: stop stepping here',
      (v) => Number.parseInt(v, 10),
      10000,
    )
    .option('--step <n>', 'for --find-limit: add this many computes per step (default: double)', (v) =>
      Number.parseInt(v, 10),
    )
    .option('--merge <results...>', 'merge shard results (JSON files) instead of running')
    .action(async (file, o) => {
      if (o.merge !== undefined) {
        const merged = mergeResults(o.merge.map(readJson));
        await output(merged, o);
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
          ...(o.amqp !== undefined ? { amqpUrl: o.amqp } : {}),
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
          process.stdout.write(`${lines.join('\n')}\n`);
          if (o.json !== undefined) await writeOutput(o.json, `${JSON.stringify(limit, null, 1)}\n`);
          return;
        }
        const r = await run(o.computes);
        await output(r, o);
        if (stop.signal.aborted) process.exitCode = exitStatus('RPCSCOPE_INTERRUPTED');
        else if (r.stoppedBy === 'broker') process.exitCode = exitStatus('RPCSCOPE_BROKER_UNREACHABLE');
        else if (!r.complete) process.exitCode = exitStatus('RPCSCOPE_RUN_INCOMPLETE');
      } finally {
        stop.dispose();
      }
    });
}
