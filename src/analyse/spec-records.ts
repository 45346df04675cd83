/**
 * The spec's loaded records in columnar form (issue 11: `spec` and `model` hold every published
 * message of a capture, 288k on the 1.1 GB bench pcap). As objects they were ~530 bytes of heap
 * each (wire and message objects, the `_unique_id`/`_msg_id` strings, the calls); here a message is
 * a row of 66 bytes in typed arrays plus a 20-byte view:
 *
 * - time in a Float64Array; order and body size in 4 bytes, any value that does not fit aside
 *   (exact either way);
 * - everything a message shares with many others (kind, exchange, topic, method, server, routing
 *   key, connection, queue, notification fields, the context cut by spec-load.ts) is one interned
 *   "shape" per distinct combination, and the row holds its index: 107 shapes on the bench pcap;
 * - request ids and hints are interned tables, one index per row;
 * - `_msg_id` and `_unique_id` (fresh uuids on every message) are 16 bytes each when they are
 *   uuid hex, as oslo writes them, else kept as strings aside;
 * - a call is its call and reply rows and its outcome fields (51 bytes).
 *
 * Columns grow by fixed chunks, never copied. Consumers still read RpcMessage and RpcCall: each
 * row has a small view object whose getters read the columns (one view per row, so identity-keyed
 * maps and sets work as on records), and a view returns exactly what the compact record object
 * had, including `undefined` where a field was absent.
 */
import type {
  AmqpProperties,
  CallOutcome,
  ConnectionRef,
  MessageHints,
  RemoteFailure,
  RpcCall,
  RpcKind,
  RpcMessage,
  SourceKind,
  WireEvent,
} from '../records.ts';
import { idKey52 } from '../util/id-key.ts';

/** What a message shares with many others: interned, one per distinct combination. */
interface Shape {
  readonly kind: RpcKind;
  readonly envelope: RpcMessage['envelope'];
  readonly exchange: string;
  readonly topic: string;
  readonly server: string | undefined;
  readonly method: string | undefined;
  readonly object: string | undefined;
  readonly namespace: string | undefined;
  readonly version: string | undefined;
  readonly replyQ: string | undefined;
  readonly timeoutS: number | undefined;
  readonly expirationMs: number | undefined;
  readonly eventType: string | undefined;
  readonly priority: string | undefined;
  readonly publisherId: string | undefined;
  readonly ending: boolean | undefined;
  readonly source: SourceKind;
  readonly event: WireEvent;
  readonly wireExchange: string;
  readonly routingKey: string;
  readonly connection: ConnectionRef | undefined;
  readonly channel: number | undefined;
  readonly queue: string | undefined;
  readonly routedQueues: readonly string[] | undefined;
  readonly consumerTag: string | undefined;
  readonly replyCode: number | undefined;
  readonly node: string | undefined;
  /** Index in SpecRecords.contexts. */
  readonly contextId: number;
}

/** Unambiguous key part: undefined, strings, numbers (-0 too) and booleans stay distinct. */
function k(v: unknown): string {
  if (v === undefined) return '\u0001';
  if (typeof v === 'string') return `s${v}`;
  if (typeof v === 'number') return Object.is(v, -0) ? 'n-0' : `n${v}`;
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  return `j${JSON.stringify(v)}`;
}

/** Values interned by a key: a row stores the index (-1: none). */
class Interned<T> {
  readonly values: T[] = [];
  readonly #ids = new Map<string, number>();
  id(key: string, value: T): number {
    const known = this.#ids.get(key);
    if (known !== undefined) return known;
    const id = this.values.length;
    this.values.push(value);
    this.#ids.set(key, id);
    return id;
  }
  /** A value kept as it is, not shared (the one whole context). */
  add(value: T): number {
    this.values.push(value);
    return this.values.length - 1;
  }
}

/** IdColumn formats. */
const ABSENT = 0;
const HEX32 = 1;
const DASHED = 2;
const OTHER = 3;

