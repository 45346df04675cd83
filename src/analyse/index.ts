/** Analyses over correlated records: the RPC specification of operations, periodic background. */

export { backgroundPerHypervisorPerMinute, HEADLINE_BACKGROUND_CAPTURE } from './headline.ts';
export {
  analyseBackground,
  BackgroundAccumulator,
  type BackgroundOptions,
  type BackgroundService,
  type PeriodicRpc,
} from './periodic.ts';
export {
  buildSpec,
  type CountStat,
  type Spec,
  type SpecBackgroundNote,
  SpecFold,
  type SpecInput,
  type SpecOperation,
  type SpecOptions,
  type SpecRpc,
  type SpecScaling,
  type SpecWindow,
} from './spec.ts';
export { loadSpecInput, type SpecLoaded, type SpecLoadOptions } from './spec-load.ts';
export {
  HOLD_MESSAGES,
  QUIET_MS,
  readSpec,
  type SpecRead,
  type SpecStreamOptions,
  type SpecWireFacts,
} from './spec-stream.ts';
