/**
 * The emulator's entry points. A run is an Emulation (emulation.ts) with its Scheduler
 * (scheduler.ts) and Sampler (sampler.ts); these functions keep the call shape callers know.
 */
import { Emulation } from './emulation.ts';
import type { Scenario } from './scenario.ts';
import { methodKey } from './service-context.ts';
import type { EmulationHandle, EmulationOptions, EmulationResult } from './types.ts';

/** Starts an emulation; see EmulationHandle. */
export function startEmulation(scenario: Scenario, opts: EmulationOptions = {}): EmulationHandle {
  return new Emulation(scenario, opts).handle();
}

/** Runs a scenario to the end (duration or signal) and returns its result. */
export function runEmulation(scenario: Scenario, opts: EmulationOptions = {}): Promise<EmulationResult> {
  return startEmulation(scenario, opts).result;
}

export { methodKey };
