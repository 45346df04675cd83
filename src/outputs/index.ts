/** Outputs: each a RecordSink the pipeline feeds (report, Prometheus, OTLP, store). */
export { type OtlpOptions, type OtlpStats, OtlpTraces, traceIdOf } from './otlp.ts';
export {
  type MetricsOptions,
  OSLO_BUCKETS,
  OSLO_CLIENT_LABELS,
  OSLO_SERVER_LABELS,
  RPCSCOPE_BUCKETS,
  type SourceCounters,
  WatchMetrics,
} from './prometheus.ts';
export {
  buildReport,
  type CallLine,
  type ConnectionLine,
  type MethodRow,
  type Percentiles,
  type Report,
  ReportAccumulator,
  type ReportMeta,
} from './report.ts';
export {
  EventStore,
  type ExportResult,
  exportParquet,
  type ReadStoreOptions,
  type Retention,
  readStore,
  type StoredRecords,
  type StoreOptions,
} from './store.ts';
