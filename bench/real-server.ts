/**
 * What the benches against a real OpenStack server (neutron-server.bench.ts, nova-conductor.bench.ts)
 * read off the machine the same way: a server's CPU with the workers it forked, a queue's backlog
 * through the management API, and the table cells they print.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { MethodStats } from '../src/emulate/types.ts';

const MGMT = 'http://127.0.0.1:15672/api';
const MGMT_AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

/** utime + stime (s) of a process and all its descendants (OpenStack servers fork their workers). */
export function treeCpuSeconds(root: number): number | undefined {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ');
      parent.set(Number(d), Number(f[1]));
      cpu.set(Number(d), (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // gone meanwhile
    }
  }
  if (!cpu.has(root)) return undefined;
  let sum = 0;
  for (const [pid, c] of cpu) {
    let p: number | undefined = pid;
    while (p !== undefined && p > 1 && p !== root) p = parent.get(p);
    if (p === root) sum += c;
  }
  return sum;
}

/** Messages ready in a queue of the machine's broker (undefined: the API did not answer). */
export async function queueDepth(vhost: string, name: string): Promise<number | undefined> {
  const r = await fetch(
    `${MGMT}/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}?columns=messages`,
    {
      headers: { authorization: MGMT_AUTH },
      signal: AbortSignal.timeout(5000),
    },
  ).catch(() => undefined);
  if (r?.ok !== true) return undefined;
  return ((await r.json()) as { messages?: number }).messages;
}

/** A latency cell: ms below a second, seconds with one decimal above. */
export const ms = (x: number | undefined): string =>
  x === undefined ? '-' : x >= 1000 ? `${(x / 1000).toFixed(1)}s` : `${x.toFixed(0)}`;

/** A call cell: answered/sent, timeouts, remote errors. */
export const cell = (m: MethodStats | undefined): string =>
  m === undefined ? '-' : `${m.ok}/${m.calls} ${m.timeouts}t ${m.remoteErrors}e`;
