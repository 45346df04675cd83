/** `rpcscope chaos <scenario.yaml>`: an emulation with faults on a timeline, every message accounted for. */

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Command, Option } from '@commander-js/extra-typings';
import Table from 'cli-table3';
import { Cluster, type QueueMode } from '../broker/cluster.ts';
import { haTable } from '../chaos/ha.ts';
import { parseChaosScenario } from '../chaos/load.ts';
import { type ChaosResult, runChaos } from '../chaos/run.ts';
import { describeFault, type Fault, parseFaultFlag } from '../chaos/timeline.ts';
import { EXIT, exitStatus, RpcscopeError } from '../errors.ts';
import { onStopSignal } from '../util/stop.ts';
import { forFlag } from './flags.ts';
import { jsonDocument } from './json.ts';
import { countOption, durationOption, hiddenAlias, jsonOption, outputOption } from './options.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command): void {
  program
    .command('chaos')
    .argument('<scenario>', 'scenario YAML (emulate format, optional chaos: section)')
    .option(
      '--fault <spec>',
      "fault, e.g. 'at=20s kill node=2 restart=40s' (repeatable; replaces the YAML faults)",
      collect,
      [] as string[],
    )
    .option(
      '--cluster <dir>',
      'use the cluster started by `rpcscope cluster up --dir DIR` (default: start one, remove it after)',
    )
    .addOption(
      new Option('--queues <mode>', 'queue mode (all = classic, mirrored, quorum in turn)').choices([
        'classic',
        'mirrored',
        'quorum',
        'all',
      ] as const),
    )
    .option('--ha', 'the HA failover experiment: --queues all and a table beside the RabbitMQ 3.5 figures')
    .addOption(durationOption('--duration <d>', 'measured traffic time'))
    .addOption(
      durationOption(
        '--drain <d>',
        'time after the window for in-flight messages (default RPC timeout + 5 s)',
      ),
    )
    .addOption(outputOption('directory for the JSON and HTML report of each run').default('chaos-out'))
    .addOption(hiddenAlias('--out <dir>', '--output'))
    .addOption(durationOption('--net-ticktime <d>', 'net_ticktime of a cluster started here').default(60))
    .addOption(countOption('--seed <n>', 'PRNG seed', 0).default(1))
    .addOption(
      countOption('--computes <n>', 'scale the scalable groups (hypervisors), as emulate --computes'),
    )
    .addOption(jsonOption('the results as JSON on stdout (schema/chaos.schema.json) instead of tables'))
    .action(async (file, { out, output, ...o }) => {
      const outDir = out ?? output;
      const text = await readFile(file, 'utf8').catch((e: unknown) => {
        throw new RpcscopeError('RPCSCOPE_INPUT_NOT_FOUND', `cannot read ${file}`, {
          cause: e,
          context: { input: file },
        });
      });
      const { scenario, chaos: section } = parseChaosScenario(text, file);
      const faults: Fault[] =
        o.fault.length > 0 ? o.fault.map((f) => forFlag('--fault', () => parseFaultFlag(f))) : section.faults;
      const chaos = {
        ...section,
        faults,
        ...(o.duration !== undefined ? { duration: o.duration } : {}),
        ...(o.drain !== undefined ? { drain: o.drain } : {}),
        ...(o.computes !== undefined ? { computes: o.computes } : {}),
      };
      const modes: QueueMode[] =
        o.ha || o.queues === 'all'
          ? ['classic', 'mirrored', 'quorum']
          : [o.queues ?? section.cluster?.queues ?? scenario.oslo.queues.type];
      const log = (l: string) => process.stderr.write(`[chaos] ${l}\n`);
      let cluster: Cluster;
      let own = false;
      if (o.cluster !== undefined && existsSync(path.join(o.cluster, 'cluster.json'))) {
        cluster = await Cluster.open(o.cluster);
      } else {
        const dir = o.cluster ?? (await mkdtemp(path.join(os.tmpdir(), 'rpcscope-chaos-')));
        log(`starting a ${section.cluster?.nodes ?? 3}-node cluster in ${dir}`);
        cluster = await Cluster.up({
          dir,
          nodes: section.cluster?.nodes ?? 3,
          queues: modes[0]!,
          amqpBasePort: 0,
          mgmtBasePort: 0,
          netTicktime: section.cluster?.netTicktime ?? Math.round(o.netTicktime),
          // the reaper removes the cluster even if this process is killed
          ownerPid: process.pid,
          progress: (l) => log(`cluster ${l}`),
        });
        own = true;
      }
      // first Ctrl-C: remove the cluster and exit 130; a second one exits at once (src/util/stop.ts)
      const stop = onStopSignal(() => {
        log('interrupted: removing the cluster');
        void (own ? cluster.down() : Promise.resolve()).finally(() => process.exit(EXIT.interrupted));
      });
      const results: ChaosResult[] = [];
      try {
        for (const q of modes) {
          log(
            `run: ${q} queues; faults: ${chaos.faults.map((f) => `${describeFault(f)} at ${f.at}s${f.for !== undefined ? ` for ${f.for}s` : ''}`).join('; ') || 'none'}`,
          );
          const r = await runChaos({
            cluster,
            scenario,
            chaos,
            queues: q,
            outDir,
            seed: o.seed,
            progress: log,
          });
          results.push(r);
          if (!o.json) printResult(r, outDir);
        }
      } finally {
        stop.dispose();
        if (own) {
          log('removing the cluster');
          await cluster.down();
          if (o.cluster === undefined) await rm(cluster.dir, { recursive: true, force: true });
        }
      }
      if (o.json) process.stdout.write(jsonDocument('chaos', results));
      else if (modes.length > 1 || o.ha) process.stdout.write(`\n${haTable(results)}\n`);
      if (results.some((r) => !r.ledger.closes)) process.exitCode = exitStatus('RPCSCOPE_RUN_INCOMPLETE');
    });
}

