/**
 * Every JSON document a command prints or writes says what it is and which version of that shape:
 * `"schema": "rpcscope.<kind>/<version>"` first, then the document. The JSON Schema of each is
 * `schema/<kind>.schema.json` (generated from the TypeScript types by scripts/gen-schemas.ts and
 * checked against real outputs by test/cli/schemas.test.ts). A version changes when a field is
 * removed or changes meaning; added fields keep it.
 */
import { writeOutput } from './output.ts';

export const JSON_KINDS = {
  report: 'rpcscope.report/1',
  spec: 'rpcscope.spec/1',
  emulation: 'rpcscope.emulation/1',
  'find-limit': 'rpcscope.find-limit/1',
  chaos: 'rpcscope.chaos/1',
  'cluster-status': 'rpcscope.cluster-status/1',
  footprint: 'rpcscope.footprint/1',
} as const;

export type JsonKind = keyof typeof JSON_KINDS;

/** The document as text: `schema` first, then the value's own fields (an array goes under `results`). */
export function jsonDocument(kind: JsonKind, value: object, indent = 2): string {
  const body = Array.isArray(value) ? { results: value } : value;
  return `${JSON.stringify({ schema: JSON_KINDS[kind], ...body }, null, indent)}\n`;
}

/** `--json` everywhere: the document on stdout, or into `output` when -o names a file. */
export async function emitJson(kind: JsonKind, value: object, output: string | undefined): Promise<void> {
  const text = jsonDocument(kind, value);
  if (output === undefined) process.stdout.write(text);
  else await writeOutput(output, text);
}
