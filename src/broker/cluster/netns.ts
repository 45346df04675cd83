/**
 * The cluster's private network: one namespace per broker node plus a hub namespace holding a
 * Linux bridge, connected by veth pairs created directly inside the namespaces (the root
 * namespace never holds an interface or address of ours). A partition moves bridge ports onto
 * separate bridges, so frames between groups have no path at all: a silent cut, like a switch
 * split in two, not a refused connection. Healing moves the ports back.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { exec } from './exec.ts';
import { HUB_BRIDGE, hostsFile, hubNetns, type NodeLayout } from './layout.ts';

const ip = (args: readonly string[]) => exec('ip', args, { timeoutMs: 20_000 });

export async function listNetns(): Promise<string[]> {
  const r = await exec('ip', ['netns', 'list'], { allowFail: true });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((l) => l !== '');
}

export async function createNetwork(tag: string, nodes: readonly NodeLayout[]): Promise<void> {
  const hub = hubNetns(tag);
  await ip(['netns', 'add', hub]);
  await ip(['-n', hub, 'link', 'add', HUB_BRIDGE, 'type', 'bridge']);
  await ip(['-n', hub, 'link', 'set', HUB_BRIDGE, 'up']);
  const hosts = hostsFile(nodes);
  for (const n of nodes) {
    await ip(['netns', 'add', n.netns]);
    // `ip netns exec` bind-mounts /etc/netns/<ns>/hosts over /etc/hosts: node names resolve there only
    await mkdir(`/etc/netns/${n.netns}`, { recursive: true });
    await writeFile(`/etc/netns/${n.netns}/hosts`, hosts);
    await ip(['-n', n.netns, 'link', 'set', 'lo', 'up']);
    await ip(['-n', n.netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', n.hubPort, 'netns', hub]);
    await ip(['-n', n.netns, 'addr', 'add', `${n.address}/24`, 'dev', 'eth0']);
    await ip(['-n', n.netns, 'link', 'set', 'eth0', 'up']);
    await ip(['-n', hub, 'link', 'set', n.hubPort, 'master', HUB_BRIDGE, 'up']);
  }
}

/** Pids of every process living in a namespace (rabbit's beam, epmd, forwarders...). */
export async function netnsPids(ns: string): Promise<number[]> {
  const r = await exec('ip', ['netns', 'pids', ns], { allowFail: true });
  return r.stdout
    .split('\n')
    .map((l) => Number.parseInt(l, 10))
    .filter((p) => Number.isInteger(p) && p > 1 && p !== process.pid);
}

/** Kills everything in the cluster's namespaces, then removes them. Idempotent. */
export async function destroyNetwork(tag: string, nodes: readonly NodeLayout[]): Promise<void> {
  const existing = new Set(await listNetns());
  const all = [...nodes.map((n) => n.netns), hubNetns(tag)];
  for (const ns of all) {
    if (!existing.has(ns)) continue;
    for (const pid of await netnsPids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const ns of all) {
    if (existing.has(ns)) await exec('ip', ['netns', 'del', ns], { allowFail: true });
    await rm(`/etc/netns/${ns}`, { recursive: true, force: true });
  }
}

/**
 * Splits the hub into one bridge per group; nodes not named in any group keep the main bridge.
 * groups are node indexes, e.g. [[1], [2, 3]].
 */
export async function partitionNetwork(
  tag: string,
  nodes: readonly NodeLayout[],
  groups: readonly (readonly number[])[],
): Promise<void> {
  const hub = hubNetns(tag);
  await healNetwork(tag, nodes);
  for (const [g, members] of groups.entries()) {
    const br = `brg${g}`;
    await ip(['-n', hub, 'link', 'add', br, 'type', 'bridge']);
    await ip(['-n', hub, 'link', 'set', br, 'up']);
    for (const idx of members) {
      const n = nodes.find((x) => x.index === idx);
      if (n) await ip(['-n', hub, 'link', 'set', n.hubPort, 'master', br]);
    }
  }
}

/** Puts every node back on the main bridge and deletes group bridges. */
export async function healNetwork(tag: string, nodes: readonly NodeLayout[]): Promise<void> {
  const hub = hubNetns(tag);
  for (const n of nodes) await ip(['-n', hub, 'link', 'set', n.hubPort, 'master', HUB_BRIDGE]);
  const links = await exec('ip', ['-n', hub, '-o', 'link', 'show', 'type', 'bridge'], { allowFail: true });
  for (const m of links.stdout.matchAll(/^\d+: (brg\d+)[:@]/gm)) {
    if (m[1]) await ip(['-n', hub, 'link', 'del', m[1]]);
  }
}