function printResult(r: ChaosResult, out: string): void {
  process.stdout.write(
    `\n== ${r.scenario}, ${r.queues} queues: ${r.durationS}s measured + ${r.drainS}s drain, ${r.reconnects} reconnects\n`,
  );
  for (const f of r.faults)
    process.stdout.write(
      `fault ${f.description}: applied t=${f.appliedS?.toFixed(1) ?? '-'}s, undone t=${f.undoneS?.toFixed(1) ?? '-'}s, RPC back to pre-fault level after ${f.recoveryS === undefined ? '(not within the run)' : `${f.recoveryS.toFixed(0)} s`}${f.error ? `, error: ${f.error}` : ''}\n`,
    );
  const t = new Table({
    style: { head: [], border: [] },
    head: [
      'kind',
      'group',
      'sent',
      'confirmed',
      'delivered',
      'dup',
      'expired',
      'lost',
      '(unconfirmed)',
      'timed out',
      'remote err',
    ],
  });
  for (const x of [...r.ledger.rows, r.ledger.total])
    t.push([
      x.group === '*' ? 'total' : x.kind,
      x.group === '*' ? '' : x.group,
      x.sent,
      x.confirmed,
      x.delivered,
      x.duplicated,
      x.expired,
      x.lost,
      x.unconfirmed,
      x.timedOut,
      x.remoteErrors,
    ]);
  process.stdout.write(`${t.toString()}\n`);
  const b = r.broker;
  process.stdout.write(
    `accounting ${r.ledger.closes ? 'closes' : 'DOES NOT CLOSE'}: sent = delivered + expired + lost in every row; ${r.ledger.outsideWindow} messages sent during the drain not classified\n` +
      `broker counters: publish ${b.publish ?? '-'}, confirm ${b.confirm ?? '-'}, deliver ${b.deliver ?? '-'}, redeliver ${b.redeliver ?? '-'}, left ${b.messagesLeft ?? '-'}; emulator: ${r.emulator.published} published, ${r.emulator.confirmed} confirmed, ${r.emulator.deliveries} deliveries\n` +
      `report: ${path.join(out, `chaos-${r.queues}.html`)}\n`,
  );
}
