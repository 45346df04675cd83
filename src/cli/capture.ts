/**
 * `rpcscope capture --amqp URL --vhost V -o FILE [--duration D]`: live firehose capture written
 * in the rabbitmq_tracing plugin's JSON log format.
 * `rpcscope capture --tcpdump IFACE -o FILE.pcap [--duration D]`: tcpdump of the AMQP port.
 * Stops after --duration, or on Ctrl-C / SIGTERM; tracing is restored on every way out.
 */
import { type Command, Option } from '@commander-js/extra-typings';
import { FirehoseSource, TracingLogWriter } from '../capture/firehose.ts';
import { startTcpdump } from '../capture/tcpdump.ts';
import { exitStatus, RpcscopeError } from '../errors.ts';
import type { CaptureEvent } from '../records.ts';
import { onStopSignal, type StopHandle } from '../util/stop.ts';
import { redactUrl } from '../util/url.ts';
import { countOption, durationOption, hiddenAlias, outputOption, portOption } from './options.ts';

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
}

/**
 * Live counters on stderr: on a TTY one line rewritten in place, otherwise a plain line every
 * few seconds (logs and CI output stay readable).
 */
function ticker(render: () => string): { stop(final: string): void } {
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  const line = () => `[capture] ${render()}, ${((Date.now() - started) / 1000).toFixed(1)} s`;
  const timer = setInterval(
    () => {
      if (tty) process.stderr.write(`\r\x1b[K${line()}`);
      else process.stderr.write(`${line()}\n`);
    },
    tty ? 250 : 5000,
  );
  timer.unref();
  return {
    stop(final: string) {
      clearInterval(timer);
      if (tty) process.stderr.write('\r\x1b[K');
      process.stderr.write(`[capture] ${final}\n`);
    },
  };
}

/**
 * Resolves on the first of: duration elapsed, the first Ctrl-C/SIGTERM, or `until` settling. The
 * stop handle stays installed until the command is done, so a second signal while tracing is
 * restored and the file flushed exits 130 (src/util/stop.ts).
 */
function waitForStop(
  durationS: number | undefined,
  until: Promise<unknown>,
  stop: StopHandle,
): Promise<string> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (why: string) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve(why);
    };
    void stop.stopped.then(finish);
    if (durationS !== undefined)
      timer = setTimeout(() => finish(`duration ${durationS} s`), durationS * 1000);
    until.then(
      () => finish('source ended'),
      () => finish('source failed'),
    );
  });
}

async function captureFirehose(
  o: {
    amqp: string;
    vhost: string;
    out: string;
    duration?: number;
    management?: string;
    maxBacklog?: number;
  },
  stop: StopHandle,
): Promise<void> {
  const writer = new TracingLogWriter(o.out);
  const src = await FirehoseSource.open({
    amqpUrl: o.amqp,
    vhost: o.vhost,
    sink: writer,
    ...(o.management !== undefined ? { managementUrl: o.management } : {}),
    ...(o.maxBacklog !== undefined ? { maxBacklog: o.maxBacklog } : {}),
    onError: (e) => process.stderr.write(`\n[capture] ${redactUrl(e.message)}\n`),
  });
  const t0 = src.stats().tracing;
  process.stderr.write(
    `[capture] firehose of vhost "${o.vhost}" on ${redactUrl(o.amqp)} → ${o.out} (tracing ${
      t0.wasOn ? 'was already on' : `turned on via ${t0.via}`
    }); Ctrl-C to stop\n`,
  );
  const tick = ticker(() => {
    const s = src.stats();
    return `${s.published} published, ${s.delivered} delivered, ${s.dropped} dropped, ${mb(s.bytes)}`;
  });
  let why: string;
  try {
    why = await waitForStop(o.duration, src.done, stop);
  } finally {
    await src.close();
  }
  const s = src.stats();
  const file = await writer.close();
  const restored =
    s.tracing.restored === 'off'
      ? 'tracing restored off'
      : s.tracing.restored === 'left-on'
        ? `tracing left on (${s.tracing.restoreNote ?? ''})`
        : `TRACING NOT RESTORED: ${s.tracing.restoreNote ?? ''}`;
  tick.stop(
    `stopped (${why}): ${s.published} published, ${s.delivered} delivered, ${s.dropped} dropped, ${s.sinkErrors} unwritable; ${file.records} records, ${mb(file.bytes)} → ${o.out}; ${restored}`,
  );
  if (s.lastError !== undefined && why === 'source failed')
    process.stderr.write(`[capture] ${s.lastError}\n`);
  if (s.dropped > 0 || s.sinkErrors > 0) process.exitCode = exitStatus('RPCSCOPE_OUTPUT_LOST');
  else if (s.tracing.restored === 'failed') process.exitCode = exitStatus('RPCSCOPE_MANAGEMENT_API');
}

