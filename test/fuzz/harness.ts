/**
 * The fuzz harness: seeded mutations of the real captures in data/nova-zed (and of the example
 * scenarios), decoded in-process by the same code `report` runs (sources → wire → pipeline).
 * An input "crashes" when anything but an RpcscopeError with a catalogued code escapes, or when a
 * decoded message carries a time no consumer can format. Used by the CI test (fixed seeds and
 * counts) and by `npm run fuzz` (test/fuzz/run.ts, ≥ 1,000,000 inputs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { wireFromFirehoseJsonl } from '../../src/capture/firehose-jsonl.ts';
import { JsonLinesDecoder } from '../../src/capture/lines.ts';
import { detectFormat } from '../../src/capture/open.ts';
import type { SourceResult } from '../../src/capture/source.ts';
import { wireFromTracingRecord } from '../../src/capture/tracing.ts';
import { parseChaosScenario } from '../../src/chaos/load.ts';
import { parseScenario } from '../../src/emulate/scenario.ts';
import { ERROR_CODES, RpcscopeError } from '../../src/errors.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import type { CaptureEvent, CaptureSink, WireMessage } from '../../src/records.ts';
import { PcapStreamDecoder } from '../../src/wire/pcap/decoder.ts';
import { writePcapng } from '../capture/pcap-build.ts';

export type Format = 'pcap' | 'pcapng' | 'tracing' | 'firehose' | 'scenario' | 'chaos';
export const FORMATS: readonly Format[] = ['pcap', 'pcapng', 'tracing', 'firehose', 'scenario', 'chaos'];

const ROOT = join(import.meta.dirname, '..', '..');
const DATA = join(ROOT, 'data', 'nova-zed');
const CAPTURES = ['stop', 'start', 'delete', 'idle', 'boot'];

/** mulberry32: seeded, so every input replays from (format, seed, index). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: () => number, n: number): number => Math.floor(r() * n);

// ---------------------------------------------------------------------------------------------
// Corpus: real captures, cut into windows so one input decodes in well under a millisecond.

interface PcapRecord {
  ts: number;
  data: Uint8Array;
}

function pcapRecords(buf: Buffer): PcapRecord[] {
  const out: PcapRecord[] = [];
  let p = 24;
  while (p + 16 <= buf.length) {
    const incl = buf.readUInt32LE(p + 8);
    out.push({
      ts: buf.readUInt32LE(p) * 1000 + buf.readUInt32LE(p + 4) / 1000,
      data: buf.subarray(p + 16, p + 16 + incl),
    });
    p += 16 + incl;
  }
  return out;
}

export interface Corpus {
  readonly pcap: readonly Buffer[];
  readonly pcapRecords: readonly (readonly PcapRecord[])[];
  readonly tracing: readonly string[][];
  readonly firehose: readonly string[][];
  /** The example chaos scenarios, and the same without their `chaos:` section (plain scenarios). */
  readonly chaos: readonly string[];
  readonly scenarios: readonly string[];
}

let corpus: Corpus | undefined;

