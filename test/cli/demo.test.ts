/**
 * `rpcscope demo` on a broker without the management plugin (simulated by a management URL where
 * nothing listens): the vhost comes from `rabbitmqctl` when it can reach the local broker, and when
 * it cannot the emulation step is skipped with the reason and the fix; the demo exits 0 either way.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/rpcscope.js');
/** A management URL where nothing listens: what a broker without rabbitmq_management looks like. */
const NO_MANAGEMENT = 'http://127.0.0.1:1';

function demo(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [BIN, 'demo', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...env, NO_COLOR: '1' },
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function vhosts(): string[] {
  return execFileSync('rabbitmqctl', ['-q', 'list_vhosts'], { encoding: 'utf8' }).split('\n');
}

test('demo without the management API: the vhost from rabbitmqctl, the emulation runs, the vhost is removed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-demo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const r = demo(['--computes', '3', '--duration', '3', '--management', NO_MANAGEMENT], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /the management API at http:\/\/127\.0\.0\.1:1 did not create a vhost: .*unreachable/,
  );
  const m = /in vhost (rpcscope-demo-[0-9a-f]{6}) \(created with rabbitmqctl\)/.exec(r.stdout);
  assert.ok(m !== null, r.stdout);
  assert.match(r.stdout, /no management API: broker samples .* are left out of this run/);
  assert.match(r.stdout, /6\/6 services connected/);
  assert.match(r.stdout, /call\/nova-compute/);
  assert.ok(!vhosts().includes(m[1] as string), `vhost ${m[1]} removed`);
});

test('demo with neither the management API nor rabbitmqctl: exit 0, the emulation step says why and how to fix it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-demo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // a PATH holding node alone: rabbitmqctl cannot be found
  const bin = join(dir, 'bin');
  await mkdir(bin);
  await symlink(process.execPath, join(bin, 'node'));
  const r = demo(['--management', NO_MANAGEMENT], dir, { ...process.env, PATH: bin });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /messages published 41/);
  assert.match(r.stdout, /rabbitmqctl did not either: cannot run rabbitmqctl/);
  assert.match(r.stdout, /emulation skipped: it needs a vhost of its own/);
  assert.match(r.stdout, /rabbitmq-plugins enable rabbitmq_management/);
  assert.doesNotMatch(r.stdout, /services connected/);
});
