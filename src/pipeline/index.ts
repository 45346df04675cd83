/** The pipeline: sources → decode → correlate → RecordSinks, offline (files) or live. */
export { joinCalls, type Loaded, type LoadOptions, loadCaptures } from './load.ts';
export {
  type LivePipelineOptions,
  livePipeline,
  Pipeline,
  type PipelineOptions,
  type PipelineResult,
} from './pipeline.ts';
export {
  type FanOutOptions,
  RecordCounter,
  type RecordSink,
  type SinkErrorHandler,
  SinkFanOut,
} from './sink.ts';
