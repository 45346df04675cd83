/**
 * `rpcscope completion bash|zsh`, sourced in a real shell: the completion function is asked what
 * it offers for a command line (as the shell does on TAB) and must offer this version's commands,
 * subcommands, options and choices, never a hidden old spelling.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/rpcscope.js');
let dir: string;
let bashScript: string;
let zshScript: string;

function script(shell: string): string {
  const r = spawnSync(process.execPath, [BIN, 'completion', shell], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rpcscope-completion-'));
  bashScript = join(dir, 'rpcscope.bash');
  zshScript = join(dir, '_rpcscope');
  await writeFile(bashScript, script('bash'));
  await writeFile(zshScript, script('zsh'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What bash completes for these words, the last one being completed (as on TAB). */
function bashComplete(words: string[]): string[] {
  const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync(
    'bash',
    [
      '--norc',
      '-c',
      `source '${bashScript}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _rpcscope; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout.split('\n').filter((l) => l !== '');
}

test('bash: commands, subcommands, options and choices', () => {
  assert.deepEqual(bashComplete(['rpcscope', 're']), ['report']);
  const all = bashComplete(['rpcscope', '']);
  for (const c of [
    'demo',
    'capture',
    'report',
    'spec',
    'watch',
    'export',
    'model',
    'emulate',
    'cluster',
    'chaos',
    'completion',
  ])
    assert.ok(all.includes(c), `${c} in ${all.join(' ')}`);
  assert.deepEqual(bashComplete(['rpcscope', 'cluster', '']), ['up', 'status', 'down']);
  assert.deepEqual(bashComplete(['rpcscope', 'spec', '--format', '']), ['md', 'json', 'html']);
  assert.deepEqual(bashComplete(['rpcscope', 'cluster', 'up', '--queues', 'q']), ['quorum']);
  // the canonical names; old spellings still work but are not offered
  assert.deepEqual(bashComplete(['rpcscope', 'capture', '--out']), ['--output']);
  assert.deepEqual(bashComplete(['rpcscope', 'report', '--l']), []);
  assert.deepEqual(bashComplete(['rpcscope', 'report', '--t']), ['--tcpdump']);
  // after an option that takes a value, the path is still the command's: its options follow
  assert.ok(bashComplete(['rpcscope', 'watch', '--replay', 'x.pcap', '--exit']).includes('--exit-at-end'));
  // a file argument: files of the working directory
  assert.deepEqual(bashComplete(['rpcscope', 'report', 'rpcscope.b']), ['rpcscope.bash']);
});

test('zsh: the script loads and completes commands and options', (t) => {
  if (spawnSync('zsh', ['--version']).status !== 0) {
    t.skip('zsh is not installed');
    return;
  }
  // compadd/_describe exist only inside completion widgets: stand-ins record what is offered
  const probe = (words: string[]) => {
    const r = spawnSync(
      'zsh',
      [
        '-f',
        '-c',
        `compdef() { :; }
_describe() { local -a list; list=("\${(@P)4}"); print -l -- "\${list[@]%%:*}"; }
compadd() { print -l -- "\${(@P)2}"; }
_files() { print -- FILES; }
source '${zshScript}'
words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}
_rpcscope`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => l !== '');
  };
  assert.ok(probe(['rpcscope', '']).includes('report'));
  assert.deepEqual(probe(['rpcscope', 'cluster', '']), ['up', 'status', 'down']);
  assert.ok(probe(['rpcscope', 'report', '--']).includes('--tcpdump'));
  assert.ok(!probe(['rpcscope', 'report', '--']).includes('--live'));
  assert.deepEqual(probe(['rpcscope', 'spec', '--format', '']), ['md', 'json', 'html']);
  assert.deepEqual(probe(['rpcscope', 'spec', '-o', '']), ['FILES']);
});

test('completion of an unknown shell is a usage error', () => {
  const r = spawnSync(process.execPath, [BIN, 'completion', 'fish'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /RPCSCOPE_BAD_ARGUMENT: completion for "fish": give bash or zsh/);
});
