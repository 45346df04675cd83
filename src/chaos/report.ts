/** The files a chaos run leaves: its result as JSON and the HTML report, one pair per queue mode. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderChaosHtml } from '../render/chaos-html.ts';
import type { ChaosResult } from './types.ts';

export async function writeChaosReport(outDir: string, result: ChaosResult): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, `chaos-${result.queues}.json`), JSON.stringify(result, null, 2));
  await writeFile(path.join(outDir, `chaos-${result.queues}.html`), renderChaosHtml(result));
}
