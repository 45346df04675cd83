/**
 * The error catalogue as users meet it: each failure's line (`rpcscope: CODE: where: message`) and
 * exit status from the CLI, docs/errors.md and `--help` against src/errors.ts, and library
 * messages that name no command-line flag.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { failure } from '../../src/cli/fail.ts';
import { ERROR_CODES, EXIT_MEANING, RpcscopeError } from '../../src/errors.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/rpcscope.js');
const BOOT = join(ROOT, 'data/nova-zed/boot.pcap');

function rpcscope(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: tmpdir(),
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('docs/errors.md and --help show every code with its exit status', () => {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const help = rpcscope(['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const [code, e] of Object.entries(ERROR_CODES)) {
    assert.ok(doc.includes(`| \`${code}\` | ${e.exit} | ${e.meaning} |`), `${code} in docs/errors.md`);
    assert.ok(help.stdout.includes(code), `${code} in --help`);
  }
  for (const [status, meaning] of Object.entries(EXIT_MEANING)) {
    assert.ok(doc.includes(`| ${status} | ${meaning} |`), `exit ${status} in docs/errors.md`);
    assert.ok(help.stdout.includes(meaning), `exit ${status} in --help`);
  }
});

test('a missing input: the code, the file, exit 3', () => {
  const r = rpcscope(['report', '/no/such/capture.pcap']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /^rpcscope: RPCSCOPE_INPUT_NOT_FOUND: \/no\/such\/capture\.pcap: .+\n$/);
});

test('an unknown option is a usage error: exit 2', () => {
  const r = rpcscope(['report', '--no-such-option', BOOT]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--no-such-option'/);
});

test('spec and model: a window too small to hold a burst is refused, naming the flag: exit 2', () => {
  for (const cmd of ['spec', 'model']) {
    const r = rpcscope([cmd, BOOT, '--hold-messages', '10']);
    assert.equal(r.code, 2, cmd);
    assert.match(
      r.stderr,
      /^rpcscope: RPCSCOPE_BAD_ARGUMENT: --hold-messages must be a whole number ≥ 1000/m,
    );
  }
});

test('an output that cannot be written: RPCSCOPE_OUTPUT_WRITE naming it, exit 6', () => {
  const r = rpcscope(['spec', BOOT, '-o', '/no/such/dir/x.html']);
  assert.equal(r.code, 6);
  assert.match(r.stderr, /^rpcscope: RPCSCOPE_OUTPUT_WRITE: \/no\/such\/dir\/x\.html: cannot write: /m);
});

test('damaged input: the report is printed, one line names the place, exit 4', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-errors-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cut = join(dir, 'cut.pcap');
  await writeFile(cut, (await readFile(BOOT)).subarray(0, 300_000));
  const r = rpcscope(['report', '--json', cut]);
  assert.equal(r.code, 4, r.stderr);
  const report = JSON.parse(r.stdout) as { skipped: { bytes: number }; messages: { published: number } };
  assert.ok(report.skipped.bytes > 0 && report.messages.published > 0);
  assert.match(r.stderr, new RegExp(`^rpcscope: RPCSCOPE_INPUT_DAMAGED: ${cut}@\\d+: `, 'm'));
});

test('an unexpected error is one line with RPCSCOPE_INTERNAL and exit 1; the stack only when debugging', () => {
  const bug = new TypeError('undefined is not a function\n    at somewhere (x.js:1:1)');
  let out = '';
  assert.equal(
    failure(bug, false, (l) => {
      out += l;
    }),
    1,
  );
  assert.equal(
    out,
    'rpcscope: RPCSCOPE_INTERNAL: undefined is not a function (a bug: rerun with RPCSCOPE_DEBUG=1 for the stack, and report it)\n',
  );
  out = '';
  failure(bug, true, (l) => {
    out += l;
  });
  assert.match(out, /^rpcscope: RPCSCOPE_INTERNAL: undefined is not a function\nTypeError: /);
  out = '';
  const known = new RpcscopeError('RPCSCOPE_BROKER_UNREACHABLE', 'connection refused', {
    context: { input: 'amqp://127.0.0.1:1' },
  });
  assert.equal(
    failure(known, false, (l) => {
      out += l;
    }),
    5,
  );
  assert.equal(out, 'rpcscope: RPCSCOPE_BROKER_UNREACHABLE: amqp://127.0.0.1:1: connection refused\n');
});

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

test('library messages name no command-line flag (the CLI adds those)', () => {
  const offenders: string[] = [];
  for (const file of sources(join(ROOT, 'src'))) {
    if (file.includes(`${join('src', 'cli')}/`)) continue;
    const text = readFileSync(file, 'utf8');
    // the message: the first string argument after the code
    for (const m of text.matchAll(/new RpcscopeError\(\s*'[A-Z_]+',\s*(['`])((?:(?!\1)[\s\S])*)\1/g))
      if (/(^|[\s'"`(])--[a-z]/.test(m[2] as string)) offenders.push(`${file.slice(ROOT.length)}: ${m[2]}`);
  }
  assert.deepEqual(offenders, []);
});
