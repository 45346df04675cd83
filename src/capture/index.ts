/** Capture sources: files of every format, tcpdump, the RabbitMQ firehose, replay. */

export { amqpUrlForVhost } from './broker-endpoints.ts';
export { type FirehoseOptions, FirehoseSource, type FirehoseStats, type TracingState } from './firehose.ts';
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
export { TracingLogWriter } from './tracing-log-writer.ts';
