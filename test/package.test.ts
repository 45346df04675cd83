/**
 * The installed package runs on plain Node, outside the checkout: `npm pack` (prepack builds dist),
 * `npm install -g` into a temporary prefix, then the command from another directory, with no
 * TypeScript loader anywhere (tsx is not a dependency of the package).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { installedPackage } from './harness/package.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
};

function rpcscope(bin: string, args: string[], cwd = tmpdir()) {
  // NODE_OPTIONS cleared: the test runner's `--import tsx` must not reach the installed command
  const r = spawnSync(bin, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('npm pack + npm install -g: rpcscope runs on plain Node outside the checkout', {
  timeout: 600_000,
}, async () => {
  const p = await installedPackage();
  assert.ok(!existsSync(join(p.root, 'node_modules', 'tsx')), 'tsx is not installed with the package');
  assert.ok(!existsSync(join(p.root, 'src')), 'no TypeScript sources in the package');
  assert.ok(existsSync(join(p.root, 'dist', 'index.d.ts')), 'declarations are in the package');
  assert.ok(existsSync(join(p.root, 'dist', 'web', 'assets', 'app.js')), 'dashboard assets are prebuilt');

  const v = rpcscope(p.bin, ['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), pkg.version);

  const capture = join(p.root, 'data', 'nova-zed', 'boot.pcap');
  const r = rpcscope(p.bin, ['report', '--json', capture]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { messages: { published: number }; calls: { total: number } };
  assert.equal(report.messages.published, 41);
  assert.equal(report.calls.total, 15);

  // the catalogue's line and exit status from the installed command
  const missing = rpcscope(p.bin, ['report', '/no/such/capture.pcap']);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /^rpcscope: RPCSCOPE_INPUT_NOT_FOUND: \/no\/such\/capture\.pcap: /);
  const help = rpcscope(p.bin, ['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Exit status/);
});

test('the installed demo finds its bundled data and runs every step outside the checkout', {
  timeout: 600_000,
}, async (t) => {
  const p = await installedPackage();
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-installed-demo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const r = rpcscope(p.bin, ['demo', '--computes', '3', '--duration', '3'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /messages published 41, delivered 107/);
  assert.match(r.stdout, /server create \(schedule_and_build_instances\): 35 messages/);
  assert.match(r.stdout, /6\/6 services connected/);
  for (const f of ['spec.html', 'spec.md', 'scenario.yaml', 'emulation.html'])
    assert.ok(existsSync(join(dir, 'rpcscope-demo', f)), f);
});

test('every dependency is imported by the sources', () => {
  const used = new Set<string>();
  const r = spawnSync('grep', ['-rhoE', "(from|import\\() ?'[@a-z0-9./_-]+'", 'src'], {
    cwd: new URL('..', import.meta.url),
    encoding: 'utf8',
  });
  for (const m of r.stdout.matchAll(/^(?:from|import\() ?'([^'.][^']*)'$/gm)) {
    const spec = m[1] as string;
    used.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
  }
  // commander is the peer dependency that @commander-js/extra-typings re-exports
  const unused = Object.keys(pkg.dependencies).filter((d) => !used.has(d) && d !== 'commander');
  assert.deepEqual(unused, []);
});
