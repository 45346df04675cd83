/**
 * The package as a user gets it: `npm pack` (which runs the build through `prepack`), then
 * `npm install -g` of the tarball into a temporary prefix, outside the checkout. Packing and
 * installing take tens of seconds, so the install is kept in the temporary directory under a key
 * made of the sources and the package files: the package test and the API test share it, and a
 * second run with nothing changed reuses it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './oslo.ts';

const run = promisify(execFile);

export interface Installed {
  /** The prefix `npm install -g --prefix` used. */
  readonly prefix: string;
  /** The installed `rpcscope` command (prefix/bin/rpcscope). */
  readonly bin: string;
  /** The installed package's folder (prefix/lib/node_modules/rpcscope). */
  readonly root: string;
}

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else out.push(p);
  }
  return out;
}

/** A hash of everything that goes into the package. */
function packageKey(): string {
  const h = createHash('sha256');
  const inputs = [
    ...files(join(REPO, 'src')),
    ...files(join(REPO, 'schema')),
    ...['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) =>
      join(REPO, f),
    ),
  ];
  for (const f of inputs) h.update(relative(REPO, f)).update('\0').update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

let pending: Promise<Installed> | undefined;

/** Packs and installs the package once per content (see above); resolves to where it is. */
export function installedPackage(): Promise<Installed> {
  pending ??= install();
  return pending;
}

async function install(): Promise<Installed> {
  const parent = join(tmpdir(), 'rpcscope-package-test');
  const dir = join(parent, packageKey());
  const installed: Installed = {
    prefix: join(dir, 'prefix'),
    bin: join(dir, 'prefix', 'bin', 'rpcscope'),
    root: join(dir, 'prefix', 'lib', 'node_modules', 'rpcscope'),
  };
  if (existsSync(join(dir, 'complete'))) return installed;
  // installs of older sources are of no more use: one install is kept at a time
  await rm(parent, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: REPO,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  // offline first: after `npm ci` every dependency is in npm's cache
  await run(
    'npm',
    [
      'install',
      '-g',
      '--prefix',
      installed.prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(dir, filename),
    ],
    { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
  );
  await writeFile(join(dir, 'complete'), `${new Date().toISOString()}\n`);
  return installed;
}