/** Value of a lower-case hex digit's char code, else -1. */
function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Writes uuid hex `v` (32 digits, or 36 with dashes after digits 8, 12, 16 and 20: lower case, as
 * oslo and python's uuid write them) as 16 bytes at `out[at]`; returns its format, OTHER when it
 * is neither (nothing written that matters then).
 */
function parseId(v: string, out: Uint8Array, at: number): number {
  const dashed = v.length === 36;
  if (!dashed && v.length !== 32) return OTHER;
  let p = 0;
  for (let i = 0; i < 16; i++) {
    if (dashed && (i === 4 || i === 6 || i === 8 || i === 10)) {
      if (v.charCodeAt(p) !== 45) return OTHER;
      p++;
    }
    const hi = nibble(v.charCodeAt(p));
    const lo = nibble(v.charCodeAt(p + 1));
    if (hi < 0 || lo < 0) return OTHER;
    out[at + i] = (hi << 4) | lo;
    p += 2;
  }
  return dashed ? DASHED : HEX32;
}

/**
 * Rows by `_unique_id`, the publishes a delivery is matched to (spec-load.ts): an open-addressing
 * table of row numbers over IdColumn's bytes, 4-8 bytes a row instead of a Set of strings (~65).
 */
export class UniqueIdIndex {
  readonly #col: IdColumn;
  #table = new Int32Array(1 << 12);
  #count = 0;
  readonly #scratch = new Uint8Array(16);
  constructor(col: IdColumn) {
    this.#col = col;
  }

  #hash(f: number, v: string): number {
    if (f === OTHER) {
      let h = 0;
      for (let i = 0; i < v.length; i++) h = (Math.imul(h, 31) + v.charCodeAt(i)) | 0;
      return h;
    }
    // every byte: ids need not be random (the bench capture's differ in their first 4 bytes only)
    const b = this.#scratch;
    let h = f;
    for (let i = 0; i < 16; i++) h = Math.imul(h ^ (b[i] ?? 0), 0x01000193);
    return h ^ (h >>> 15);
  }

  /** Adds `row`, whose id is `v` (already in the column). */
  add(row: number, v: string): void {
    if (this.has(v)) return;
    if ((this.#count + 1) * 2 > this.#table.length) this.#rehash(this.#table.length * 2);
    this.#insert(row, this.#hash(parseId(v, this.#scratch, 0), v));
    this.#count++;
  }

  has(v: string): boolean {
    const f = parseId(v, this.#scratch, 0);
    const t = this.#table;
    const mask = t.length - 1;
    for (let i = this.#hash(f, v) & mask; ; i = (i + 1) & mask) {
      const r = t[i] ?? 0;
      if (r === 0) return false;
      if (this.#col.equals(r - 1, v, f, this.#scratch)) return true;
    }
  }

  #insert(row: number, h: number): void {
    const t = this.#table;
    const mask = t.length - 1;
    let i = h & mask;
    while ((t[i] ?? 0) !== 0) i = (i + 1) & mask;
    t[i] = row + 1;
  }

  #rehash(size: number): void {
    const old = this.#table;
    this.#table = new Int32Array(size);
    for (const r of old) {
      if (r === 0) continue;
      const v = this.#col.get(r - 1) ?? '';
      this.#insert(r - 1, this.#hash(parseId(v, this.#scratch, 0), v));
    }
  }
}

/**
 * A set of ids built once and only read after (the publishes of one fold): their idKey52s sorted
 * in one Float64Array, 8 bytes an id with no slack, binary-searched.
 */
export class SortedIds {
  readonly #keys: Float64Array;

  constructor(ids: Iterable<string>) {
    const keys: number[] = [];
    for (const v of ids) keys.push(idKey52(v));
    this.#keys = Float64Array.from(keys).sort();
  }

  get size(): number {
    return this.#keys.length;
  }

  /** `key`: idKey52 of the id (computed once when several sets are asked). */
  hasKey(key: number): boolean {
    const k = this.#keys;
    let lo = 0;
    let hi = k.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = k[mid] ?? 0;
      if (x < key) lo = mid + 1;
      else if (x > key) hi = mid - 1;
      else return true;
    }
    return false;
  }

  has(v: string): boolean {
    return this.hasKey(idKey52(v));
  }
}

/**
 * A set of ids kept as their 52-bit keys (util/id-key.ts), not the ids: 16 bytes an id at the
 * table's worst load, for ids whose rows are gone (spec-stream.ts: the publishes of a folded chunk,
 * which later deliveries are matched to).
 */
export class HashedIds {
  /** Pairs (h1, h2); h2 is odd, so (0, 0) marks an empty slot. */
  #t = new Int32Array(1 << 12);
  #n = 0;

  get size(): number {
    return this.#n;
  }

  /** idKey52 split in two: its top 32 bits, and its low 20 made odd (odd: (0, 0) stays empty). */
  static #hashes(v: string): [number, number] {
    const k = idKey52(v);
    return [Math.floor(k / 2 ** 20) | 0, (k % 2 ** 20) | 1];
  }

  #slot(a: number, b: number): number {
    const t = this.#t;
    const mask = (t.length >> 1) - 1;
    for (let i = (a ^ (b >>> 7)) & mask; ; i = (i + 1) & mask) {
      const x = t[2 * i] ?? 0;
      const y = t[2 * i + 1] ?? 0;
      if ((x === 0 && y === 0) || (x === a && y === b)) return i;
    }
  }

  add(v: string): void {
    const [a, b] = HashedIds.#hashes(v);
    if ((this.#n + 1) * 4 > this.#t.length) {
      const old = this.#t;
      this.#t = new Int32Array(old.length * 2);
      for (let i = 0; i < old.length; i += 2) {
        const x = old[i] ?? 0;
        const y = old[i + 1] ?? 0;
        if (x === 0 && y === 0) continue;
        const j = this.#slot(x, y);
        this.#t[2 * j] = x;
        this.#t[2 * j + 1] = y;
      }
    }
    const i = this.#slot(a, b);
    if (this.#t[2 * i + 1] === b && this.#t[2 * i] === a) return;
    this.#t[2 * i] = a;
    this.#t[2 * i + 1] = b;
    this.#n++;
  }

  has(v: string): boolean {
    const [a, b] = HashedIds.#hashes(v);
    const i = this.#slot(a, b);
    return this.#t[2 * i] === a && this.#t[2 * i + 1] === b;
  }
}

/** A per-message id (`_msg_id`, `_unique_id`): 16 bytes when it is uuid hex, else the string aside. */
export class IdColumn {
  readonly #bytes = u8(16);
  readonly #format = u8();
  readonly #other = new Map<number, string>();

  set(row: number, v: string | undefined): void {
    const f = v === undefined ? ABSENT : parseId(v, this.#bytes.chunk(row), this.#bytes.offset(row));
    this.#format.set(row, f);
    if (f === OTHER && v !== undefined) this.#other.set(row, v);
  }

  /** Whether row holds `v`, with `f` and `at` what parseId gave for it into `scratch`. */
  equals(row: number, v: string, f: number, scratch: Uint8Array): boolean {
    if (this.#format.get(row) !== f) return false;
    if (f === OTHER) return this.#other.get(row) === v;
    const b = this.#bytes.chunk(row);
    for (let i = 0, at = this.#bytes.offset(row); i < 16; i++, at++) if (b[at] !== scratch[i]) return false;
    return true;
  }

  get(row: number): string | undefined {
    const f = this.#format.get(row);
    if (f === ABSENT) return undefined;
    if (f === OTHER) return this.#other.get(row);
    // one flat string from char codes: `+=` would build a rope of cons strings, which Map keys
    // keep whole (~380 bytes a key instead of ~50)
    const b = this.#bytes.chunk(row);
    const out = f === DASHED ? DASHED_CODES : HEX_CODES;
    let o = 0;
    for (let i = 0, at = this.#bytes.offset(row); i < 16; i++, at++) {
      if (f === DASHED && (i === 4 || i === 6 || i === 8 || i === 10)) o++;
      const v = b[at] ?? 0;
      out[o++] = HEX_DIGIT[v >> 4] ?? 48;
      out[o++] = HEX_DIGIT[v & 15] ?? 48;
    }
    return String.fromCharCode.apply(null, out);
  }
}

const HEX_DIGIT = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** Reused buffers of char codes (the dashes stay in place). */
const HEX_CODES: number[] = new Array<number>(32).fill(48);
const DASHED_CODES: number[] = Array.from('00000000-0000-0000-0000-000000000000', (c) => c.charCodeAt(0));

/** Rows per chunk of a column. */
const CHUNK_BITS = 15;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

type Numeric =
  | Float64Array<ArrayBuffer>
  | Int32Array<ArrayBuffer>
  | Uint32Array<ArrayBuffer>
  | Uint8Array<ArrayBuffer>;

/**
 * A column of `width` numbers a row, in fixed chunks of CHUNK rows: appending never copies, and
 * memory is what is used plus one chunk (a doubled array would hold both copies while growing,
 * and glibc keeps the freed one).
 */
class Column<A extends Numeric> {
  readonly #chunks: A[] = [];
  readonly #make: (n: number) => A;
  readonly width: number;
  constructor(make: (n: number) => A, width = 1) {
    this.#make = make;
    this.width = width;
  }
  /** The chunk holding `row` (made when missing); the row starts at offset(row) in it. */
  chunk(row: number): A {
    const i = row >>> CHUNK_BITS;
    let c = this.#chunks[i];
    while (c === undefined) {
      this.#chunks.push(this.#make(CHUNK * this.width));
      c = this.#chunks[i];
    }
    return c;
  }
  offset(row: number): number {
    return (row & CHUNK_MASK) * this.width;
  }
  get(row: number): number {
    return this.#chunks[row >>> CHUNK_BITS]?.[(row & CHUNK_MASK) * this.width] ?? 0;
  }
  set(row: number, v: number): void {
    this.chunk(row)[(row & CHUNK_MASK) * this.width] = v;
  }
}

const f64 = (): Column<Float64Array<ArrayBuffer>> => new Column((n) => new Float64Array(n));
const i32 = (): Column<Int32Array<ArrayBuffer>> => new Column((n) => new Int32Array(n));
const ASIDE = 0xffffffff;

/** Numbers that are almost always integers in [0, 2^32 - 1) (order, sizes) in 4 bytes; others aside. */
class U32Column {
  readonly #col = new Column((n) => new Uint32Array(n));
  readonly #other = new Map<number, number>();
  set(row: number, v: number): void {
    if (Number.isInteger(v) && v >= 0 && v < ASIDE && !Object.is(v, -0)) this.#col.set(row, v);
    else {
      this.#col.set(row, ASIDE);
      this.#other.set(row, v);
    }
  }
  get(row: number): number {
    const v = this.#col.get(row);
    return v === ASIDE ? (this.#other.get(row) ?? 0) : v;
  }
}

const u8 = (width = 1): Column<Uint8Array<ArrayBuffer>> => new Column((n) => new Uint8Array(n), width);

const NO_PROPERTIES: AmqpProperties = Object.freeze({});
const OUTCOMES: readonly CallOutcome[] = ['ok', 'remote-error', 'unanswered', 'no-route'];
const REASONS = [undefined, 'expired', 'capture-ended'] as const;
/** Call fields present (bits of SpecRecords.callHas). */
const LATENCY = 1;
const QUEUE = 2;
const SERVER = 4;
const RETURN = 8;

/** The columns. Rows are appended, never changed; views read them. */
export class SpecRecords {
  /** Rows in use. */
  length = 0;
  readonly ts = f64();
  readonly seq = new U32Column();
  /** The message's body size; its wire record's, where different (oslo's decoder copies it), aside. */
  readonly bodySize = new U32Column();
  readonly wireBodySize = new Map<number, number>();
  readonly shape = i32();
  readonly requestId = i32();
  readonly globalRequestId = i32();
  /** Index in hintsOf, -1: none (per row: in the shape it would make a shape per operation). */
  readonly hints = i32();
  readonly msgId = new IdColumn();
  readonly uniqueId = new IdColumn();
  readonly failure = new Map<number, RemoteFailure>();
  readonly shapes = new Interned<Shape>();
  readonly strings = new Interned<string>();
  readonly contexts = new Interned<Readonly<Record<string, unknown>>>();
  readonly hintsOf = new Interned<MessageHints>();
  readonly #connections = new Interned<ConnectionRef>();
  /** One view per row (stable identity). */
  readonly views: MessageView[] = [];

  callCount = 0;
  readonly callRow = i32();
  readonly replyRow = i32();
  readonly heartbeats = f64();
  readonly outcome = u8();
  readonly reason = u8();
  readonly callHas = u8();
  readonly latencyMs = f64();
  readonly queueMs = f64();
  readonly serverMs = f64();
  readonly returnMs = f64();

  #str(v: string | undefined): number {
    return v === undefined ? -1 : this.strings.id(v, v);
  }

  /**
   * Appends a message (its context already cut by the caller); returns its view: `view` when given
   * (a row moved here from another store keeps its identity), else a new one.
   */
  add(
    m: RpcMessage,
    context: Readonly<Record<string, unknown>>,
    keepWhole: boolean,
    view?: MessageView,
  ): MessageView {
    const row = this.length;
    const w = m.wire;
    const c = w.connection;
    // connections are shared by content: a tracing log makes one ConnectionRef per record
    const connId =
      c === undefined
        ? -1
        : this.#connections.id(
            [c.id, c.client, c.server, c.vhost, c.user, c.name, c.product].map(k).join('\u0000'),
            c,
          );
    const conn = connId < 0 ? undefined : this.#connections.values[connId];
    const shape: Shape = {
      kind: m.kind,
      envelope: m.envelope,
      exchange: m.exchange,
      topic: m.topic,
      server: m.server,
      method: m.method,
      object: m.object,
      namespace: m.namespace,
      version: m.version,
      replyQ: m.replyQ,
      timeoutS: m.timeoutS,
      expirationMs: m.expirationMs,
      eventType: m.eventType,
      priority: m.priority,
      publisherId: m.publisherId,
      ending: m.ending,
      source: w.source,
      event: w.event,
      wireExchange: w.exchange,
      routingKey: w.routingKey,
      connection: conn,
      channel: w.channel,
      queue: w.queue,
      routedQueues: w.routedQueues,
      consumerTag: w.consumerTag,
      replyCode: w.replyCode,
      node: w.node,
      contextId: keepWhole
        ? this.contexts.add(context)
        : this.contexts.id(JSON.stringify(Object.entries(context).map(([a, b]) => [a, k(b)])), context),
    };
    // every field has its place; the two objects are keyed apart (the connection by its id).
    // join, not `+=`: a Map keeps a key built by `+=` as a rope of every piece
    const parts: string[] = [`${connId}`, k(shape.routedQueues)];
    for (const v of Object.values(shape)) parts.push(typeof v === 'object' && v !== null ? '' : k(v));
    const key = parts.join('\u0000');
    this.shape.set(row, this.shapes.id(key, shape));
    this.ts.set(row, w.ts);
    this.seq.set(row, w.seq);
    this.bodySize.set(row, m.bodySize);
    if (!Object.is(w.bodySize, m.bodySize)) this.wireBodySize.set(row, w.bodySize);
    this.requestId.set(row, this.#str(m.requestId));
    this.globalRequestId.set(row, this.#str(m.globalRequestId));
    this.hints.set(row, m.hints === undefined ? -1 : this.hintsOf.id(JSON.stringify(m.hints), m.hints));
    this.msgId.set(row, m.msgId);
    this.uniqueId.set(row, m.uniqueId);
    if (m.failure !== undefined) this.failure.set(row, m.failure);
    if (view !== undefined) view.rebind(this, row);
    const v = view ?? new MessageView(this, row);
    this.views.push(v);
    this.length = row + 1;
    return v;
  }

  /** Appends a call of two rows already added (reply: -1 when none); returns its view (`view`, moved, when given). */
  addCall(c: RpcCall, callRow: number, replyRow: number, view?: CallView): CallView {
    const i = this.callCount;
    this.callRow.set(i, callRow);
    this.replyRow.set(i, replyRow);
    this.heartbeats.set(i, c.heartbeats);
    this.outcome.set(i, OUTCOMES.indexOf(c.outcome));
    this.reason.set(i, REASONS.indexOf(c.unansweredReason));
    let has = 0;
    if (c.latencyMs !== undefined) {
      has |= LATENCY;
      this.latencyMs.set(i, c.latencyMs);
    }
    if (c.queueMs !== undefined) {
      has |= QUEUE;
      this.queueMs.set(i, c.queueMs);
    }
    if (c.serverMs !== undefined) {
      has |= SERVER;
      this.serverMs.set(i, c.serverMs);
    }
    if (c.returnMs !== undefined) {
      has |= RETURN;
      this.returnMs.set(i, c.returnMs);
    }
    this.callHas.set(i, has);
    this.callCount = i + 1;
    if (view === undefined) return new CallView(this, i);
    view.rebind(this, i);
    return view;
  }

  shapeOf(row: number): Shape {
    return this.shapes.values[this.shape.get(row)] as Shape;
  }

  stringOf(id: number | undefined): string | undefined {
    return id === undefined || id < 0 ? undefined : this.strings.values[id];
  }
}

/** `m.wire` of a row. */
class WireView {
  readonly #r: SpecRecords;
  readonly #i: number;
  constructor(r: SpecRecords, i: number) {
    this.#r = r;
    this.#i = i;
  }
  get seq(): number {
    return this.#r.seq.get(this.#i);
  }
  get ts(): number {
    return this.#r.ts.get(this.#i);
  }
  get source(): SourceKind {
    return this.#r.shapeOf(this.#i).source;
  }
  get event(): WireEvent {
    return this.#r.shapeOf(this.#i).event;
  }
  get connection(): ConnectionRef | undefined {
    return this.#r.shapeOf(this.#i).connection;
  }
  get channel(): number | undefined {
    return this.#r.shapeOf(this.#i).channel;
  }
  get exchange(): string {
    return this.#r.shapeOf(this.#i).wireExchange;
  }
  get routingKey(): string {
    return this.#r.shapeOf(this.#i).routingKey;
  }
  get queue(): string | undefined {
    return this.#r.shapeOf(this.#i).queue;
  }
  get routedQueues(): readonly string[] | undefined {
    return this.#r.shapeOf(this.#i).routedQueues;
  }
  /** Not kept (nothing in the spec reads them). */
  get mandatory(): undefined {
    return undefined;
  }
  get redelivered(): undefined {
    return undefined;
  }
  get consumerTag(): string | undefined {
    return this.#r.shapeOf(this.#i).consumerTag;
  }
  get replyCode(): number | undefined {
    return this.#r.shapeOf(this.#i).replyCode;
  }
  get replyText(): undefined {
    return undefined;
  }
  get properties(): AmqpProperties {
    return NO_PROPERTIES;
  }
  get bodySize(): number {
    const aside = this.#r.wireBodySize.get(this.#i);
    return aside === undefined ? this.#r.bodySize.get(this.#i) : aside;
  }
  get node(): string | undefined {
    return this.#r.shapeOf(this.#i).node;
  }
}

/** A row read as an RpcMessage. */
export class MessageView {
  #r: SpecRecords;
  #i: number;
  constructor(r: SpecRecords, i: number) {
    this.#r = r;
    this.#i = i;
  }
  /** Its row moved to another store (spec-stream.ts compacts what it holds). */
  rebind(r: SpecRecords, i: number): void {
    this.#r = r;
    this.#i = i;
  }
  /** The store it reads. */
  get records(): SpecRecords {
    return this.#r;
  }
  /** Made per read, not kept: short-lived, where one per row would be ~6 MB on the bench capture. */
  get wire(): WireView {
    return new WireView(this.#r, this.#i);
  }
  /** Its row in SpecRecords. */
  get row(): number {
    return this.#i;
  }
  get kind(): RpcKind {
    return this.#r.shapeOf(this.#i).kind;
  }
  get envelope(): RpcMessage['envelope'] {
    return this.#r.shapeOf(this.#i).envelope;
  }
  get exchange(): string {
    return this.#r.shapeOf(this.#i).exchange;
  }
  get topic(): string {
    return this.#r.shapeOf(this.#i).topic;
  }
  get server(): string | undefined {
    return this.#r.shapeOf(this.#i).server;
  }
  get method(): string | undefined {
    return this.#r.shapeOf(this.#i).method;
  }
  get object(): string | undefined {
    return this.#r.shapeOf(this.#i).object;
  }
  get namespace(): string | undefined {
    return this.#r.shapeOf(this.#i).namespace;
  }
  get version(): string | undefined {
    return this.#r.shapeOf(this.#i).version;
  }
  get msgId(): string | undefined {
    return this.#r.msgId.get(this.#i);
  }
  get replyQ(): string | undefined {
    return this.#r.shapeOf(this.#i).replyQ;
  }
  get uniqueId(): string | undefined {
    return this.#r.uniqueId.get(this.#i);
  }
  get timeoutS(): number | undefined {
    return this.#r.shapeOf(this.#i).timeoutS;
  }
  get expirationMs(): number | undefined {
    return this.#r.shapeOf(this.#i).expirationMs;
  }
  get requestId(): string | undefined {
    return this.#r.stringOf(this.#r.requestId.get(this.#i));
  }
  get globalRequestId(): string | undefined {
    return this.#r.stringOf(this.#r.globalRequestId.get(this.#i));
  }
  get eventType(): string | undefined {
    return this.#r.shapeOf(this.#i).eventType;
  }
  get priority(): string | undefined {
    return this.#r.shapeOf(this.#i).priority;
  }
  get publisherId(): string | undefined {
    return this.#r.shapeOf(this.#i).publisherId;
  }
  get ending(): boolean | undefined {
    return this.#r.shapeOf(this.#i).ending;
  }
  get failure(): RemoteFailure | undefined {
    return this.#r.failure.get(this.#i);
  }
  get context(): Readonly<Record<string, unknown>> {
    return this.#r.contexts.values[this.#r.shapeOf(this.#i).contextId] ?? {};
  }
  get bodySize(): number {
    return this.#r.bodySize.get(this.#i);
  }
  get hints(): MessageHints | undefined {
    const h = this.#r.hints.get(this.#i);
    return h < 0 ? undefined : this.#r.hintsOf.values[h];
  }
}

/** A call read as an RpcCall: its call and reply rows, without deliveries (nothing in the spec reads them). */
export class CallView {
  #r: SpecRecords;
  #i: number;
  constructor(r: SpecRecords, i: number) {
    this.#r = r;
    this.#i = i;
  }
  /** Its row moved to another store (spec-stream.ts compacts what it holds). */
  rebind(r: SpecRecords, i: number): void {
    this.#r = r;
    this.#i = i;
  }
  /** The store it reads. */
  get records(): SpecRecords {
    return this.#r;
  }
  get call(): RpcMessage {
    return asMessage(this.#r.views[this.#r.callRow.get(this.#i)] as MessageView);
  }
  get delivered(): undefined {
    return undefined;
  }
  get reply(): RpcMessage | undefined {
    const r = this.#r.replyRow.get(this.#i);
    const v = r < 0 ? undefined : this.#r.views[r];
    return v === undefined ? undefined : asMessage(v);
  }
  get replyDelivered(): undefined {
    return undefined;
  }
  get heartbeats(): number {
    return this.#r.heartbeats.get(this.#i);
  }
  get outcome(): CallOutcome {
    return OUTCOMES[this.#r.outcome.get(this.#i)] ?? 'ok';
  }
  get unansweredReason(): 'expired' | 'capture-ended' | undefined {
    return REASONS[this.#r.reason.get(this.#i)];
  }
  get latencyMs(): number | undefined {
    return this.#r.callHas.get(this.#i) & LATENCY ? this.#r.latencyMs.get(this.#i) : undefined;
  }
  get queueMs(): number | undefined {
    return this.#r.callHas.get(this.#i) & QUEUE ? this.#r.queueMs.get(this.#i) : undefined;
  }
  get serverMs(): number | undefined {
    return this.#r.callHas.get(this.#i) & SERVER ? this.#r.serverMs.get(this.#i) : undefined;
  }
  get returnMs(): number | undefined {
    return this.#r.callHas.get(this.#i) & RETURN ? this.#r.returnMs.get(this.#i) : undefined;
  }
}

/**
 * A view as the record it stands for. The views' getters return `undefined` where a record had
 * no such property, which `exactOptionalPropertyTypes` tells apart from an absent optional
 * property; reading either gives undefined, and nothing enumerates a record's properties
 * (checked: analyse/, correlate/, emulate/model.ts read fields by name).
 */
export function asMessage(v: MessageView): RpcMessage {
  return v as unknown as RpcMessage;
}

/** A call view as the call it stands for (see asMessage). */
export function asCall(v: CallView): RpcCall {
  return v as unknown as RpcCall;
}
