/**
 * The broker of the emulate and neutron benchmarks: RPCSCOPE_BENCH_AMQP (+ RPCSCOPE_BENCH_MGMT) if
 * set, otherwise a dedicated RabbitMQ node started here on free ports with `ulimit -n 20000` (the
 * machine's shared node has 1,024 fds = 832 sockets, and thousands of connections would disturb
 * its other users), stopped and its data directory removed at the end. Also what the benchmarks
 * read from the node besides the management API: `rabbitmqctl status`, its log, CPU and RSS.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { ManagementClient, type Node } from '../src/broker/management.ts';

/** The dedicated node's `ulimit -n`: RabbitMQ 3.10 keeps ~10 % of it for files, the rest are sockets. */
export const NOFILE = 20_000;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface Broker {
  amqp: string;
  mgmt: string;
  /** Dedicated node only: its Erlang node name (rabbitmqctl -n), OS pid and log file. */
  node?: string;
  beamPid?: number;
  logFile?: string;
  stop(): Promise<void>;
}

/**
 * `statsMs`: the node's collect_statistics_interval (RabbitMQ's default is 5,000 ms). Every queue,
 * channel and connection process emits its stats to the management collectors at this interval:
 * with 5,000 computes that is 20,000 queues + 10,000 connections/channels, and at 5 s those events
 * alone kept the broker's schedulers busy enough that the one `conductor` queue process delivered
 * ~80 messages/s (28,000 calls waiting in it). RabbitMQ's guidance for many-queue nodes is to raise it.
 */
export async function openBroker(statsMs: number): Promise<Broker> {
  const external = process.env.RPCSCOPE_BENCH_AMQP;
  if (external === undefined) return dedicatedBroker(statsMs);
  return {
    amqp: external,
    mgmt: process.env.RPCSCOPE_BENCH_MGMT ?? 'http://guest:guest@127.0.0.1:15672',
    async stop() {},
  };
}

