/**
 * `report --live IFACE`: decode a live tcpdump through the Pipeline and build the report when the
 * duration is over or on Ctrl-C (SIGINT stops tcpdump, which flushes; then the report prints).
 */
import type { Loaded } from '../analyse/load.ts';
import { buildReport, type Report } from '../analyse/report.ts';
import { startTcpdump } from '../capture/tcpdump.ts';
import { Pipeline } from '../correlate/pipeline.ts';

export async function reportLive(
  iface: string,
  durationS: number | undefined,
  port: number,
): Promise<Report> {
  const pipeline = new Pipeline({ keep: true });
  const run = startTcpdump({
    iface,
    port,
    sink: pipeline,
    ...(durationS !== undefined ? { durationS } : {}),
  });
  const onSigint = () => {
    process.stderr.write('\nrpcscope: stopping capture…\n');
    run.stop().catch(() => undefined);
  };
  process.once('SIGINT', onSigint);
  let published = 0;
  const progress = setInterval(() => {
    const n = pipeline.messages.length;
    if (n !== published) process.stderr.write(`report --live ${iface}: ${n} messages so far\n`);
    published = n;
  }, 2000);
  progress.unref();
  try {
    await run.ready;
    process.stderr.write(
      `report --live: capturing on ${iface} port ${port}${durationS !== undefined ? ` for ${durationS} s` : ''}; Ctrl-C to stop and report\n`,
    );
    const result = await run.done;
    const { messages, calls, topology } = pipeline.finish();
    const loaded: Loaded = {
      inputs: [result],
      messages,
      calls,
      topology,
      skipped: result.skipped,
      startMs: Number.isNaN(pipeline.startMs) ? Date.now() : pipeline.startMs,
      endMs: Number.isNaN(pipeline.endMs) ? Date.now() : pipeline.endMs,
      callStats: pipeline.callStats,
    };
    return buildReport(loaded);
  } finally {
    clearInterval(progress);
    process.removeListener('SIGINT', onSigint);
  }
}
