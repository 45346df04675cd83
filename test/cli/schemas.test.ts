/**
 * JSON outputs against their JSON Schemas (schema/*.schema.json): the committed schemas are what
 * scripts/gen-schemas.ts generates from the types today, and real outputs of the commands validate
 * against them with ajv (strict draft-07).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { SCHEMA_KINDS, schemaText } from '../../scripts/gen-schemas.ts';
import { JSON_KINDS, type JsonKind } from '../../src/cli/json.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/rpcscope.js');
const FIX = join(ROOT, 'data/nova-zed');

function rpcscope(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function validator(kind: JsonKind) {
  const schema = JSON.parse(readFileSync(join(ROOT, 'schema', `${kind}.schema.json`), 'utf8')) as object;
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

function assertValid(kind: JsonKind, doc: unknown): void {
  const validate = validator(kind);
  const ok = validate(doc);
  assert.ok(ok, `${kind}: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}`);
}

test('the committed schemas are what the types generate (run npx tsx scripts/gen-schemas.ts)', () => {
  for (const kind of SCHEMA_KINDS) {
    const committed = readFileSync(join(ROOT, 'schema', `${kind}.schema.json`), 'utf8');
    assert.equal(committed, schemaText(kind), `schema/${kind}.schema.json is out of date`);
  }
});

test('report --json of every bundled capture validates against schema/report.schema.json', () => {
  for (const f of ['boot.pcap', 'stop.tracing.json', 'boot.firehose.jsonl']) {
    const r = rpcscope(['report', '--json', join(FIX, f)]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { schema: string };
    assert.equal(doc.schema, JSON_KINDS.report);
    assertValid('report', doc);
  }
});

test('a document missing a required field or with another version fails validation', () => {
  const r = rpcscope(['report', '--json', join(FIX, 'stop.tracing.json')]);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  const validate = validator('report');
  assert.equal(validate({ ...doc, schema: 'rpcscope.report/2' }), false);
  const { messages: _, ...noMessages } = doc;
  assert.equal(validate(noMessages), false);
  assert.equal(validate({ ...doc, messages: 'many' }), false);
});

test('spec --json and spec -o x.json validate against schema/spec.schema.json', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-schema-'));
  try {
    const r = rpcscope(['spec', '--json', join(FIX, 'boot.tracing.json')]);
    assert.equal(r.code, 0, r.stderr);
    assertValid('spec', JSON.parse(r.stdout));
    const out = join(dir, 'spec.json');
    const w = rpcscope(['spec', join(FIX, 'boot.pcap'), '-o', out]);
    assert.equal(w.code, 0, w.stderr);
    const doc = JSON.parse(await readFile(out, 'utf8')) as { schema: string };
    assert.equal(doc.schema, JSON_KINDS.spec);
    assertValid('spec', doc);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('report -o writes the same document as stdout', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-schema-'));
  try {
    const out = join(dir, 'r.json');
    const w = rpcscope(['report', '--json', '-o', out, join(FIX, 'stop.tracing.json')]);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, '');
    const r = rpcscope(['report', '--json', join(FIX, 'stop.tracing.json')]);
    assert.equal(await readFile(out, 'utf8'), r.stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
