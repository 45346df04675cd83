/**
 * A local RabbitMQ cluster of rpcscope's own, for chaos experiments: Debian's rabbitmq-server,
 * N nodes with their own names, Erlang cookie, data and log directories under one working folder,
 * each node in its own network namespace (see cluster/netns.ts) so that epmd, distribution and
 * listener ports never meet the machine's main broker (rabbit@localhost, 5672) or its epmd.
 * Clients reach node i on 127.0.0.1:5700+i (AMQP) and 127.0.0.1:15700+i (management).
 *
 * State lives in <dir>/cluster.json; every command (status, down, faults) starts from it, so a
 * cluster left by a crashed run can always be found and removed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RpcscopeError } from '../errors.ts';
import { onStopSignal } from '../util/stop.ts';
import { exec } from './cluster/exec.ts';
import {
  advancedConfig,
  type ClusterOptions,
  hubNetns,
  layoutNodes,
  MIRRORED_POLICY,
  type NodeLayout,
  nodeEnv,
  type PartitionHandling,
  type QueueMode,
  rabbitmqConf,
} from './cluster/layout.ts';
import { createNetwork, destroyNetwork, healNetwork, netnsPids, partitionNetwork } from './cluster/netns.ts';

export type { ClusterOptions, NodeLayout, PartitionHandling, QueueMode } from './cluster/layout.ts';
export { QUEUE_MODES } from './cluster/layout.ts';

const RABBIT_BIN = '/usr/lib/rabbitmq/bin';
const STATE_FILE = 'cluster.json';

export interface PublishedNode extends NodeLayout {
  /** Port on 127.0.0.1 of the root namespace for AMQP / management. */
  readonly publicAmqpPort: number;
  readonly publicMgmtPort: number;
}

export interface ClusterState {
  readonly version: 1;
  readonly tag: string;
  readonly dir: string;
  readonly queues: QueueMode;
  readonly partitionHandling: PartitionHandling;
  readonly netTicktime: number;
  readonly nodes: readonly PublishedNode[];
  readonly createdAt: string;
  /** Wall time of `up` in seconds. */
  readonly upSeconds: number;
  /** Process whose death tears the cluster down (a chaos run), when set. */
  readonly ownerPid?: number;
  readonly reaperPid?: number;
}

export interface UpOptions extends Partial<Omit<ClusterOptions, 'dir' | 'tag'>> {
  readonly dir: string;
  /** Tear the cluster down when this process dies (kill -9 included). */
  readonly ownerPid?: number;
  readonly progress?: (line: string) => void;
}

export interface NodeStatus {
  readonly index: number;
  readonly name: string;
  readonly pid?: number;
  readonly running: boolean;
  readonly amqp: string;
  readonly management: string;
}