async function dedicatedBroker(statsMs: number): Promise<Broker> {
  const [amqpPort, mgmtPort, distPort] = [await freePort(), await freePort(), await freePort()];
  const dir = `/tmp/rpcscope-bench-rabbit-${process.pid}`;
  const node = `rpcscope-bench-${process.pid}@localhost`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(`${dir}/mnesia`, { recursive: true });
  mkdirSync(`${dir}/log`, { recursive: true });
  writeFileSync(
    `${dir}/rabbitmq.conf`,
    `listeners.tcp.default = 127.0.0.1:${amqpPort}\nmanagement.tcp.port = ${mgmtPort}\nmanagement.tcp.ip = 127.0.0.1\nloopback_users = none\ncollect_statistics_interval = ${statsMs}\n`,
  );
  writeFileSync(`${dir}/enabled_plugins`, '[rabbitmq_management].\n');
  execFileSync('chown', ['-R', 'rabbitmq:rabbitmq', dir]);
  // setpriv, not su: su goes through PAM and resets the fd limit to 1,024.
  const proc: ChildProcess = spawn(
    'bash',
    [
      '-c',
      `ulimit -n ${NOFILE} && exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server`,
    ],
    {
      env: {
        ...process.env,
        HOME: '/var/lib/rabbitmq',
        RABBITMQ_NODENAME: node,
        RABBITMQ_DIST_PORT: String(distPort),
        RABBITMQ_CONFIG_FILE: `${dir}/rabbitmq.conf`,
        RABBITMQ_ENABLED_PLUGINS_FILE: `${dir}/enabled_plugins`,
        RABBITMQ_MNESIA_BASE: `${dir}/mnesia`,
        RABBITMQ_LOG_BASE: `${dir}/log`,
        RABBITMQ_FEATURE_FLAGS_FILE: `${dir}/feature_flags`,
        RABBITMQ_PLUGINS_EXPAND_DIR: `${dir}/plugins-expand`,
        RABBITMQ_PID_FILE: `${dir}/pid`,
        // No busy-waiting schedulers: on a shared 2-core machine a spinning scheduler takes the CPU
        // the emulator (and the broker's own busy processes) need; RabbitMQ's docs advise it there.
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '+sbwt none +sbwtdcpu none +sbwtdio none',
      },
      stdio: 'ignore',
    },
  );
  const mgmt = `http://guest:guest@127.0.0.1:${mgmtPort}`;
  const client = new ManagementClient({ url: mgmt, timeoutMs: 2000 });
  for (let i = 0; i < 120; i++) {
    try {
      await client.overview();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  let beamPid: number | undefined;
  try {
    beamPid = Number(readFileSync(`${dir}/pid`, 'utf8').trim());
  } catch {
    // pid file not written: broker CPU is then not reported
  }
  return {
    amqp: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
    mgmt,
    node,
    ...(beamPid !== undefined ? { beamPid } : {}),
    logFile: `${dir}/log/${node}.log`,
    async stop() {
      try {
        execFileSync('rabbitmqctl', ['-n', node, 'stop'], { stdio: 'ignore', timeout: 120_000 });
      } catch {
        proc.kill('SIGTERM');
      }
      // The log is the failing step's evidence: RPCSCOPE_BENCH_KEEP_LOG keeps a copy.
      const keep = process.env.RPCSCOPE_BENCH_KEEP_LOG;
      if (keep !== undefined && existsSync(`${dir}/log`)) {
        mkdirSync(keep, { recursive: true });
        for (const f of readdirSync(`${dir}/log`)) copyFileSync(`${dir}/log/${f}`, `${keep}/${f}`);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The node's stats once they are there: they come a few seconds after boot. */
export async function nodeStats(mgmt: ManagementClient, waitS = 0): Promise<Node | undefined> {
  let n = (await mgmt.nodes().catch(() => []))[0];
  for (let i = 0; i < waitS && n?.sockets_total === undefined; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    n = (await mgmt.nodes().catch(() => []))[0];
  }
  return n;
}

/** The limits `rabbitmqctl status` reports, read by the node itself rather than the stats collector. */
export interface NodeStatus {
  fdLimit: number;
  fdUsed: number;
  socketsLimit: number;
  socketsUsed: number;
  procLimit: number;
  procUsed: number;
  memLimitBytes: number;
  memTotalBytes: number;
  alarms: string[];
}

/** Asynchronous: the emulator sharing this process keeps running while rabbitmqctl boots. */
export function rabbitmqctlStatus(node: string): Promise<NodeStatus | undefined> {
  return new Promise((resolve) => {
    execFile(
      'rabbitmqctl',
      ['-n', node, 'status', '--formatter', 'json'],
      { timeout: 60_000, maxBuffer: 8 << 20 },
      (err, stdout) => {
        if (err !== null) return resolve(undefined);
        try {
          const s = JSON.parse(stdout) as {
            file_descriptors?: Record<string, number>;
            processes?: { limit?: number; used?: number };
            memory?: { total?: Record<string, number> };
            vm_memory_high_watermark_limit?: number;
            alarms?: unknown[];
          };
          const fd = s.file_descriptors ?? {};
          resolve({
            fdLimit: fd.total_limit ?? 0,
            fdUsed: fd.total_used ?? 0,
            socketsLimit: fd.sockets_limit ?? 0,
            socketsUsed: fd.sockets_used ?? 0,
            procLimit: s.processes?.limit ?? 0,
            procUsed: s.processes?.used ?? 0,
            memLimitBytes: s.vm_memory_high_watermark_limit ?? 0,
            memTotalBytes: s.memory?.total?.erlang ?? 0,
            alarms: (s.alarms ?? []).map((a) => JSON.stringify(a)),
          });
        } catch {
          resolve(undefined);
        }
      },
    );
  });
}

/** The log's length now, to read only what a step added. */
export function logSize(file: string | undefined): number {
  try {
    return file === undefined ? 0 : statSync(file).size;
  } catch {
    return 0;
  }
}

/** Read at most this much of a step's log: a node crashing queue by queue logs ~1 GB of reports. */
const LOG_READ_MAX = 256 << 20;

/**
 * The warnings and errors the node logged since byte `from`: the first line of each message (the
 * indented lines of an Erlang crash report are left out), identical ones counted once with their
 * first timestamp (times, pids, counts and queue-name suffixes vary between repeats).
 */
export function logEvidence(
  file: string | undefined,
  from: number,
): { first: string; line: string; count: number }[] {
  if (file === undefined) return [];
  const seen = new Map<string, { first: string; line: string; count: number }>();
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const buf = Buffer.alloc(16 << 20);
    let pos = from;
    let rest = '';
    while (pos - from < LOG_READ_MAX) {
      const got = readSync(fd, buf, 0, buf.length, pos);
      if (got === 0) break;
      pos += got;
      const lines = (rest + buf.subarray(0, got).toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) {
        const m = /^(\S+ \S+) \[(warning|error|critical|alert|emergency)\] <[^>]*> (\S.*)$/.exec(l);
        if (m === null || /^\*+$/.test(m[3]!)) continue;
        const key = m[3]!.replace(/[0-9a-f]{32}/g, 'H').replace(/\d+/g, 'N');
        const e = seen.get(key);
        if (e === undefined) seen.set(key, { first: m[1]!, line: m[3]!, count: 1 });
        else e.count++;
      }
    }
  } finally {
    closeSync(fd);
  }
  return [...seen.values()];
}

/** CPU seconds (user+system) of a process from /proc. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

export function rssOf(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}
