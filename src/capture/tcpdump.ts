/**
 * Live capture with tcpdump: `tcpdump -i IFACE -s 0 -U -w - 'tcp port PORT'` writes pcap to its
 * stdout packet by packet (-U); the bytes are teed to a file and/or decoded as they arrive.
 * Stopping is SIGINT to tcpdump, which flushes and exits; the caller decides when (its own
 * SIGINT handler, a duration).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { RpcscopeError } from '../errors.ts';
import type { CaptureSink } from '../records.ts';
import { MAX_ISSUES } from '../wire/context.ts';
import { DEFAULT_AMQP_PORT, type PcapReadResult, PcapStreamDecoder } from '../wire/pcap/decoder.ts';

export interface TcpdumpOptions {
  iface: string;
  port?: number;
  /** Also write the raw pcap here. */
  outFile?: string;
  /** Decode live into this sink. */
  sink?: CaptureSink;
  /** Stop by itself after this many seconds. */
  durationS?: number;
  /** Kernel capture buffer in KiB (tcpdump -B; default 65536). */
  bufferKiB?: number;
  /** tcpdump binary (default: `tcpdump` on PATH). */
  tcpdumpPath?: string;
}

export interface TcpdumpRun {
  /** Resolves when tcpdump has opened the interface ("listening on ..."): packets from now on are captured. */
  ready: Promise<void>;
  /** Resolves when tcpdump has exited and everything it wrote is decoded (and written to outFile). */
  done: Promise<PcapReadResult>;
  /** SIGINT to tcpdump, then `done`. Idempotent. */
  stop(): Promise<PcapReadResult>;
}

export function startTcpdump(opts: TcpdumpOptions): TcpdumpRun {
  const port = opts.port ?? DEFAULT_AMQP_PORT;
  const label = `tcpdump -i ${opts.iface} port ${port}`;
  const bin = opts.tcpdumpPath ?? 'tcpdump';
  // --immediate-mode: hand each packet over at once; otherwise TPACKET_V3 holds packets in the
  // kernel ring for up to the 1 s buffer timeout, and SIGINT would lose what is still there.
  // -B: a 64 MiB ring (default 2 MiB) so bursts of 64 KiB loopback segments are not dropped.
  const args = [
    '-i',
    opts.iface,
    '-s',
    '0',
    '-B',
    String(opts.bufferKiB ?? 65536),
    '-U',
    '--immediate-mode',
    '-w',
    '-',
    `tcp port ${port}`,
  ];
  const child = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const dec =
    opts.sink === undefined ? undefined : new PcapStreamDecoder(label, opts.sink, { amqpPort: port });
  const out: WriteStream | undefined =
    opts.outFile === undefined ? undefined : createWriteStream(opts.outFile);
  let bytes = 0;
  let stderr = '';
  let decodeError: unknown;
  let readyResolve!: () => void;
  let readyReject!: (e: unknown) => void;
  const ready = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  // `ready` may be ignored by callers; its rejection is reported through `done` too.
  ready.catch(() => undefined);

  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 65536) stderr += s;
    if (/listening on/.test(stderr)) readyResolve();
  });
  let lastData = Date.now();
  child.stdout.on('data', (chunk: Buffer) => {
    lastData = Date.now();
    bytes += chunk.length;
    out?.write(chunk);
    if (dec !== undefined && decodeError === undefined) {
      try {
        dec.push(chunk);
      } catch (e) {
        decodeError = e; // only RPCSCOPE_INPUT_FORMAT: tcpdump wrote something that is not pcap
        child.kill('SIGINT');
      }
    }
  });

  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<PcapReadResult>((resolve, reject) => {
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      const finish = (): void => {
        const err = failure(spawnError, code, signal, stderr, bin, opts.iface, decodeError);
        if (err !== undefined) {
          readyReject(err);
          reject(err);
          return;
        }
        readyResolve();
        try {
          const r: PcapReadResult =
            dec !== undefined
              ? dec.end()
              : {
                  input: label,
                  bytes,
                  packets: 0,
                  connections: 0,
                  skipped: { bytes: 0, frames: 0, records: 0, issues: [] },
                };
          // tcpdump's exit statistics: packets the kernel dropped never reached the capture.
          const dropped = Number(/(\d+) packets? dropped by kernel/.exec(stderr)?.[1] ?? 0);
          if (dropped > 0) {
            r.skipped.records += dropped;
            if (r.skipped.issues.length < MAX_ISSUES)
              r.skipped.issues.push({
                input: label,
                offset: r.bytes,
                message: `tcpdump: ${dropped} packets dropped by the kernel (raise bufferKiB)`,
              });
          }
          resolve(r);
        } catch (e) {
          reject(e);
        }
      };
      if (out !== undefined) out.end(finish);
      else finish();
    });
  });

  // A caller that only awaits `ready` (which rejects too) must not crash on an unhandled `done`.
  done.catch(() => undefined);

  let stopping: Promise<PcapReadResult> | undefined;
  const stop = (): Promise<PcapReadResult> => {
    if (stopping === undefined) {
      stopping = quiet(() => lastData, child.exitCode !== null || child.signalCode !== null).then(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
        return done;
      });
    }
    return stopping;
  };
  if (opts.durationS !== undefined) {
    timer = setTimeout(() => {
      stop().catch(() => undefined);
    }, opts.durationS * 1000);
  }
  return { ready, done, stop };
}

