/** Capture sources: files of every format, tcpdump, the RabbitMQ firehose, replay. */

export {
  amqpUrlForVhost,
  type FirehoseOptions,
  FirehoseSource,
  type FirehoseStats,
  TracingLogWriter,
  type TracingState,
} from './firehose.ts';
export { readFirehoseJsonlFile } from './firehose-jsonl.ts';
export {
  type CaptureFormat,
  detectFormat,
  type ReadOptions,
  readCaptureFile,
  type SourceResult,
} from './open.ts';
export { type PcapFileOptions, readPcapFile } from './pcap-file.ts';
export { type ReplayOptions, ReplaySource } from './replay.ts';
export { startTcpdump, type TcpdumpOptions, type TcpdumpRun } from './tcpdump.ts';
export { formatTracingRecord, readTracingFile } from './tracing.ts';
