/**
 * Writes schema/<kind>.schema.json for every JSON document the commands print (src/cli/json.ts),
 * generated from the TypeScript types the documents are made of, so the schemas stay in step with
 * the code: `npx tsx scripts/gen-schemas.ts` after a type changes; test/cli/schemas.test.ts fails
 * when a committed schema differs from what this generates, and validates real outputs with ajv.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';
import { JSON_KINDS, type JsonKind } from '../src/cli/json.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Where each document's type is; `array`: the document holds a list of it under `results`. */
const SOURCES: Partial<Record<JsonKind, { path: string; type: string; array?: boolean; title: string }>> = {
  report: { path: 'src/outputs/report.ts', type: 'Report', title: 'rpcscope report --json' },
  spec: { path: 'src/analyse/spec.ts', type: 'Spec', title: 'rpcscope spec --json' },
  emulation: {
    path: 'src/emulate/types.ts',
    type: 'EmulationResult',
    title: 'rpcscope emulate --json (also the input of emulate --merge)',
  },
  'find-limit': {
    path: 'src/emulate/findlimit.ts',
    type: 'LimitResult',
    title: 'rpcscope emulate --find-limit --json',
  },
  'cluster-status': {
    path: 'src/broker/cluster.ts',
    type: 'ClusterStatus',
    title: 'rpcscope cluster status --json',
  },
  chaos: {
    path: 'src/chaos/types.ts',
    type: 'ChaosResult',
    array: true,
    title: 'rpcscope chaos --json (one result per queue mode run)',
  },
  footprint: {
    path: 'src/cli/footprint.ts',
    type: 'FootprintDocument',
    title: 'rpcscope footprint --json',
  },
};

type JsonObject = { [k: string]: unknown };

export const SCHEMA_KINDS = Object.keys(SOURCES) as JsonKind[];

export function generateSchema(kind: JsonKind): JsonObject {
  const src = SOURCES[kind];
  if (src === undefined) throw new Error(`no schema source for ${kind}`);
  const generated = createGenerator({
    path: `${ROOT}${src.path}`,
    tsconfig: `${ROOT}tsconfig.json`,
    type: src.type,
    skipTypeCheck: true,
    expose: 'export',
    topRef: false,
    additionalProperties: true,
  }).createSchema(src.type) as JsonObject;
  const { $schema: _, definitions, ...body } = generated;
  const version = {
    schema: { const: JSON_KINDS[kind], description: 'what this document is, and its version' },
  };
  const document = src.array
    ? {
        type: 'object',
        properties: { ...version, results: { type: 'array', items: body } },
        required: ['schema', 'results'],
      }
    : {
        ...body,
        properties: { ...version, ...(body.properties as JsonObject) },
        required: ['schema', ...((body.required as string[] | undefined) ?? [])],
      };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://rpcscope.invalid/schema/${kind}.schema.json`,
    title: src.title,
    description: `Generated from ${src.type} (${src.path}) by scripts/gen-schemas.ts; "schema" is "${JSON_KINDS[kind]}".`,
    ...document,
    ...(definitions !== undefined ? { definitions } : {}),
  };
}

export function schemaText(kind: JsonKind): string {
  return `${JSON.stringify(generateSchema(kind), null, 2)}\n`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const kind of SCHEMA_KINDS) {
    const file = `${ROOT}schema/${kind}.schema.json`;
    writeFileSync(file, schemaText(kind));
    process.stdout.write(`${file}\n`);
  }
}
