/** `rpcscope cluster up|status|down`: a local RabbitMQ cluster of rpcscope's own for chaos runs. */
import { type Command, Option } from '@commander-js/extra-typings';
import Table from 'cli-table3';
import { Cluster, QUEUE_MODES } from '../broker/cluster.ts';
import { jsonDocument } from './json.ts';
import { countOption, durationOption, jsonOption } from './options.ts';

const DEFAULT_DIR = '/tmp/rpcscope-cluster';

export function register(program: Command): void {
  const cluster = program.command('cluster');

  cluster
    .command('up')
    .description('start an N-node cluster on 127.0.0.1 (AMQP 5701.., management 15701..)')
    .addOption(countOption('--nodes <n>', 'number of nodes').default(3))
    .addOption(new Option('--queues <mode>', 'queue mode').choices(QUEUE_MODES).default('classic' as const))
    .option('--dir <dir>', 'working folder (data, logs, cookie, state)', DEFAULT_DIR)
    .addOption(countOption('--amqp-port <port>', 'first AMQP port (0 = any free)', 0).default(5701))
    .addOption(countOption('--mgmt-port <port>', 'first management port (0 = any free)', 0).default(15701))
    .addOption(
      new Option('--partition-handling <mode>', 'cluster_partition_handling')
        .choices(['ignore', 'pause_minority', 'autoheal'] as const)
        .default('pause_minority' as const),
    )
    .addOption(
      durationOption(
        '--net-ticktime <d>',
        'Erlang net_ticktime (how long until a silent peer is down)',
      ).default(60),
    )
    .action(async (o) => {
      const c = await Cluster.up({
        dir: o.dir,
        nodes: o.nodes,
        queues: o.queues,
        amqpBasePort: o.amqpPort,
        mgmtBasePort: o.mgmtPort,
        partitionHandling: o.partitionHandling,
        netTicktime: Math.round(o.netTicktime),
        progress: (l) => process.stderr.write(`[cluster] ${l}\n`),
      });
      printStatus(await c.status());
      process.stdout.write(
        `up in ${c.state.upSeconds.toFixed(1)} s; AMQP URL ${c.amqpUrl(1).replace(':guest@', ':***@')}\n`,
      );
    });

  cluster
    .command('status')
    .description('show nodes, partitions and alarms')
    .option('--dir <dir>', 'working folder', DEFAULT_DIR)
    .addOption(jsonOption('the status as JSON on stdout (schema/cluster-status.schema.json)'))
    .action(async (o) => {
      const s = await (await Cluster.open(o.dir)).status();
      if (o.json) process.stdout.write(jsonDocument('cluster-status', s));
      else printStatus(s);
    });

  cluster
    .command('down')
    .description('stop every node and remove namespaces, data and state')
    .option('--dir <dir>', 'working folder', DEFAULT_DIR)
    .action(async (o) => {
      const c = await Cluster.open(o.dir);
      await c.down();
      process.stdout.write(`cluster in ${o.dir} removed\n`);
    });
}

function printStatus(s: Awaited<ReturnType<Cluster['status']>>): void {
  const t = new Table({
    style: { head: [], border: [] },
    head: ['node', 'pid', 'running', 'AMQP', 'management'],
  });
  for (const n of s.nodes) t.push([n.name, n.pid ?? '-', n.running ? 'yes' : 'no', n.amqp, n.management]);
  process.stdout.write(`${t.toString()}\n`);
  process.stdout.write(`queues: ${s.queues}; running (cluster view): ${s.runningNodes.join(', ') || '-'}\n`);
  const parts = Object.entries(s.partitions);
  if (parts.length > 0)
    process.stdout.write(`partitions: ${parts.map(([k, v]) => `${k} sees ${v.join(',')}`).join('; ')}\n`);
  if (s.alarms.length > 0) process.stdout.write(`alarms: ${s.alarms.join('; ')}\n`);
}
