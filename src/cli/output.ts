/** Output files of the commands: a failed write is RPCSCOPE_OUTPUT_WRITE naming the file. */
import { writeFile } from 'node:fs/promises';
import { RpcscopeError } from '../errors.ts';

export async function writeOutput(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text);
  } catch (cause) {
    throw new RpcscopeError(
      'RPCSCOPE_OUTPUT_WRITE',
      `cannot write: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, context: { input: path } },
    );
  }
}
