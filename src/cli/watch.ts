/**
 * `rpcscope watch`: live metrics, hazards and dashboard from the firehose (default), tcpdump or a
 * replayed capture. Argument parsing and printing only; the work is in src/watch/watch.ts.
 */
import type { Command } from '@commander-js/extra-typings';
import { exitStatus, RpcscopeError } from '../errors.ts';
import { onStopSignal } from '../util/stop.ts';
import { redactUrl } from '../util/url.ts';
import { DEFAULT_AMQP_URL, type SourceSpec, startWatch } from '../watch/watch.ts';
import { parseListen } from '../web/server.ts';
import { forFlag } from './flags.ts';
import { countOption, durationOption, portOption, sizeOption } from './options.ts';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0))
    throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `${name} must be a positive number, not ${v}`);
  return n;
}

export function register(program: Command): void {
  program
    .command('watch')
    .option(
      '--amqp <url>',
      'broker AMQP URL for the firehose (or RPCSCOPE_AMQP_URL); credentials are never printed',
    )
    .option(
      '--vhost <vhost>',
      'vhost to watch by firehose; with --tcpdump or --replay, only this vhost (repeat for several)',
      collect,
      [] as string[],
    )
    .option(
      '--tcpdump <iface>',
      'watch a live tcpdump on this interface instead of the firehose (no broker cost)',
    )
    .addOption(portOption('--port <port>', 'with --tcpdump: the broker AMQP port').default(5672))
    .option('--replay <file>', 'feed a recorded capture through the live pipeline')
    .option('--speed <n>', 'with --replay: N× the recorded pace ("max" = as fast as possible)', '1')
    .option('--http <host:port>', 'dashboard and /metrics listener', '127.0.0.1:9475')
    .option('--no-http', 'no dashboard or /metrics listener')
    .option(
      '--management <url>',
      'management API URL for hazards (default: AMQP host, port 15672, same credentials)',
    )
    .option('--no-health', 'do not poll the management API')
    .addOption(durationOption('--poll <d>', 'management API poll interval').default(5))
    .option(
      '--server-label',
      'fill the oslo.metrics `server` label (one series per host: mind the cardinality)',
    )
    .addOption(countOption('--max-label-values <n>', 'distinct values per label before "other"').default(200))
    .addOption(
      countOption(
        '--max-backlog <n>',
        'firehose: trace messages the broker may hold for rpcscope before it drops (counted)',
      ),
    )
    .option('--store <path>', 'also write decoded messages and calls to this DuckDB file')
    .addOption(durationOption('--retain <d>', 'with --store: delete records older than this'))
    .addOption(countOption('--retain-rows <n>', 'with --store: keep at most this many messages'))
    .addOption(sizeOption('--retain-size <size>', 'with --store: keep the file under this size'))
    .option(
      '--otlp <url>',
      'send OpenTelemetry messaging spans (publish, receive, process) to this OTLP/HTTP collector: a base URL (http://host:4318) or a …/v1/traces endpoint; default from OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT when set',
    )
    .addOption(
      durationOption('--duration <d>', 'stop after this long, whatever the source (default: until Ctrl-C)'),
    )
    .option(
      '--exit-at-end',
      'with --replay (or tcpdump ending): stop once everything replayed is visible, instead of serving until Ctrl-C',
    )
    .action(async (o) => {
      const picked = [o.tcpdump !== undefined, o.replay !== undefined].filter(Boolean).length;
      if (picked > 1) throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', 'give one of --tcpdump or --replay');
      let source: SourceSpec;
      if (o.tcpdump !== undefined) source = { kind: 'tcpdump', iface: o.tcpdump, port: o.port };
      else if (o.replay !== undefined) {
        const speed = o.speed === 'max' ? Number.POSITIVE_INFINITY : positive('--speed', o.speed);
        source = { kind: 'replay', path: o.replay, speed: speed ?? 1 };
      } else {
        const maxBacklog = o.maxBacklog;
        source = {
          kind: 'firehose',
          amqpUrl: o.amqp ?? process.env.RPCSCOPE_AMQP_URL ?? DEFAULT_AMQP_URL,
          vhosts: o.vhost.length > 0 ? o.vhost : ['/'],
          ...(maxBacklog !== undefined ? { maxBacklog } : {}),
        };
      }
      const { http, retainRows, retainSize: retainBytes, duration: durationS } = o;
      const retain = o.retain !== undefined ? o.retain * 1000 : undefined;
      const errors = new Map<string, number>();
      const w = await startWatch({
        source,
        ...(source.kind !== 'firehose' && o.vhost.length > 0
          ? { vhosts: o.vhost, healthVhosts: o.vhost }
          : {}),
        ...(o.health === false
          ? { managementUrl: null }
          : o.management !== undefined
            ? { managementUrl: o.management }
            : {}),
        pollMs: o.poll * 1000,
        ...(http !== false ? { http: forFlag('--http', () => parseListen(http)) } : {}),
        serverLabel: o.serverLabel === true,
        maxLabelValues: o.maxLabelValues,
        ...(o.store !== undefined
          ? {
              store: {
                path: o.store,
                retention: {
                  ...(retain !== undefined ? { maxAgeMs: retain } : {}),
                  ...(retainRows !== undefined ? { maxRows: retainRows } : {}),
                  ...(retainBytes !== undefined ? { maxBytes: retainBytes } : {}),
                },
              },
            }
          : {}),
        ...(o.otlp !== undefined ? { otlpUrl: o.otlp } : {}),
        onOtlpError: (f) =>
          process.stderr.write(
            `rpcscope: RPCSCOPE_OUTPUT_LOST: otlp: ${f.spans} spans not exported to ${f.url}: ${f.error}\n`,
          ),
        onError: (where, e) => {
          // Repeated background errors are counted; the first of each kind is shown.
          const n = (errors.get(where) ?? 0) + 1;
          errors.set(where, n);
          if (n === 1)
            process.stderr.write(
              `watch: ${where}: ${redactUrl(e instanceof Error ? e.message : String(e))}\n`,
            );
        },
      });
      for (const d of w.describe) process.stderr.write(`watch: ${d}\n`);
      if (w.dashboard !== undefined) {
        process.stderr.write(`watch: dashboard ${w.dashboard.url}\n`);
        process.stderr.write(`watch: metrics ${w.dashboard.url}metrics\n`);
      }
      if (w.store !== undefined) process.stderr.write(`watch: storing to ${o.store}\n`);
      process.stderr.write('watch: ready\n');

      const status = setInterval(() => {
        const s = w.sourceStats();
        process.stderr.write(
          `watch: ${w.session.messages} messages, ${w.session.calls} calls; ${s.map((x) => `${x.name} ${x.received} in, ${x.dropped} dropped`).join('; ')}\n`,
        );
      }, 10_000);
      status.unref();

      // first Ctrl-C: stop and flush the outputs; a second one exits 130 (src/util/stop.ts)
      const stop = onStopSignal();
      let sourceFailed: unknown;
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        void stop.stopped.then(done);
        if (durationS !== undefined) setTimeout(done, durationS * 1000).unref();
        // A finite source's end: everything it gave is visible; serve on unless --exit-at-end.
        w.ended.then(
          () => {
            process.stderr.write(
              `watch: end of input: ${w.session.messages} messages, ${w.session.calls} calls${o.exitAtEnd === true ? '' : `; still serving until Ctrl-C${durationS !== undefined ? ' or the end of --duration' : ''}`}\n`,
            );
            if (o.exitAtEnd === true) done();
          },
          (e: unknown) => {
            sourceFailed = e;
            process.stderr.write(`watch: source ended: ${e instanceof Error ? e.message : String(e)}\n`);
            done();
          },
        );
      });
      clearInterval(status);
      try {
        await w.stop();
      } finally {
        stop.dispose();
      }
      const s = w.sourceStats();
      const dropped = s.reduce((n, x) => n + x.dropped, 0);
      process.stderr.write(
        `watch: stopped: ${w.session.messages} messages, ${w.session.calls} calls, ${dropped} dropped${
          w.store !== undefined ? `, ${w.store.messagesWritten} messages stored` : ''
        }${w.otlp !== undefined ? `, ${w.otlp.stats.exported} spans exported (${w.otlp.stats.failed} failed)` : ''}\n`,
      );
      if (sourceFailed !== undefined)
        process.exitCode =
          sourceFailed instanceof RpcscopeError ? sourceFailed.exitStatus : exitStatus('RPCSCOPE_INTERNAL');
      const lostSpans = w.otlp?.stats.failed ?? 0;
      if (dropped > 0 || lostSpans > 0) {
        process.stderr.write(
          `rpcscope: RPCSCOPE_OUTPUT_LOST: ${[dropped > 0 ? `${dropped} records dropped` : '', lostSpans > 0 ? `${lostSpans} spans not exported to ${w.otlp?.endpoint.url ?? o.otlp ?? ''}` : ''].filter(Boolean).join(', ')}\n`,
        );
        process.exitCode = exitStatus('RPCSCOPE_OUTPUT_LOST');
      }
    });
}
