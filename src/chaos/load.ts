/**
 * Reads a scenario YAML with a `chaos:` section: the section is validated here (ChaosSection),
 * the rest by the emulator's own parser. The chaos block is blanked out of the text (characters
 * replaced by spaces, newlines kept) so the emulator's errors still point at the right line:col.
 */
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { parseScenario, type Scenario, yamlToJs } from '../emulate/scenario.ts';
import { RpcscopeError } from '../errors.ts';
import { ChaosSection } from './timeline.ts';

export interface ChaosScenario {
  readonly scenario: Scenario;
  readonly chaos: ChaosSection;
}

export function parseChaosScenario(text: string, input = 'scenario.yaml'): ChaosScenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  let rest = text;
  let chaosRaw: unknown = {};
  if (doc.errors.length === 0 && isMap(doc.contents)) {
    const pair = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'chaos');
    if (pair !== undefined && isScalar(pair.key)) {
      const start = pair.key.range?.[0] ?? 0;
      const value = pair.value as { range?: [number, number, number] } | null;
      const end = value?.range?.[2] ?? pair.key.range?.[2] ?? start;
      chaosRaw = (yamlToJs(doc, input) as Record<string, unknown>).chaos ?? {};
      rest = text.slice(0, start) + text.slice(start, end).replace(/[^\n]/g, ' ') + text.slice(end);
      const r = ChaosSection.safeParse(chaosRaw);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        const pos = lineCounter.linePos(start);
        throw new RpcscopeError(
          'RPCSCOPE_SCENARIO_INVALID',
          `chaos.${issue.path.join('.')}: ${issue.message}`,
          {
            context: { input, line: pos.line, column: pos.col },
          },
        );
      }
      return { scenario: parseScenario(rest, input), chaos: r.data };
    }
  }
  return { scenario: parseScenario(rest, input), chaos: ChaosSection.parse(chaosRaw) };
}
