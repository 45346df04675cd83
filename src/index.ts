/**
 * rpcscope as a library: `import { … } from 'rpcscope'`. One named export per stage of the
 * pipeline (sources → decode → correlate → outputs) and per application (spec, model, emulate,
 * chaos, report), taken from each folder's barrel. The names are listed one by one, no
 * `export *`: what is public is what this file says (docs/api.md documents it).
 */

// spec: what each operation sends, and the periodic background of each service
export {
  analyseBackground,
  buildSpec,
  Distribution,
  loadSpecInput,
  readSpec,
  SampleBudget,
  type Spec,
  type SpecFoldOptions,
  type SpecInput,
  type SpecLoaded,
  type SpecOperation,
  type SpecOptions,
  type SpecRead,
  type SpecStatistics,
  type SpecStreamOptions,
} from './analyse/index.ts';
export { Cluster, type QueueMode } from './broker/cluster.ts';

// sources: capture files of every format, tcpdump, the firehose, replay
export {
  type CaptureFormat,
  detectFormat,
  type FirehoseOptions,
  FirehoseSource,
  type FirehoseStats,
  type PcapFileOptions,
  type ReadOptions,
  ReplaySource,
  readCaptureFile,
  readFirehoseJsonlFile,
  readPcapFile,
  readTracingFile,
  type SourceResult,
  startTcpdump,
  type TcpdumpOptions,
  type TcpdumpRun,
  TracingLogWriter,
} from './capture/index.ts';
// chaos: faults on a timeline against a local cluster, every message accounted for
export {
  type ChaosResult,
  type ChaosRunOptions,
  type ChaosScenario,
  parseChaosScenario,
  runChaos,
} from './chaos/index.ts';

// correlate: calls ⇄ replies, operations by request id, services behind connections
export {
  aliasFor,
  buildOperations,
  CallCorrelator,
  type CallCorrelatorOptions,
  type CallStats,
  type ConnectionService,
  type Grouping,
  identifyServices,
  type Operation,
  type OperationStep,
  specResolver,
} from './correlate/index.ts';
// model and emulate: a scenario from a spec, replayed by emulated services on a real RabbitMQ
export {
  type EmulationHandle,
  type EmulationOptions,
  type EmulationResult,
  modelFromSpec,
  parseScenario,
  runEmulation,
  type Scenario,
  scenarioJsonSchema,
  startEmulation,
  wireFacts,
} from './emulate/index.ts';
export type { ModelOptions } from './emulate/model.ts';
export type { ScenarioInput } from './emulate/scenario.ts';
// errors: one class, one catalogue of codes with their exit statuses
export {
  ERROR_CODES,
  type ErrorCode,
  type ErrorContext,
  EXIT,
  EXIT_MEANING,
  type ExitStatus,
  exitStatus,
  isRpcscopeError,
  RpcscopeError,
} from './errors.ts';
// outputs: each a RecordSink (report, Prometheus metrics, OTLP traces, DuckDB store)
export {
  buildReport,
  EventStore,
  exportParquet,
  OtlpTraces,
  type Report,
  ReportAccumulator,
  WatchMetrics,
} from './outputs/index.ts';
// the pipeline that assembles those stages, and the contract every output implements
export {
  type Loaded,
  type LoadOptions,
  livePipeline,
  loadCaptures,
  Pipeline,
  type PipelineOptions,
  type PipelineResult,
  RecordCounter,
  type RecordSink,
  SinkFanOut,
} from './pipeline/index.ts';
// the records that flow between the stages
export type {
  AmqpProperties,
  CallOutcome,
  CaptureEvent,
  CaptureSink,
  ConnectionRef,
  DecodeIssue,
  RemoteFailure,
  RpcCall,
  RpcKind,
  RpcMessage,
  SkipStats,
  SourceKind,
  TopologyEvent,
  WireEvent,
  WireMessage,
} from './records.ts';
// render: text, Markdown, HTML and SVG views
export {
  renderChaosHtml,
  renderEmulationHtml,
  renderEmulationSummary,
  renderReport,
  renderSequenceSvg,
  renderSpecHtml,
  renderSpecMarkdown,
} from './render/index.ts';
// decode: pcap → TCP → AMQP frames → oslo.messaging messages (no I/O)
export {
  AmqpConnection,
  AmqpFrameStream,
  classify,
  DecodeContext,
  decodeRpc,
  type PcapDecodeOptions,
  type PcapReadResult,
  PcapStreamDecoder,
  parseQueueName,
  redactValue,
  TcpFlows,
} from './wire/index.ts';