async function captureTcpdump(
  o: {
    tcpdump: string;
    out: string;
    duration?: number;
    port?: number;
  },
  stop: StopHandle,
): Promise<void> {
  let published = 0;
  let delivered = 0;
  const counter = {
    event(e: CaptureEvent) {
      if (e.type !== 'message') return;
      if (e.message.event === 'publish') published++;
      else if (e.message.event === 'deliver') delivered++;
    },
  };
  const run = startTcpdump({
    iface: o.tcpdump,
    outFile: o.out,
    sink: counter,
    ...(o.port !== undefined ? { port: o.port } : {}),
  });
  // `done` rejects too when tcpdump cannot start; `ready` reports that, so do not leave it unhandled.
  run.done.catch(() => undefined);
  await run.ready;
  process.stderr.write(
    `[capture] tcpdump -i ${o.tcpdump} tcp port ${o.port ?? 5672} → ${o.out}; Ctrl-C to stop\n`,
  );
  const tick = ticker(() => `${published} published, ${delivered} delivered`);
  let why: string;
  try {
    why = await waitForStop(o.duration, run.done, stop);
  } finally {
    await run.stop().catch(() => undefined);
  }
  const r = await run.done;
  tick.stop(
    `stopped (${why}): ${published} published, ${delivered} delivered; ${mb(r.bytes)} of pcap → ${o.out}${
      r.skipped.bytes > 0 ? `; ${r.skipped.bytes} bytes not decodable as AMQP` : ''
    }`,
  );
}

export function register(program: Command): void {
  program
    .command('capture')
    .addOption(
      new Option('--amqp <url>', 'AMQP URL of the broker (amqp://user:pass@host:5672)').conflicts('tcpdump'),
    )
    .option('--vhost <vhost>', 'vhost to capture with --amqp (tracing is per vhost)')
    .addOption(new Option('--tcpdump <iface>', 'capture with tcpdump on this interface (lo, eth0, any)'))
    .addOption(outputOption('output file: tracing JSON log (--amqp) or pcap (--tcpdump)'))
    .addOption(hiddenAlias('--out <file>', '--output'))
    .addOption(durationOption('-d, --duration <d>', 'stop after this long (default: until Ctrl-C)'))
    .addOption(portOption('--port <port>', 'AMQP port for --tcpdump').default(5672))
    .option(
      '--management <url>',
      'management API URL for switching tracing (default http://<amqp host>:15672; RPCSCOPE_MGMT_USER/PASS)',
    )
    .addOption(
      countOption(
        '--max-backlog <n>',
        'trace messages the broker may hold for us before it drops the oldest (counted)',
      ),
    )
    .action(async ({ output, out, ...o }) => {
      const file = output ?? out;
      if (file === undefined)
        throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', 'give -o FILE: where the capture is written');
      const stop = onStopSignal();
      try {
        await capture({ ...o, out: file }, stop);
      } finally {
        stop.dispose();
      }
    });
}

async function capture(
  o: {
    amqp?: string;
    vhost?: string;
    tcpdump?: string;
    out: string;
    duration?: number;
    port: number;
    management?: string;
    maxBacklog?: number;
  },
  stop: StopHandle,
): Promise<void> {
  if (o.tcpdump !== undefined) {
    await captureTcpdump(
      {
        tcpdump: o.tcpdump,
        out: o.out,
        port: o.port,
        ...(o.duration !== undefined ? { duration: o.duration } : {}),
      },
      stop,
    );
    return;
  }
  if (o.amqp === undefined || o.vhost === undefined)
    throw new RpcscopeError(
      'RPCSCOPE_BAD_ARGUMENT',
      'give --amqp URL --vhost V (firehose) or --tcpdump IFACE',
    );
  await captureFirehose(
    {
      amqp: o.amqp,
      vhost: o.vhost,
      out: o.out,
      ...(o.duration !== undefined ? { duration: o.duration } : {}),
      ...(o.management !== undefined ? { management: o.management } : {}),
      ...(o.maxBacklog !== undefined ? { maxBacklog: o.maxBacklog } : {}),
    },
    stop,
  );
}
