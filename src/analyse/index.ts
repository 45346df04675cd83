/** Analyses over correlated records: the RPC specification of operations, periodic background. */

export { Distribution, SampleBudget, SKETCH_ACCURACY } from './distribution.ts';
export { backgroundPerHypervisorPerMinute, HEADLINE_BACKGROUND_CAPTURE } from './headline.ts';
export {
  analyseBackground,
  BACKGROUND_HELD,
  BackgroundAccumulator,
  type BackgroundOptions,
  type BackgroundService,
  type PeriodicRpc,
} from './periodic.ts';
export {
  buildSpec,
  type CountStat,
  EXACT_SAMPLES,
  type Spec,
  type SpecBackgroundNote,
  SpecFold,
  type SpecFoldOptions,
  type SpecInput,
  type SpecOperation,
  type SpecOptions,
  type SpecRpc,
  type SpecScaling,
  type SpecStatistics,
  type SpecWindow,
} from './spec.ts';
export { loadSpecInput, type SpecLoaded, type SpecLoadOptions } from './spec-load.ts';
export {
  HOLD_MESSAGES,
  LATE_MS,
  QUIET_MS,
  readSpec,
  type SpecRead,
  type SpecStreamOptions,
  type SpecWireFacts,
} from './spec-stream.ts';