/**
 * Waits until tcpdump has written nothing for QUIET_MS (at most MAX_DRAIN_MS), so packets sent
 * just before stop() are written before SIGINT ends the capture.
 */
const QUIET_MS = 250;
const MAX_DRAIN_MS = 2000;

async function quiet(last: () => number, exited: boolean): Promise<void> {
  if (exited) return;
  const until = Date.now() + MAX_DRAIN_MS;
  while (Date.now() < until && Date.now() - last() < QUIET_MS) {
    await new Promise((r) => setTimeout(r, 25));
  }
}

function failure(
  spawnError: NodeJS.ErrnoException | undefined,
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
  bin: string,
  iface: string,
  decodeError: unknown,
): unknown {
  if (spawnError !== undefined) {
    if (spawnError.code === 'ENOENT')
      return new RpcscopeError(
        'RPCSCOPE_TOOL_MISSING',
        `${bin} not found: install it (apt-get install tcpdump) or use the firehose source`,
        {
          cause: spawnError,
        },
      );
    return new RpcscopeError('RPCSCOPE_TOOL_MISSING', `cannot run ${bin}: ${spawnError.message}`, {
      cause: spawnError,
    });
  }
  if (decodeError !== undefined) return decodeError;
  if (code === 0 || signal === 'SIGINT' || signal === 'SIGTERM') return undefined;
  const msg = stderr
    .trim()
    .split('\n')
    .filter((l) => !/^(tcpdump: )?listening on|packets (captured|received|dropped)|Running as user/.test(l))
    .join('; ');
  if (/permission|not permitted|Operation not permitted/i.test(stderr))
    return new RpcscopeError(
      'RPCSCOPE_TOOL_MISSING',
      `tcpdump may not capture on ${iface}: ${msg}. Run as root or grant it CAP_NET_RAW (setcap cap_net_raw,cap_net_admin=eip $(command -v tcpdump))`,
      {},
    );
  if (/No such device|doesn't exist|SIOCGIFHWADDR|no suitable device/i.test(stderr))
    return new RpcscopeError(
      'RPCSCOPE_BAD_ARGUMENT',
      `tcpdump: no interface ${iface} (${msg}); list them with ip link`,
      {},
    );
  return new RpcscopeError('RPCSCOPE_TOOL_MISSING', `tcpdump exited with ${code ?? signal}: ${msg}`, {});
}