export interface ClusterStatus {
  readonly dir: string;
  readonly queues: QueueMode;
  readonly nodes: readonly NodeStatus[];
  /** As seen by the first running node (rabbitmqctl cluster_status). */
  readonly runningNodes: readonly string[];
  readonly partitions: Readonly<Record<string, readonly string[]>>;
  readonly alarms: readonly string[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer({ pauseOnConnect: true });
    s.once('error', (e) =>
      reject(
        new RpcscopeError(
          'RPCSCOPE_CLUSTER',
          `cannot listen on 127.0.0.1:${port}: ${e.message}; pick other ports`,
          {
            cause: e,
          },
        ),
      ),
    );
    s.listen({ host: '127.0.0.1', port }, () => resolve(s));
  });
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class Cluster {
  readonly state: ClusterState;

  private constructor(state: ClusterState) {
    this.state = state;
  }

  get dir(): string {
    return this.state.dir;
  }

  get nodes(): readonly PublishedNode[] {
    return this.state.nodes;
  }

  node(index: number): PublishedNode {
    const n = this.state.nodes.find((x) => x.index === index);
    if (!n)
      throw new RpcscopeError(
        'RPCSCOPE_BAD_ARGUMENT',
        `no node ${index}; the cluster has ${this.nodes.length} nodes`,
      );
    return n;
  }

  amqpUrl(index: number, vhost = '/'): string {
    return `amqp://guest:guest@127.0.0.1:${this.node(index).publicAmqpPort}/${encodeURIComponent(vhost)}`;
  }

  mgmtUrl(index: number): string {
    return `http://127.0.0.1:${this.node(index).publicMgmtPort}`;
  }

  /** Opens the cluster recorded in dir/cluster.json. */
  static async open(dir: string): Promise<Cluster> {
    const file = path.join(dir, STATE_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new RpcscopeError('RPCSCOPE_INPUT_NOT_FOUND', `no cluster in ${dir} (start one there first)`, {
        cause: e,
        context: { input: file },
      });
    }
    return new Cluster(JSON.parse(text) as ClusterState);
  }

  /** Starts a fresh cluster in dir. On any failure everything created so far is removed. */
  static async up(o: UpOptions): Promise<Cluster> {
    const t0 = Date.now();
    const report = o.progress ?? (() => {});
    const say = (l: string) => report(`+${((Date.now() - t0) / 1000).toFixed(1)}s ${l}`);
    const dir = path.resolve(o.dir);
    if (existsSync(path.join(dir, STATE_FILE)))
      throw new RpcscopeError('RPCSCOPE_CLUSTER', `a cluster is already recorded in ${dir}; remove it first`);
    const opts: ClusterOptions = {
      dir,
      nodes: o.nodes ?? 3,
      queues: o.queues ?? 'classic',
      amqpBasePort: o.amqpBasePort ?? 5701,
      mgmtBasePort: o.mgmtBasePort ?? 15701,
      partitionHandling: o.partitionHandling ?? 'pause_minority',
      netTicktime: o.netTicktime ?? 60,
      tag: randomBytes(3).toString('hex'),
    };
    if (opts.nodes < 1 || opts.nodes > 9)
      throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `a cluster has 1 to 9 nodes, not ${opts.nodes}`);
    const layout = layoutNodes(opts);
    await mkdir(dir, { recursive: true });
    // a private cookie: only this cluster's nodes and rabbitmqctl (HOME=dir) know it
    const cookie = path.join(dir, '.erlang.cookie');
    await rm(cookie, { force: true });
    await writeFile(cookie, randomBytes(16).toString('hex').toUpperCase());
    await chmod(cookie, 0o400);
    const servers: net.Server[] = [];
    const partial: ClusterState = {
      version: 1,
      tag: opts.tag,
      dir,
      queues: opts.queues,
      partitionHandling: opts.partitionHandling,
      netTicktime: opts.netTicktime,
      nodes: layout.map((n) => ({ ...n, publicAmqpPort: 0, publicMgmtPort: 0 })),
      createdAt: new Date().toISOString(),
      upSeconds: 0,
      ...(o.ownerPid !== undefined ? { ownerPid: o.ownerPid, reaperPid: startReaper(dir, o.ownerPid) } : {}),
    };
    // written first so that `cluster down` can clean up even an interrupted `up`
    await writeFile(path.join(dir, STATE_FILE), JSON.stringify(partial, null, 2));
    // first Ctrl-C: remove the partial cluster and exit 130; a second exits at once
    const stop = onStopSignal(() => {
      say('interrupted: removing the partial cluster');
      void destroy(partial).finally(() => process.exit(130));
    });
    try {
      say(`network namespaces ${layout.map((n) => n.netns).join(', ')} + ${hubNetns(opts.tag)}`);
      await createNetwork(opts.tag, layout);
      for (const n of layout) {
        await mkdir(path.join(n.baseDir, 'log'), { recursive: true });
        await writeFile(path.join(n.baseDir, 'rabbitmq.conf'), rabbitmqConf(n, opts, layout[0]));
        await writeFile(path.join(n.baseDir, 'advanced.config'), advancedConfig(opts));
        await writeFile(path.join(n.baseDir, 'enabled_plugins'), '[rabbitmq_management].\n');
        await writeFile(
          path.join(n.baseDir, 'rabbitmq-env.conf'),
          '# all settings come from the environment\n',
        );
      }
      const first = layout[0]!;
      say(`starting seed node ${first.name}`);
      await startNode(partial, first);
      say(`starting ${layout.length - 1} more nodes; they join ${first.name} on boot`);
      await Promise.all(layout.slice(1).map((n) => startNode(partial, n)));
      for (const n of layout.slice(1)) {
        const st = await ctl(partial, n, ['cluster_status', '--formatter', 'json']);
        const running = (JSON.parse(st.stdout) as { running_nodes?: string[] }).running_nodes ?? [];
        if (running.includes(first.name)) continue;
        // peer discovery gave up (seed busy): join explicitly
        say(`${n.name} joins ${first.name}`);
        await ctl(partial, n, ['stop_app']);
        await ctl(partial, n, ['join_cluster', first.name]);
        await ctl(partial, n, ['start_app']);
      }
      say('publishing ports on 127.0.0.1');
      const published: PublishedNode[] = [];
      for (const n of layout) {
        const amqp = await listen(opts.amqpBasePort === 0 ? 0 : opts.amqpBasePort + n.index - 1);
        servers.push(amqp);
        const mgmt = await listen(opts.mgmtBasePort === 0 ? 0 : opts.mgmtBasePort + n.index - 1);
        servers.push(mgmt);
        published.push({
          ...n,
          publicAmqpPort: (amqp.address() as net.AddressInfo).port,
          publicMgmtPort: (mgmt.address() as net.AddressInfo).port,
        });
      }
      // one forwarder per node, started together (each is a Node.js start-up of about 2 s)
      await Promise.all(
        layout.map((n, k) =>
          startForwarder(n, [
            [servers[2 * k]!, n.amqpPort],
            [servers[2 * k + 1]!, n.mgmtPort],
          ]),
        ),
      );
      for (const s of servers) s.close();
      let state: ClusterState = { ...partial, nodes: published };
      await prepareVhost(state, '/');
      state = { ...state, upSeconds: (Date.now() - t0) / 1000 };
      await writeFile(path.join(dir, STATE_FILE), JSON.stringify(state, null, 2));
      say(`cluster up in ${state.upSeconds.toFixed(1)} s`);
      return new Cluster(state);
    } catch (e) {
      for (const s of servers) s.close();
      await destroy(partial);
      throw e;
    } finally {
      stop.dispose();
    }
  }

  /** Stops every node, removes namespaces and the state file. Idempotent. */
  async down(): Promise<void> {
    await destroy(this.state);
  }

  /** rabbitmqctl against node `index`, run inside its namespace. */
  ctl(index: number, args: readonly string[], timeoutMs = 60_000): Promise<string> {
    return ctl(this.state, this.node(index), args, timeoutMs).then((r) => r.stdout);
  }

  /** Declares a vhost with guest permissions and the queue policy of the cluster's mode. */
  prepareVhost(vhost: string): Promise<void> {
    return prepareVhost(this.state, vhost);
  }

  async deleteVhost(vhost: string): Promise<void> {
    const n = await this.firstRunning();
    if (n) await ctl(this.state, n, ['delete_vhost', vhost], 60_000, true);
  }

  nodePid(index: number): Promise<number | undefined> {
    return nodePid(this.node(index));
  }

  async isRunning(index: number): Promise<boolean> {
    return alive(await this.nodePid(index));
  }

  /** Graceful stop (`rabbitmqctl shutdown`: the node closes connections and stops). */
  async stopNode(index: number): Promise<void> {
    await ctl(this.state, this.node(index), ['shutdown'], 120_000, true);
  }

  /** kill -9 of the node's Erlang VM: no goodbye to peers or clients. */
  async killNode(index: number): Promise<void> {
    const pid = await this.nodePid(index);
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  }

  /** (Re)starts a stopped or killed node; it rejoins the cluster from its own data directory. */
  async startNode(index: number): Promise<void> {
    await startNode(this.state, this.node(index));
  }

  /** Lowers (or restores) vm_memory_high_watermark: below current use it raises the memory alarm. */
  async setMemoryWatermark(index: number, fraction: number): Promise<void> {
    await ctl(this.state, this.node(index), ['set_vm_memory_high_watermark', String(fraction)]);
  }

  /** Cuts the cluster network into the given groups of node indexes. */
  partition(groups: readonly (readonly number[])[]): Promise<void> {
    return partitionNetwork(this.state.tag, this.nodes, groups);
  }

  heal(): Promise<void> {
    return healNetwork(this.state.tag, this.nodes);
  }

  private async firstRunning(): Promise<PublishedNode | undefined> {
    for (const n of this.nodes) if (alive(await nodePid(n))) return n;
    return undefined;
  }

  async status(): Promise<ClusterStatus> {
    const nodes: NodeStatus[] = [];
    for (const n of this.nodes) {
      const pid = await nodePid(n);
      nodes.push({
        index: n.index,
        name: n.name,
        ...(pid !== undefined ? { pid } : {}),
        running: alive(pid),
        amqp: `127.0.0.1:${n.publicAmqpPort}`,
        management: `http://127.0.0.1:${n.publicMgmtPort}`,
      });
    }
    let runningNodes: string[] = [];
    let partitions: Record<string, string[]> = {};
    let alarms: string[] = [];
    const first = await this.firstRunning();
    if (first) {
      const r = await ctl(this.state, first, ['cluster_status', '--formatter', 'json'], 30_000, true);
      if (r.code === 0) {
        const j = JSON.parse(r.stdout) as {
          running_nodes?: string[];
          partitions?: Record<string, string[]>;
          alarms?: { node?: string; type?: string; resource?: string }[];
        };
        runningNodes = j.running_nodes ?? [];
        partitions = j.partitions ?? {};
        alarms = (j.alarms ?? []).map((a) => `${a.node ?? '?'}: ${a.type ?? ''} ${a.resource ?? ''}`.trim());
      }
    }
    return { dir: this.dir, queues: this.state.queues, nodes, runningNodes, partitions, alarms };
  }
}

