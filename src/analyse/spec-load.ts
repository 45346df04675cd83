/**
 * Reads captures for the spec: each file through its own pipeline (loadCaptures), so each keeps
 * its own window; rates and periods then ignore the time between separate captures.
 */

import { type LoadOptions, loadCaptures } from '../pipeline/load.ts';
import type { RpcCall, RpcMessage, TopologyEvent } from '../records.ts';
import type { SpecInput } from './spec.ts';

export interface SpecLoaded extends SpecInput {
  readonly topology: readonly TopologyEvent[];
}

/** The spec needs every record kept, so only progress is the caller's to choose. */
export type SpecLoadOptions = Pick<LoadOptions, 'onProgress'>;

export async function loadSpecInput(
  paths: readonly string[],
  opts: SpecLoadOptions = {},
): Promise<SpecLoaded> {
  const messages: RpcMessage[] = [];
  const calls: RpcCall[] = [];
  const topology: TopologyEvent[] = [];
  const segments: { startMs: number; endMs: number }[] = [];
  for (const p of paths) {
    const l = await loadCaptures([p], opts.onProgress !== undefined ? { onProgress: opts.onProgress } : {});
    messages.push(...l.messages);
    calls.push(...l.calls);
    topology.push(...l.topology);
    if (l.messages.length > 0) segments.push({ startMs: l.startMs, endMs: l.endMs });
  }
  return {
    inputs: [...paths],
    messages,
    calls,
    topology,
    startMs: segments.length > 0 ? Math.min(...segments.map((s) => s.startMs)) : 0,
    endMs: segments.length > 0 ? Math.max(...segments.map((s) => s.endMs)) : 0,
    segments,
  };
}
