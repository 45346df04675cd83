/**
 * `report --live IFACE`: decode a live tcpdump through the Pipeline and build the report when the
 * duration is over or on Ctrl-C (SIGINT stops tcpdump, which flushes; then the report prints).
 */

import { startTcpdump } from '../capture/tcpdump.ts';
import { type Report, ReportAccumulator } from '../outputs/report.ts';
import { livePipeline } from '../pipeline/pipeline.ts';
import { RecordCounter } from '../pipeline/sink.ts';
import { onStopSignal } from '../util/stop.ts';

export async function reportLive(
  iface: string,
  durationS: number | undefined,
  port: number,
): Promise<Report> {
  const acc = new ReportAccumulator();
  // Streamed: a long live capture must not grow memory with every message.
  const seen = new RecordCounter();
  const pipeline = livePipeline([seen, acc]);
  const run = startTcpdump({
    iface,
    port,
    sink: pipeline,
    ...(durationS !== undefined ? { durationS } : {}),
  });
  // first Ctrl-C: stop tcpdump and report; a second one exits 130 (src/util/stop.ts)
  const stop = onStopSignal(() => {
    process.stderr.write('\nrpcscope: stopping capture…\n');
    run.stop().catch(() => undefined);
  });
  let published = 0;
  const progress = setInterval(() => {
    const n = seen.messages;
    if (n !== published) process.stderr.write(`report --live ${iface}: ${n} messages so far\n`);
    published = n;
  }, 2000);
  progress.unref();
  // expire calls past their expiration as the capture runs (bounded memory on long captures)
  const ticker = setInterval(() => pipeline.tick(Date.now()), 1000);
  ticker.unref();
  try {
    await run.ready;
    process.stderr.write(
      `report --live: capturing on ${iface} port ${port}${durationS !== undefined ? ` for ${durationS} s` : ''}; Ctrl-C to stop and report\n`,
    );
    const result = await run.done;
    pipeline.finish();
    return acc.result({
      inputs: [result],
      skipped: result.skipped,
      startMs: Number.isNaN(pipeline.startMs) ? Date.now() : pipeline.startMs,
      endMs: Number.isNaN(pipeline.endMs) ? Date.now() : pipeline.endMs,
      callStats: pipeline.callStats,
    });
  } finally {
    clearInterval(progress);
    clearInterval(ticker);
    stop.dispose();
  }
}
