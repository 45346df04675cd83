/** Public exports of the chaos runner (used by `rpcscope chaos`, the library face and the e2e tests). */

export { haTable, PERFORMANCE_DOCS_35, type PublishedFigure } from './ha.ts';
export { buildLedger, byKind, type Ledger, type LedgerInput, type LedgerRow } from './ledger.ts';
export { type ChaosScenario, parseChaosScenario } from './load.ts';
export { FaultProxy, type ProxyOptions, type Upstream } from './proxy.ts';
export {
  type Baseline,
  type Bucket,
  baseline,
  bucketize,
  type CallSample,
  recoverySeconds,
} from './recovery.ts';
export { writeChaosReport } from './report.ts';
export { runChaos } from './run.ts';
export {
  ChaosSection,
  checkFaults,
  describeFault,
  Fault,
  type FaultAction,
  parseDuration,
  parseFaultFlag,
} from './timeline.ts';
export { type Direction, describeToxic, type Toxic, type ToxicType } from './toxics.ts';
export type { BrokerCounters, ChaosResult, ChaosRunOptions, FaultRecord, TimelinePoint } from './types.ts';