function ctlEnv(s: ClusterState, n: NodeLayout): NodeJS.ProcessEnv {
  return nodeEnv(n, s.dir, process.env);
}

function ctl(
  s: ClusterState,
  n: NodeLayout,
  args: readonly string[],
  timeoutMs = 60_000,
  allowFail = false,
): ReturnType<typeof exec> {
  return exec('ip', ['netns', 'exec', n.netns, `${RABBIT_BIN}/rabbitmqctl`, '-n', n.name, ...args], {
    env: ctlEnv(s, n),
    timeoutMs,
    allowFail,
  });
}

async function nodePid(n: NodeLayout): Promise<number | undefined> {
  try {
    const p = Number.parseInt(await readFile(path.join(n.baseDir, 'rabbitmq.pid'), 'utf8'), 10);
    return Number.isInteger(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

async function startNode(s: ClusterState, n: NodeLayout): Promise<void> {
  const pidFile = path.join(n.baseDir, 'rabbitmq.pid');
  await rm(pidFile, { force: true });
  const log = openSync(path.join(n.baseDir, 'log', 'start.log'), 'a');
  try {
    // -detached: the script forks the Erlang VM and returns; stdio goes to a file, not to pipes
    // the daemon would hold open
    const child = spawn('ip', ['netns', 'exec', n.netns, `${RABBIT_BIN}/rabbitmq-server`, '-detached'], {
      env: ctlEnv(s, n),
      stdio: ['ignore', log, log],
    });
    const rc = await new Promise<number>((resolve) => {
      child.on('exit', (code) => resolve(code ?? 1));
      child.on('error', () => resolve(127));
    });
    if (rc !== 0)
      throw new RpcscopeError(
        'RPCSCOPE_CLUSTER',
        `rabbitmq-server -detached for ${n.name} exited ${rc}; see ${n.baseDir}/log`,
      );
  } finally {
    closeSync(log);
  }
  const r = await ctl(s, n, ['wait', pidFile, '--timeout', '180'], 200_000, true);
  if (r.code !== 0)
    throw new RpcscopeError(
      'RPCSCOPE_CLUSTER',
      `${n.name} did not start: ${(r.stderr || r.stdout).trim().slice(-400)}; see ${n.baseDir}/log`,
    );
}

/**
 * Node's arguments to run a worker script beside this module: the .ts source through tsx in a
 * checkout, the compiled .js as it is in the installed package (no TypeScript loader there).
 */
function workerArgs(name: 'forwarder' | 'reaper'): string[] {
  const compiled = import.meta.url.endsWith('.js');
  const file = fileURLToPath(new URL(`./cluster/${name}.${compiled ? 'js' : 'ts'}`, import.meta.url));
  return compiled ? [file] : ['--import', import.meta.resolve('tsx'), file];
}

/** Starts the node's forwarder inside its namespace and hands it the root-namespace listeners. */
async function startForwarder(
  n: NodeLayout,
  pairs: readonly (readonly [net.Server, number])[],
): Promise<void> {
  const log = openSync(path.join(n.baseDir, 'log', 'forwarder.log'), 'a');
  let child: ChildProcess;
  try {
    child = spawn('ip', ['netns', 'exec', n.netns, process.execPath, ...workerArgs('forwarder')], {
      stdio: ['ignore', log, log, 'ipc'],
      detached: true,
    });
  } finally {
    closeSync(log);
  }
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: { kind?: string }) => {
      if (m.kind === 'ready') resolve();
    });
    child.on('exit', (code) =>
      reject(
        new RpcscopeError('RPCSCOPE_CLUSTER', `forwarder of ${n.name} exited ${code}; see ${n.baseDir}/log`),
      ),
    );
  });
  for (const [server, target] of pairs) child.send({ kind: 'listen', target }, server);
  child.send({ kind: 'done' });
  await ready;
  child.removeAllListeners();
  child.disconnect();
  child.unref();
}

