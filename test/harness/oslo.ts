/**
 * Helpers for the end-to-end tests against the real python oslo.messaging: run the harness
 * (oslo_harness.py) and the rpcscope CLI as child processes, make and remove vhosts, and compare
 * `rpcscope report --json` with the harness's manifest.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ManagementClient } from '../../src/broker/management.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const HARNESS = fileURLToPath(new URL('./oslo_harness.py', import.meta.url));
export const CLI = fileURLToPath(new URL('../../bin/rpcscope.js', import.meta.url));
export const PYTHON = '/usr/bin/python3';

export const mgmt = new ManagementClient({ url: 'http://127.0.0.1:15672', user: 'guest', password: 'guest' });

/** What oslo_harness.py prints: exactly what it sent and what its server received. */
export interface Manifest {
  transportUrl: string;
  exchange: string;
  topic: string;
  server: string;
  calls: {
    total: number;
    ok: number;
    failed: number;
    unanswered: number;
    byMethod: Record<string, number>;
    failures: { class: string; count: number }[];
    timedOut: { method: string; timeoutS: number; serverSleptS: number }[];
  };
  casts: { total: number; byMethod: Record<string, number> };
  fanouts: { total: number; byMethod: Record<string, number>; exchange: string; servers: number };
  notifications: {
    total: number;
    topic: string;
    byEventType: { eventType: string; priority: string; count: number }[];
  };
  replies: { total: number; late: number };
  messages: { published: number; delivered: number };
  serverReceived: Record<string, number>;
  secret: string;
}

/** The part of `rpcscope report --json` (issue 2) the tests read. */
export interface ReportJson {
  messages: { published: number; delivered: number };
  byKind: Record<'call' | 'cast' | 'fanout' | 'reply' | 'notification' | 'other', number>;
  methods: {
    kind: string;
    exchange: string;
    topic: string;
    method: string;
    object?: string;
    count: number;
  }[];
  calls: {
    total: number;
    answered: number;
    unanswered: number;
    failed: number;
    failures: { class: string; count: number }[];
    latencyMs: { p50: number; p90: number; p99: number; max: number };
    unansweredCalls?: { topic: string; server?: string; method?: string; reason?: string }[];
    lateReplies?: number;
  };
  skipped: { bytes: number; frames: number; records: number };
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, collecting output. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return finished(
    spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env }),
  );
}

export function finished(child: ChildProcess): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Starts `rpcscope ARGS...`; resolves once its stderr has shown `ready` (e.g. "Ctrl-C to stop"). */
export async function startCli(
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; done: Promise<Run>; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = finished(child);
  let err = '';
  child.stderr?.on('data', (s: string | Buffer) => {
    err += s.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (ready.test(err)) {
        child.stderr?.off('data', check);
        resolve();
      }
    };
    child.stderr?.on('data', check);
    done.then(
      (r) =>
        reject(
          new Error(`rpcscope ${args.join(' ')} exited (${r.code ?? r.signal}) before ready:\n${r.stderr}`),
        ),
      reject,
    );
  });
  return { child, done, stderr: () => err };
}

export function cli(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return run(process.execPath, [CLI, ...args], opts);
}

/** A vhost of its own with guest permissions; removed by `remove` (call it in t.after too). */
export async function makeVhost(prefix: string): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await mgmt.putVhost(name, { description: 'rpcscope e2e test' });
  await mgmt.setPermissions(name, 'guest');
  let removed = false;
  return {
    name,
    remove: async () => {
      if (removed) return;
      removed = true;
      await mgmt.deleteVhost(name);
    },
  };
}

/** Runs the harness against `transportUrl`; fails the test with its stderr when it fails. */
export async function runHarness(
  transportUrl: string,
  extra: string[] = [],
): Promise<{ manifest: Manifest; stderr: string }> {
  const r = await run(PYTHON, [HARNESS, '--url', transportUrl, ...extra]);
  assert.equal(r.code, 0, `oslo_harness.py failed:\n${r.stderr}`);
  return { manifest: JSON.parse(r.stdout) as Manifest, stderr: r.stderr };
}

export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  limitMs = 60_000,
): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `report --json` against the manifest, field by field, exactly. Calls: the failed call is
 * answered (a reply came, carrying the failure), the timed-out one is not (the client raised
 * MessagingTimeout; its late reply still is a reply message on the wire).
 */
export function assertReportMatches(r: ReportJson, m: Manifest): void {
  assert.deepEqual(
    r.messages && { published: r.messages.published, delivered: r.messages.delivered },
    m.messages,
  );
  assert.deepEqual(r.byKind, {
    call: m.calls.total,
    cast: m.casts.total,
    fanout: m.fanouts.total,
    reply: m.replies.total,
    notification: m.notifications.total,
    other: 0,
  });
  const rows = r.methods.map((x) => `${x.kind} ${x.exchange} ${x.topic} ${x.method} ${x.count}`).sort();
  const want = [
    ...Object.entries(m.calls.byMethod).map(([meth, n]) => `call ${m.exchange} ${m.topic} ${meth} ${n}`),
    ...Object.entries(m.casts.byMethod).map(([meth, n]) => `cast ${m.exchange} ${m.topic} ${meth} ${n}`),
    ...Object.entries(m.fanouts.byMethod).map(
      ([meth, n]) => `fanout ${m.fanouts.exchange} ${m.topic} ${meth} ${n}`,
    ),
    ...m.notifications.byEventType.map(
      (e) => `notification ${m.exchange} ${m.notifications.topic} ${e.eventType} ${e.count}`,
    ),
  ].sort();
  assert.deepEqual(rows, want, 'methods table');
  assert.deepEqual(r.skipped, { ...r.skipped, bytes: 0, frames: 0, records: 0 }, 'nothing skipped');
}

export function assertCallsMatch(r: ReportJson, m: Manifest): void {
  assert.deepEqual(
    {
      total: r.calls.total,
      answered: r.calls.answered,
      unanswered: r.calls.unanswered,
      failed: r.calls.failed,
      failures: r.calls.failures,
    },
    {
      total: m.calls.total,
      answered: m.calls.ok + m.calls.failed,
      unanswered: m.calls.unanswered,
      failed: m.calls.failed,
      failures: m.calls.failures,
    },
  );
  // Which call went unanswered, and why: the caller's timeout (the AMQP expiration) passed.
  assert.deepEqual(
    (r.calls.unansweredCalls ?? []).map((c) => [c.topic, c.server, c.method, c.reason]),
    m.calls.timedOut.map((c) => [m.topic, m.server, c.method, 'expired']),
  );
  assert.equal(r.calls.lateReplies, m.replies.late, 'late replies (after the caller gave up)');
}

export interface BrokerRelay {
  readonly port: number;
  /** Every connection cut at once (no AMQP goodbye), and new ones refused until `restore()`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * A TCP relay 127.0.0.1:<port 0> → 127.0.0.1:5672: a port of the test's own for tcpdump to watch
 * (the broker is shared), and a connection path the test can cut.
 */
export async function brokerRelay(): Promise<BrokerRelay> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(5672, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cut = () => {
    refusing = true;
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    restore: () => {
      refusing = false;
    },
    close: () =>
      new Promise<void>((r) => {
        cut();
        server.close(() => r());
      }),
  };
}
