/**
 * `rpcscope watch`: live metrics, hazards and dashboard from the firehose (default), tcpdump or a
 * replayed capture. Argument parsing and printing only; the work is in src/watch/watch.ts.
 */
import type { Command } from '@commander-js/extra-typings';
import { exitStatus, RpcscopeError } from '../errors.ts';
import { onStopSignal } from '../util/stop.ts';
import { redactUrl } from '../util/url.ts';
import { DEFAULT_AMQP_URL, parseDuration, parseSize, type SourceSpec, startWatch } from '../watch/watch.ts';
import { parseListen } from '../web/server.ts';
import { forFlag } from './flags.ts';

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
    .option('--vhost <vhost>', 'vhost to watch by firehose (repeat for several)', collect, [] as string[])
    .option(
      '--tcpdump <iface>',
      'watch a live tcpdump on this interface instead of the firehose (no broker cost)',
    )
    .option('--port <port>', 'with --tcpdump: the broker AMQP port', '5672')
    .option('--replay <file>', 'feed a recorded capture through the live pipeline')
    .option('--speed <n>', 'with --replay: N× the recorded pace ("max" = as fast as possible)', '1')
    .option('--http <host:port>', 'dashboard and /metrics listener', '127.0.0.1:9475')
    .option('--no-http', 'no dashboard or /metrics listener')
    .option(
      '--management <url>',
      'management API URL for hazards (default: AMQP host, port 15672, same credentials)',
    )
    .option('--no-health', 'do not poll the management API')
    .option('--poll <seconds>', 'management API poll interval', '5')
    .option(
      '--server-label',
      'fill the oslo.metrics `server` label (one series per host: mind the cardinality)',
    )
    .option('--max-label-values <n>', 'distinct values per label before "other"', '200')
    .option(
      '--max-backlog <n>',
      'firehose: trace messages the broker may hold for rpcscope before it drops (counted)',
    )
    .option('--store <path>', 'also write decoded messages and calls to this DuckDB file')
    .option('--retain <age>', 'with --store: delete records older than this (e.g. 7d, 12h)')
    .option('--retain-rows <n>', 'with --store: keep at most this many messages')
    .option('--retain-size <bytes>', 'with --store: keep the file under this size (e.g. 2G, 500M)')
    .option('--otlp <url>', 'send one span per RPC to this OTLP/HTTP traces endpoint (…/v1/traces)')
    .option(
      '--duration <seconds>',
      'stop after this many seconds (default: until Ctrl-C, or the end of --replay)',
    )
    .action(async (o) => {
      const picked = [o.tcpdump !== undefined, o.replay !== undefined].filter(Boolean).length;
      if (picked > 1) throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', 'give one of --tcpdump or --replay');
      let source: SourceSpec;
      if (o.tcpdump !== undefined) source = { kind: 'tcpdump', iface: o.tcpdump, port: Number(o.port) };
      else if (o.replay !== undefined) {
        const speed = o.speed === 'max' ? Number.POSITIVE_INFINITY : positive('--speed', o.speed);
        source = { kind: 'replay', path: o.replay, speed: speed ?? 1 };
      } else {
        const maxBacklog = positive('--max-backlog', o.maxBacklog);
        source = {
          kind: 'firehose',
          amqpUrl: o.amqp ?? process.env.RPCSCOPE_AMQP_URL ?? DEFAULT_AMQP_URL,
          vhosts: o.vhost.length > 0 ? o.vhost : ['/'],
          ...(maxBacklog !== undefined ? { maxBacklog } : {}),
        };
      }
      const { retain: retainText, retainSize, http } = o;
      const retain =
        retainText !== undefined ? forFlag('--retain', () => parseDuration(retainText)) : undefined;
      const retainRows = positive('--retain-rows', o.retainRows);
      const retainBytes =
        retainSize !== undefined ? forFlag('--retain-size', () => parseSize(retainSize)) : undefined;
      const durationS = positive('--duration', o.duration);
      const errors = new Map<string, number>();
      const w = await startWatch({
        source,
        ...(o.health === false
          ? { managementUrl: null }
          : o.management !== undefined
            ? { managementUrl: o.management }
            : {}),
        pollMs: (positive('--poll', o.poll) ?? 5) * 1000,
        ...(http !== false ? { http: forFlag('--http', () => parseListen(http)) } : {}),
        serverLabel: o.serverLabel === true,
        maxLabelValues: positive('--max-label-values', o.maxLabelValues) ?? 200,
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
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        void stop.stopped.then(done);
        if (durationS !== undefined) setTimeout(done, durationS * 1000).unref();
        w.ended.then(done, (e: unknown) => {
          process.stderr.write(`watch: source ended: ${e instanceof Error ? e.message : String(e)}\n`);
          done();
        });
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
      const lostSpans = w.otlp?.stats.failed ?? 0;
      if (dropped > 0 || lostSpans > 0) {
        process.stderr.write(
          `rpcscope: RPCSCOPE_OUTPUT_LOST: ${[dropped > 0 ? `${dropped} records dropped` : '', lostSpans > 0 ? `${lostSpans} spans not exported to ${o.otlp ?? ''}` : ''].filter(Boolean).join(', ')}\n`,
        );
        process.exitCode = exitStatus('RPCSCOPE_OUTPUT_LOST');
      }
    });
}