export function loadCorpus(): Corpus {
  if (corpus !== undefined) return corpus;
  const pcap = CAPTURES.map((c) => readFileSync(join(DATA, `${c}.pcap`)));
  const lines = (f: string): string[] =>
    readFileSync(join(DATA, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  const chaos = ['ha-kill', 'faults-tour'].map((n) =>
    readFileSync(join(ROOT, 'examples', 'chaos', `${n}.yaml`), 'utf8'),
  );
  corpus = {
    pcap,
    pcapRecords: pcap.map(pcapRecords),
    tracing: CAPTURES.map((c) => lines(`${c}.tracing.json`)),
    firehose: CAPTURES.map((c) => lines(`${c}.firehose.jsonl`)),
    chaos,
    scenarios: chaos.map((t) => t.slice(0, t.indexOf('\nchaos:') + 1)),
  };
  return corpus;
}

/** A window of `n` consecutive packets of a real capture, as a pcap (header + records). */
function pcapWindow(c: Corpus, r: () => number): Buffer {
  const i = int(r, c.pcap.length);
  const recs = c.pcapRecords[i]!;
  const n = 10 + int(r, 70);
  const from = int(r, 4) === 0 ? 0 : int(r, Math.max(1, recs.length - n)); // often from the handshake
  const parts: Buffer[] = [c.pcap[i]!.subarray(0, 24)];
  for (const rec of recs.slice(from, from + n)) {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.floor(rec.ts / 1000), 0);
    h.writeUInt32LE(Math.round((rec.ts % 1000) * 1000), 4);
    h.writeUInt32LE(rec.data.length, 8);
    h.writeUInt32LE(rec.data.length, 12);
    parts.push(h, Buffer.from(rec.data));
  }
  return Buffer.concat(parts);
}

function pcapngWindow(c: Corpus, r: () => number): Buffer {
  const i = int(r, c.pcap.length);
  const recs = c.pcapRecords[i]!;
  const n = 10 + int(r, 70);
  const from = int(r, 4) === 0 ? 0 : int(r, Math.max(1, recs.length - n));
  const tsresol = [undefined, 6, 9, 0x80 | 20][int(r, 4)];
  return Buffer.from(writePcapng(recs.slice(from, from + n), tsresol === undefined ? {} : { tsresol }));
}

function linesWindow(all: readonly string[][], r: () => number): string[] {
  const ls = all[int(r, all.length)]!;
  const n = 5 + int(r, 60);
  const from = int(r, Math.max(1, ls.length - n));
  return ls.slice(from, from + n);
}

// ---------------------------------------------------------------------------------------------
// Mutations. Each returns the mutated input and whether the damage is certain to be detected
// (then the decoder must count something skipped), plus the byte range the damage touches.

export interface Mutated<T> {
  readonly data: T;
  readonly kind: string;
  /** Damage that a decoder must notice (a garbage line, bytes inserted into a record stream…). */
  readonly detectable: boolean;
}

const HUGE_U32 = [0xffffffff, 0x7fffffff, 0x80000000, 0x10000, 0xfffffff0, 0];

export function mutateBytes(b: Buffer, r: () => number): Mutated<Buffer> {
  const out = Buffer.from(b);
  const at = 24 + int(r, Math.max(1, out.length - 24)); // keep the file header most of the time
  switch (int(r, 9)) {
    case 0: {
      const n = 1 + int(r, 16);
      for (let k = 0; k < n; k++) out[int(r, out.length)]! ^= 1 << int(r, 8);
      return { data: out, kind: 'bitflip', detectable: false };
    }
    case 1:
      return { data: out.subarray(0, at), kind: 'truncate', detectable: false };
    case 2: {
      // splice: a run of bytes from elsewhere in the input pasted over this place
      const from = int(r, out.length);
      const n = 1 + int(r, 2000);
      out.copy(out, at, from, from + n);
      return { data: out, kind: 'splice', detectable: false };
    }
    case 3: {
      // a length-like field made huge (u32 at any alignment, either byte order)
      if (at + 4 > out.length) return { data: out, kind: 'length', detectable: false };
      const v = HUGE_U32[int(r, HUGE_U32.length)]!;
      if (int(r, 2) === 0) out.writeUInt32LE(v, at);
      else out.writeUInt32BE(v, at);
      return { data: out, kind: 'length', detectable: false };
    }
    case 4: {
      // an AMQP content header body size (u64 after class/weight) made huge: find a frame-type 2
      const idx = out.indexOf(Buffer.from([0x02, 0x00]), at);
      if (idx < 0 || idx + 23 > out.length) return { data: out, kind: 'bodysize', detectable: false };
      out.writeUInt32BE(0xffffffff, idx + 11);
      out.writeUInt32BE(int(r, 0xffffffff), idx + 15);
      return { data: out, kind: 'bodysize', detectable: false };
    }
    case 5: {
      const n = 1 + int(r, 600);
      const g = Buffer.alloc(n);
      for (let k = 0; k < n; k++) g[k] = int(r, 256);
      return {
        data: Buffer.concat([out.subarray(0, at), g, out.subarray(at)]),
        kind: 'insert',
        detectable: true,
      };
    }
    case 6: {
      const n = 1 + int(r, 3000);
      return {
        data: Buffer.concat([out.subarray(0, at), out.subarray(at + n)]),
        kind: 'delete',
        detectable: false,
      };
    }
    case 7: {
      // duplicate a range (retransmission-like or record-stream damage)
      const n = 1 + int(r, 3000);
      return {
        data: Buffer.concat([out.subarray(0, at + n), out.subarray(at)]),
        kind: 'duplicate',
        detectable: false,
      };
    }
    default: {
      // file header damage: magic, version, snaplen, link type or pcapng if_tsresol
      const h = int(r, Math.min(out.length, 64));
      out[h] = int(r, 256);
      return { data: out, kind: 'header', detectable: false };
    }
  }
}

const HOSTILE_NUMBERS = [
  '1e300',
  '-1e300',
  '1e400',
  '-1',
  '0',
  '9007199254740993',
  '1.5',
  '-0',
  '4294967296',
];
const HOSTILE_VALUES = [
  'null',
  'true',
  '[]',
  '{}',
  '"x"',
  '"\\u0000\\u001b[31m\\r"',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `{"a":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`,
  `"${'A'.repeat(70000)}"`,
];

export function mutateLines(lines: string[], r: () => number): Mutated<string> {
  const ls = [...lines];
  const i = int(r, ls.length);
  const line = ls[i] ?? '';
  switch (int(r, 8)) {
    case 0: {
      // a number (ts, channel, sizes, seq) replaced by a hostile one
      const nums = [...line.matchAll(/-?\d+(\.\d+)?(e[+-]?\d+)?/g)];
      if (nums.length > 0) {
        const m = nums[int(r, nums.length)]!;
        ls[i] =
          line.slice(0, m.index) +
          HOSTILE_NUMBERS[int(r, HOSTILE_NUMBERS.length)]! +
          line.slice(m.index + m[0].length);
      }
      return { data: ls.join('\n'), kind: 'number', detectable: false };
    }
    case 1: {
      // a value replaced by one of another type, deep nesting or a long string
      const vals = [...line.matchAll(/:("(?:[^"\\]|\\.)*"|-?\d[\d.e+-]*|\{\}|\[\]|true|false|null)/g)];
      if (vals.length > 0) {
        const m = vals[int(r, vals.length)]!;
        ls[i] =
          `${line.slice(0, m.index! + 1)}${HOSTILE_VALUES[int(r, HOSTILE_VALUES.length)]!}${line.slice(m.index! + m[0].length)}`;
      }
      return { data: ls.join('\n'), kind: 'type', detectable: false };
    }
    case 2:
      ls.splice(i, 0, ['garbage', '{"x":', '\u0000\u0001\u0002', '{', '[1,2'][int(r, 5)]!);
      return { data: ls.join('\n'), kind: 'garbage-line', detectable: true };
    case 3:
      ls[i] = line.slice(0, int(r, line.length));
      return { data: ls.join('\n'), kind: 'cut-line', detectable: false };
    case 4: {
      const at = int(r, line.length);
      ls[i] = line.slice(0, at) + String.fromCharCode(int(r, 128)) + line.slice(at + 1);
      return { data: ls.join('\n'), kind: 'char', detectable: false };
    }
    case 5: {
      const j = int(r, ls.length);
      ls.splice(i, 0, ls[j] ?? '');
      return { data: ls.join('\n'), kind: 'duplicate-line', detectable: false };
    }
    case 6:
      // a line far over the decoder's line bound (set small in the harness)
      ls.splice(i, 0, `{"payload":"${'Q'.repeat(70000)}"}`);
      return { data: ls.join('\n'), kind: 'long-line', detectable: true };
    default: {
      const t = ls.join('\n');
      return { data: t.slice(0, int(r, t.length + 1)), kind: 'truncate', detectable: false };
    }
  }
}

/** Hostile YAML: alias bombs, huge numbers, wrong types, deep nesting, plus text mutations. */
export function mutateYaml(text: string, r: () => number): Mutated<string> {
  const lines = text.split('\n');
  const i = int(r, lines.length);
  switch (int(r, 6)) {
    case 0: {
      const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
      for (let k = 1; k < 10; k++)
        bomb.push(
          `${String.fromCharCode(97 + k)}: &${String.fromCharCode(97 + k)} [${new Array(9).fill(`*${String.fromCharCode(96 + k)}`).join(',')}]`,
        );
      return { data: `${bomb.join('\n')}\n${text}`, kind: 'alias-bomb', detectable: true };
    }
    case 1: {
      const nums = [...(lines[i] ?? '').matchAll(/\d+(\.\d+)?/g)];
      if (nums.length > 0) {
        const m = nums[int(r, nums.length)]!;
        const l = lines[i]!;
        lines[i] =
          l.slice(0, m.index) +
          ['1e300', '-1', '.nan', '.inf', '99999999999999999999', '0x7fffffff', '1e-320'][int(r, 7)]! +
          l.slice(m.index! + m[0].length);
      }
      return { data: lines.join('\n'), kind: 'number', detectable: false };
    }
    case 2: {
      const m = /:\s*(.+)$/.exec(lines[i] ?? '');
      if (m !== null)
        lines[i] =
          lines[i]!.slice(0, m.index) +
          `: ${['[1, 2]', '{a: 1}', 'null', '"str"', 'true', '~', '!!binary aGVsbG8='][int(r, 7)]!}`;
      return { data: lines.join('\n'), kind: 'type', detectable: false };
    }
    case 3:
      return { data: `${'['.repeat(2000)}${']'.repeat(2000)}\n${text}`, kind: 'nesting', detectable: true };
    case 4: {
      const t = text;
      const at = int(r, t.length);
      return {
        data:
          t.slice(0, at) +
          ['\t', '&', '*', ':', '- ', '"', '{', '!!', '%YAML 9.9\n', '\u0000'][int(r, 10)]! +
          t.slice(at + 1),
        kind: 'char',
        detectable: false,
      };
    }
    default:
      return { data: text.slice(0, int(r, text.length + 1)), kind: 'truncate', detectable: false };
  }
}

// ---------------------------------------------------------------------------------------------
// Running one input.

export interface Outcome {
  readonly messages: WireMessage[];
  readonly result?: SourceResult;
  /** The RpcscopeError the input ended with (a non-capture, an invalid scenario…). */
  readonly error?: RpcscopeError;
}

/** Line bound used by the harness: small, so the long-line mutation exercises it cheaply. */
export const HARNESS_MAX_LINE = 64 * 1024;

class Collect implements CaptureSink {
  readonly messages: WireMessage[] = [];
  readonly pipeline = new Pipeline({ keep: false });
  event(e: CaptureEvent): void {
    if (e.type === 'message') {
      const t = e.message.ts;
      // The wire's contract: every time can be formatted (the report, store and OTLP do).
      new Date(t).toISOString();
      this.messages.push(e.message);
    }
    this.pipeline.event(e);
  }
}

function decodeCapture(format: Format, data: Buffer, chunk: number): Outcome {
  const sink = new Collect();
  let result: SourceResult;
  if (format === 'pcap' || format === 'pcapng') {
    const dec = new PcapStreamDecoder(`fuzz.${format}`, sink, { maxBodySize: 16 * 1024 * 1024 });
    for (let i = 0; i < data.length; i += chunk) dec.push(data.subarray(i, i + chunk));
    result = dec.end();
  } else {
    const toWire = format === 'tracing' ? wireFromTracingRecord : wireFromFirehoseJsonl;
    const dec = new JsonLinesDecoder(`fuzz.${format}`, sink, toWire, { maxLineBytes: HARNESS_MAX_LINE });
    for (let i = 0; i < data.length; i += chunk) dec.push(data.subarray(i, i + chunk));
    result = dec.end();
  }
  sink.pipeline.finish();
  return { messages: sink.messages, result };
}

/** Decodes or parses one input of `format`; anything thrown other than a coded RpcscopeError propagates. */
export function runInput(format: Format, data: Buffer, chunk = 1 << 30): Outcome {
  try {
    switch (format) {
      case 'scenario':
        parseScenario(data.toString('utf8'), 'fuzz.yaml');
        return { messages: [] };
      case 'chaos':
        parseChaosScenario(data.toString('utf8'), 'fuzz.yaml');
        return { messages: [] };
      default:
        // the same format check readCaptureFile makes: a destroyed magic is not a capture
        if (detectFormat(data.subarray(0, 1 << 20)) === undefined)
          throw new RpcscopeError('RPCSCOPE_INPUT_FORMAT', 'not a capture', { context: { input: 'fuzz' } });
        return decodeCapture(format, data, chunk);
    }
  } catch (e) {
    if (e instanceof RpcscopeError && e.code in ERROR_CODES) {
      if ((format === 'scenario' || format === 'chaos') && e.context.line === undefined)
        throw new Error(`scenario error without a line: ${e.message}`, { cause: e });
      return { messages: [], error: e };
    }
    throw e;
  }
}

export interface Generated {
  readonly format: Format;
  readonly data: Buffer;
  readonly kind: string;
  readonly detectable: boolean;
  readonly chunk: number;
}

/** Input number `index` of `format` under `seed`: the same bytes every time. */
export function generate(format: Format, seed: number, index: number): Generated {
  const c = loadCorpus();
  const r = rng((seed * 0x9e3779b1) ^ (index * 0x85ebca6b) ^ FORMATS.indexOf(format));
  // Byte-sized pushes are left out: the pcap container re-joins its carry per push (see docs/decode.md).
  const chunk = [1 << 30, 65536, 1500, 301][int(r, 4)]!;
  switch (format) {
    case 'pcap':
    case 'pcapng': {
      const base = format === 'pcap' ? pcapWindow(c, r) : pcapngWindow(c, r);
      const rounds = 1 + (int(r, 4) === 0 ? int(r, 3) : 0);
      let m: Mutated<Buffer> = { data: base, kind: '', detectable: false };
      const kinds: string[] = [];
      for (let k = 0; k < rounds; k++) {
        const n = mutateBytes(m.data, r);
        kinds.push(n.kind);
        m = { data: n.data, kind: kinds.join('+'), detectable: m.detectable || n.detectable };
      }
      return { format, data: m.data, kind: m.kind, detectable: false, chunk };
    }
    case 'tracing':
    case 'firehose': {
      const m = mutateLines(linesWindow(format === 'tracing' ? c.tracing : c.firehose, r), r);
      return { format, data: Buffer.from(m.data), kind: m.kind, detectable: m.detectable, chunk };
    }
    default: {
      const texts = format === 'chaos' ? c.chaos : c.scenarios;
      const text = texts[int(r, texts.length)]!;
      // structured hostile values from fast-check, seeded by the same generator
      if (int(r, 4) === 0) {
        const [v] = fc.sample(fc.jsonValue({ maxDepth: 6 }), { seed: int(r, 2 ** 31), numRuns: 1 });
        const key =
          text
            .split('\n')
            .find((l) => /^[a-z_]+:/.test(l))
            ?.split(':')[0] ?? 'name';
        const yaml = `${text}\n${key}2: ${JSON.stringify(v)}\n${key}: ${JSON.stringify(v)}\n`;
        return { format, data: Buffer.from(yaml), kind: 'fast-check', detectable: false, chunk };
      }
      const m = mutateYaml(text, r);
      return { format, data: Buffer.from(m.data), kind: m.kind, detectable: m.detectable, chunk };
    }
  }
}

export interface Crash {
  readonly format: Format;
  readonly seed: number;
  readonly index: number;
  readonly kind: string;
  readonly error: string;
  readonly data: Buffer;
}

export interface FuzzSummary {
  inputs: number;
  decodedMessages: number;
  rejected: number;
  withSkips: number;
  crashes: Crash[];
  /** Inputs whose planted damage was certain to be detected but nothing was counted. */
  undetected: { format: Format; index: number; kind: string }[];
  byFormat: Record<string, number>;
}

export function newSummary(): FuzzSummary {
  return {
    inputs: 0,
    decodedMessages: 0,
    rejected: 0,
    withSkips: 0,
    crashes: [],
    undetected: [],
    byFormat: {},
  };
}

/** Runs inputs [from, to) of `format` under `seed`, adding to `s`. */
export function fuzzRange(format: Format, seed: number, from: number, to: number, s: FuzzSummary): void {
  for (let i = from; i < to; i++) {
    const g = generate(format, seed, i);
    s.inputs++;
    s.byFormat[format] = (s.byFormat[format] ?? 0) + 1;
    let o: Outcome;
    try {
      o = runInput(format, g.data, g.chunk);
    } catch (e) {
      s.crashes.push({
        format,
        seed,
        index: i,
        kind: g.kind,
        error: e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) : String(e),
        data: g.data,
      });
      continue;
    }
    if (o.error !== undefined) s.rejected++;
    s.decodedMessages += o.messages.length;
    const skipped = o.result?.skipped;
    const any = skipped !== undefined && skipped.bytes + skipped.frames + skipped.records > 0;
    if (any) s.withSkips++;
    if (g.detectable && o.error === undefined && !any) s.undetected.push({ format, index: i, kind: g.kind });
  }
}