function startReaper(dir: string, ownerPid: number): number {
  const child = spawn(process.execPath, [...workerArgs('reaper'), dir, String(ownerPid)], {
    stdio: 'ignore',
    detached: true,
  });
  child.unref();
  return child.pid ?? 0;
}

async function prepareVhost(s: ClusterState, vhost: string): Promise<void> {
  const n = s.nodes[0]!;
  if (vhost !== '/') {
    const args = ['add_vhost', vhost];
    await ctl(s, n, args, 60_000, true);
    await ctl(s, n, ['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*']);
  }
  if (s.queues === 'mirrored') {
    // classic mirrored queues: every queue (oslo's topic, fanout and reply queues) on all nodes
    await ctl(s, n, [
      'set_policy',
      '-p',
      vhost,
      '--apply-to',
      'queues',
      'ha-all',
      '^(?!amq\\.).*',
      JSON.stringify(MIRRORED_POLICY),
    ]);
  }
}

/** Removes everything a cluster state names; never touches anything else. */
export async function destroy(s: ClusterState): Promise<void> {
  if (s.reaperPid !== undefined && s.reaperPid !== process.pid && alive(s.reaperPid)) {
    try {
      process.kill(s.reaperPid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await destroyNetwork(s.tag, s.nodes);
  await rm(path.join(s.dir, STATE_FILE), { force: true });
  await rm(path.join(s.dir, '.erlang.cookie'), { force: true });
  for (const n of s.nodes) await rm(n.baseDir, { recursive: true, force: true });
}

/** Processes still alive in the cluster's namespaces (tests assert this is empty after down). */
export async function leftovers(s: ClusterState): Promise<number[]> {
  const pids: number[] = [];
  for (const ns of [...s.nodes.map((n) => n.netns), hubNetns(s.tag)]) pids.push(...(await netnsPids(ns)));
  return pids;
}
