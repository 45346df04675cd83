/** Public exports of the emulator (used by `rpcscope emulate`, `rpcscope chaos`, the bench). */

export { renderHtml } from '../render/emulation-html.ts';
export { renderSummary } from '../render/emulation-text.ts';
export { type AccountedKind, Accounting, type AccountingCounts, type MessageRecord } from './accounting.ts';
export { Emulation } from './emulation.ts';
export { runEmulation, startEmulation } from './emulator.ts';
export { findLimit, judge, parseObjectives } from './findlimit.ts';
export { mergeResults } from './merge.ts';
export { modelFromSpec, wireFacts } from './model.ts';
export { parseShard, planServices } from './plan.ts';
export { expectedRates, rateKey } from './rates.ts';
export { type SampledRun, Sampler, sampleBroker } from './sampler.ts';
export { hostName, parseScenario, type Scenario, scenarioJsonSchema, withCounts } from './scenario.ts';
export { Scheduler } from './scheduler.ts';
export type {
  BrokerSample,
  EmulationEvent,
  EmulationHandle,
  EmulationOptions,
  EmulationResult,
  MethodStats,
  Phase,
  Sample,
  ShardSpec,
} from './types.ts';
