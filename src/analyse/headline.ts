/**
 * The headline numbers, each defined once. The demo, `rpcscope spec` (summary), the README and
 * the emulation summary print these and nothing recomputed beside them.
 */
import type { BackgroundService } from './periodic.ts';

/** The capture the headline background figure is quoted from: an idle nova-compute, 170 s. */
export const HEADLINE_BACKGROUND_CAPTURE = 'data/nova-zed/idle.tracing.json';

/**
 * Background per hypervisor: messages per minute that ONE nova-compute causes on its own, with
 * no user operation running — every periodic RPC it publishes (calls, casts, notifications) at
 * its measured period, plus the replies to its calls; RPCs seen only while operations ran
 * (`duringOperationsOnly`, e.g. ComputeNode.save during a boot) are left out. Undefined when the
 * captures show no nova-compute background.
 *
 * The figure depends on the capture it is measured on, not on who prints it: periods of up to
 * 60 s need a window of several minutes (the 10 s boot capture gives 12.0, the 170 s idle one
 * 22.6); quote it from HEADLINE_BACKGROUND_CAPTURE.
 */
export function backgroundPerHypervisorPerMinute(
  background: readonly BackgroundService[],
): number | undefined {
  return background.find((b) => b.service === 'nova-compute')?.perInstancePerMinute;
}
