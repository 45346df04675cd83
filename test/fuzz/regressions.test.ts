/** Every crashing input the fuzzer found, replayed: each must now decode or be a coded RpcscopeError. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Format, runInput } from './harness.ts';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'fuzz');
const formatOf = (name: string): Format => name.split('-')[1] as Format;

const files = readdirSync(DIR).filter((f) => f.startsWith('crash-'));

test('the fuzz regression fixtures are there', () => {
  assert.ok(files.length > 0);
});

for (const f of files) {
  test(`fuzz regression ${f}`, () => {
    const o = runInput(formatOf(f), readFileSync(join(DIR, f)));
    if (o.error !== undefined) assert.ok(o.error.context.input !== undefined);
  });
}
