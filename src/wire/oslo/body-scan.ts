/**
 * The fast reader of oslo.messaging 2.0 bodies: `{"oslo.version": "2.0", "oslo.message": "<JSON
 * text, escaped>"}` read straight from the bytes, in one pass, without parsing the outer JSON
 * into a string and the inner one into a tree.
 *
 * Why: building the whole message (two JSON.parse calls and every argument, result and payload
 * object, then their garbage) was most of `rpcscope report`'s time, and the decoder keeps only a
 * few top-level fields (facts.ts). Here the inner text is tokenised in its escaped form: an inner
 * `"` is the two bytes `\"`, an inner `\` is `\\`, so structure is found without unescaping.
 * Values the facts need are materialised (plain strings and literals straight from the bytes,
 * anything else through JSON.parse of its span); the rest, `args` above all, is skipped.
 *
 * Skipped values are checked for balance, string and escape syntax, and raw quotes and control
 * bytes, but not validated as JSON in every detail: a body whose `args` hold e.g. `tru` is read
 * here, where JSON.parse would refuse it. Whatever does not fit the shape above (the 1.0 bare
 * dict, other JSON, escaped keys, a truncated body) is declined, and the caller falls back to the
 * reference reader (`factsOfMessage` on a full parse), which gives the same facts for any valid
 * body (body-scan.test.ts checks both readers against each other).
 *
 * Written as free functions over (bytes, position) with the hot loops inline: an oslo body holds
 * ~85 short strings per 1.8 kB, so per-string overhead, not per-byte work, sets the speed.
 */
import { type BodyFacts, type FactsBuilder, type KeyInfo, keyInfo, newFacts, setFact } from './facts.ts';
import { novaObjectName } from './nova-object.ts';

/**
 * The bytes the scanner looks for. A const enum, so that esbuild (tsx) writes each as a literal:
 * module-level `const`s are loaded from the module context at every use, and the byte loops
 * compare each byte several times (measured with callgrind: 21 % fewer instructions).
 */
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported, so isolated modules are not an issue, and inlining is the point
const enum B {
  BS = 0x5c, // \
  QUOTE = 0x22, // "
  SPACE = 0x20,
  COLON = 0x3a,
  COMMA = 0x2c,
  LBRACE = 0x7b,
  RBRACE = 0x7d,
  LBRACKET = 0x5b,
  RBRACKET = 0x5d,
  LOWER_N = 0x6e,
  LOWER_R = 0x72,
  LOWER_T = 0x74,
  LOWER_U = 0x75,
  LOWER_F = 0x66,
  SLASH = 0x2f,
}

/**
 * Buffer's own slicers, without `toString`'s argument handling (a measurable share here, where
 * every key and kept value is sliced). Present on every Node Buffer, absent from its typings.
 */
interface Slicers {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}
const utf8 = (b: Buffer, s: number, e: number): string => (b as unknown as Slicers).utf8Slice(s, e);
const latin1 = (b: Buffer, s: number, e: number): string => (b as unknown as Slicers).latin1Slice(s, e);

/** One instance, thrown and caught inside this module only: the body is not of the fast shape. */
class Declined extends Error {}
const DECLINED = new Declined('body declined by the fast reader');

function hex(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/**
 * The escape at `i` (a `\` inside an inner string that does not close it): returns the index
 * after it. An inner escape is `\\` then the escaped character, itself one byte, or two when it
 * is " or \. `\uXXXX` at the outer level is a non-ASCII character in the inner text; a control
 * character there (`\n`, or a " or \ spelled as \u) would change the inner text's meaning.
 */
function escapeEnd(b: Buffer, i: number): number {
  const d = b[i + 1];
  if (d === B.BS) {
    if (b[i + 2] !== B.BS) return i + 3;
    const e = b[i + 3];
    if (e !== B.QUOTE && e !== B.BS) throw DECLINED;
    return i + 4;
  }
  if (d === B.LOWER_U) {
    const h = (hex(b[i + 2]) << 12) | (hex(b[i + 3]) << 8) | (hex(b[i + 4]) << 4) | hex(b[i + 5]);
    if (h < 0x20 || h === B.QUOTE || h === B.BS) throw DECLINED;
    return i + 6;
  }
  if (d === B.SLASH) return i + 2;
  throw DECLINED;
}

/**
 * The content of the inner string whose opening `\"` ends at `i` (i is its first content byte):
 * returns the index of the closing `\"`, negated minus one when the content holds an escape.
 */
function stringEnd(b: Buffer, i: number): number {
  const end = b.length;
  let plain = true;
  for (;;) {
    i = contentEnd(b, i, end);
    if (b[i + 1] === B.QUOTE) return plain ? i : -i - 1;
    plain = false;
    i = escapeEnd(b, i);
  }
}

/**
 * The next `\` of an inner string's content from `i`. A raw `"` before it is the outer string's
 * end, inside an inner string; a raw control byte is invalid: both decline, as does the end.
 * The loop is bounded by `end` (not by reading past it) so that V8 knows every byte loaded is a
 * byte: a load that may be undefined makes each comparison a generic one, ~2× slower here.
 */
function contentEnd(b: Buffer, i: number, end: number): number {
  for (; i < end; i++) {
    const c = b[i] as number;
    if (c === B.BS) return i;
    if (c <= B.QUOTE && (c === B.QUOTE || c < B.SPACE)) throw DECLINED;
  }
  throw DECLINED;
}

/** Skips an object or array at `i`, with everything nested in it; returns the index after it. */
function skipNested(b: Buffer, i: number): number {
  const end = b.length;
  let depth = 0;
  while (i < end) {
    const c = b[i] as number;
    if (c === B.BS) {
      const d = b[i + 1];
      if (d === B.QUOTE) {
        // an inner string, inline: most of a body is strings
        i += 2;
        for (;;) {
          i = contentEnd(b, i, end);
          if (b[i + 1] === B.QUOTE) break;
          i = escapeEnd(b, i);
        }
        i += 2;
        continue;
      }
      if (d !== B.LOWER_N && d !== B.LOWER_R && d !== B.LOWER_T) throw DECLINED;
      i += 2;
      continue;
    }
    if (c === B.LBRACE || c === B.LBRACKET) depth++;
    else if (c === B.RBRACE || c === B.RBRACKET) {
      if (--depth === 0) return i + 1;
    } else if (c <= B.QUOTE && (c === B.QUOTE || c < B.SPACE)) throw DECLINED;
    i++;
  }
  throw DECLINED;
}

/** The end of a number or literal token at `i`: the next structural byte. */
function tokenEnd(b: Buffer, i: number): number {
  const start = i;
  for (;;) {
    const c = b[i];
    if (
      c === undefined ||
      c === B.COMMA ||
      c === B.RBRACE ||
      c === B.RBRACKET ||
      c === B.SPACE ||
      c === B.BS ||
      c === B.QUOTE
    )
      break;
    if (c === B.LBRACE || c === B.LBRACKET || c === B.COLON || c < B.SPACE) throw DECLINED;
    i++;
  }
  if (i === start) throw DECLINED;
  return i;
}

/** Skips any inner value at `i`; returns the index after it. */
function skipValue(b: Buffer, i: number): number {
  const c = b[i];
  if (c === B.BS) {
    if (b[i + 1] !== B.QUOTE) throw DECLINED;
    const e = stringEnd(b, i + 2);
    return (e < 0 ? -e - 1 : e) + 2;
  }
  if (c === B.LBRACE || c === B.LBRACKET) return skipNested(b, i);
  return tokenEnd(b, i);
}

/** Inner whitespace at `i`: spaces, escaped \n, \r, \t. Returns the index after it. */
function ws(b: Buffer, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === B.SPACE) i++;
    else if (c === B.BS) {
      const d = b[i + 1];
      if (d === B.LOWER_N || d === B.LOWER_R || d === B.LOWER_T) i += 2;
      else return i;
    } else return i;
  }
}

/** An inner value from its escaped span: unescape the outer level, then parse the inner text. */
function parseSpan(b: Buffer, s: number, e: number): unknown {
  try {
    return JSON.parse(JSON.parse(`"${utf8(b, s, e)}"`) as string) as unknown;
  } catch {
    throw DECLINED;
  }
}

/** Where `value` left off (module state, so that values need no result object). */
let valueEnd = 0;

/** True when `word`'s bytes are at `i` and end there (a delimiter follows). */
function literal(b: Buffer, i: number, word: string): boolean {
  for (let j = 0; j < word.length; j++) if (b[i + j] !== word.charCodeAt(j)) return false;
  const c = b[i + word.length];
  return c === B.COMMA || c === B.RBRACE || c === B.RBRACKET || c === B.SPACE || c === B.BS || c === B.QUOTE;
}

/** Reads the inner value at `i` as JSON.parse would give it; sets `valueEnd`. */
function value(b: Buffer, i: number): unknown {
  const c = b[i];
  if (c === B.BS) {
    if (b[i + 1] !== B.QUOTE) throw DECLINED;
    const e = stringEnd(b, i + 2);
    if (e >= 0) {
      valueEnd = e + 2;
      return utf8(b, i + 2, e);
    }
    valueEnd = -e - 1 + 2;
    return parseSpan(b, i, valueEnd);
  }
  if (c === B.LBRACE || c === B.LBRACKET) {
    const close = c === B.LBRACE ? B.RBRACE : B.RBRACKET;
    if (b[i + 1] === close) {
      valueEnd = i + 2;
      return c === B.LBRACE ? {} : [];
    }
    valueEnd = skipNested(b, i);
    return parseSpan(b, i, valueEnd);
  }
  if (c === B.LOWER_N && literal(b, i, 'null')) {
    valueEnd = i + 4;
    return null;
  }
  if (c === B.LOWER_T && literal(b, i, 'true')) {
    valueEnd = i + 4;
    return true;
  }
  if (c === B.LOWER_F && literal(b, i, 'false')) {
    valueEnd = i + 5;
    return false;
  }
  valueEnd = tokenEnd(b, i);
  try {
    // a number: a token holds no escape, its bytes are its inner text
    return JSON.parse(latin1(b, i, valueEnd)) as unknown;
  } catch {
    throw DECLINED;
  }
}

interface KeyEntry {
  readonly bytes: Uint8Array;
  readonly info: KeyInfo;
  /** The key that followed this one last time, in the same object. */
  next: KeyEntry | undefined;
}

/**
 * Keys repeat in every message, in the same order for the same kind of message: each key is
 * first tried as the one that followed the previous key last time (a byte compare and no scan),
 * then looked up in an open table by hash of its bytes. Either way, no string is made.
 */
const KEY_SLOTS = 1024;
const keyTable: (KeyEntry | undefined)[] = new Array<KeyEntry | undefined>(KEY_SLOTS).fill(undefined);

/** The chains' starts: before the first key of a message, of `args`, of `objinst`. */
const startEntry = (): KeyEntry => ({ bytes: new Uint8Array(0), info: keyInfo(''), next: undefined });
const MESSAGE_START = startEntry();
const ARGS_START = startEntry();
const OBJINST_START = startEntry();

/** Where `key` left off: the index after the key's closing `\"`. */
let keyEnd = 0;

/** The member key whose opening `\"` is at `i`, after the key `prev`; sets `keyEnd`. */
function key(b: Buffer, i: number, prev: KeyEntry): KeyEntry {
  if (b[i] !== B.BS || b[i + 1] !== B.QUOTE) throw DECLINED;
  const s = i + 2;
  const guess = prev.next;
  if (guess !== undefined) {
    const kb = guess.bytes;
    const n = kb.length;
    let k = 0;
    while (k < n && kb[k] === b[s + k]) k++;
    // the stored key is plain, so equal bytes then the closing \" make the same key
    if (k === n && b[s + n] === B.BS && b[s + n + 1] === B.QUOTE) {
      keyEnd = s + n + 2;
      return guess;
    }
  }
  const e = lookupKey(b, s);
  prev.next = e;
  return e;
}

function lookupKey(b: Buffer, s: number): KeyEntry {
  let j = s;
  let h = 0x811c9dc5;
  let c = b[j] as number;
  while (c > B.QUOTE ? c !== B.BS : c >= B.SPACE && c !== B.QUOTE) {
    h = Math.imul(h ^ c, 0x01000193);
    c = b[++j] as number;
  }
  // an escaped key declines
  if (c !== B.BS || b[j + 1] !== B.QUOTE) throw DECLINED;
  keyEnd = j + 2;
  const n = j - s;
  h ^= n;
  // two ways per set: a pair of frequent keys that share a hash slot must not evict each other
  const slot = (h ^ (h >>> 15)) & (KEY_SLOTS - 2);
  for (let w = slot; w < slot + 2; w++) {
    const hit = keyTable[w];
    if (hit === undefined || hit.bytes.length !== n) continue;
    const kb = hit.bytes;
    let k = 0;
    while (k < n && kb[k] === b[s + k]) k++;
    if (k === n) return hit;
  }
  const entry: KeyEntry = {
    bytes: Uint8Array.from(b.subarray(s, j)),
    info: keyInfo(utf8(b, s, j)),
    next: undefined,
  };
  // the older way goes: move the first to the second
  keyTable[slot + 1] = keyTable[slot];
  keyTable[slot] = entry;
  return entry;
}

/** `{` at `i` (after whitespace): returns the index of the first member, or -(index after `}`)-1. */
function open(b: Buffer, i: number): number {
  if (b[i] !== B.LBRACE) throw DECLINED;
  i = ws(b, i + 1);
  return b[i] === B.RBRACE ? -(i + 1) - 1 : i;
}

/** Past the key at `i` and its colon: the index of the value. */
function afterKey(b: Buffer, i: number): number {
  i = ws(b, i);
  if (b[i] !== B.COLON) throw DECLINED;
  return ws(b, i + 1);
}

/** After a member's value at `i`: the next member's index, or -(index after `}`)-1 at the end. */
function next(b: Buffer, i: number): number {
  i = ws(b, i);
  const c = b[i];
  if (c === B.RBRACE) return -(i + 1) - 1;
  if (c !== B.COMMA) throw DECLINED;
  return ws(b, i + 1);
}

/**
 * Walks the members of the object at `at`, handing each key's name and value index to `read`,
 * which reads or skips the value and returns the index after it. Returns the index after `}`.
 */
function members(b: Buffer, at: number, start: KeyEntry, read: (name: string, i: number) => number): number {
  let i = open(b, at);
  let prev = start;
  while (i >= 0) {
    prev = key(b, i, prev);
    i = next(b, read(prev.info.name, afterKey(b, keyEnd)));
  }
  return -i - 1;
}

/** `args` of nova-object RPC: only objinst's `nova_object.name`, objname and objmethod count. */
function objectOf(b: Buffer, method: string, argsAt: number): string | undefined {
  if (b[argsAt] !== B.LBRACE) return novaObjectName(method, null);
  const args: Record<string, unknown> = {};
  members(b, argsAt, ARGS_START, (k, i) => {
    if (k === 'objmethod' || k === 'objname') {
      args[k] = value(b, i);
      return valueEnd;
    }
    if (k !== 'objinst') return skipValue(b, i);
    if (b[i] !== B.LBRACE) {
      args.objinst = null; // not an object: novaObjectName finds no name in it either
      return skipValue(b, i);
    }
    const inst: Record<string, unknown> = {};
    args.objinst = inst;
    return members(b, i, OBJINST_START, (ik, j) => {
      if (ik !== 'nova_object.name') return skipValue(b, j);
      inst[ik] = value(b, j);
      return valueEnd;
    });
  });
  return novaObjectName(method, args);
}

/** Reads the inner message starting at `start`; returns the index after it (and its whitespace). */
function scanInner(b: Buffer, start: number, f: FactsBuilder): number {
  let argsAt = -1;
  let i = open(b, ws(b, start));
  let prev = MESSAGE_START;
  while (i >= 0) {
    prev = key(b, i, prev);
    const k = prev.info;
    i = afterKey(b, keyEnd);
    if (k.read) {
      setFact(f, k, value(b, i));
      i = valueEnd;
    } else if (k.args) {
      argsAt = i;
      i = skipValue(b, i);
    } else {
      if (k.result) f.hasResult = true;
      i = skipValue(b, i);
    }
    i = next(b, i);
  }
  const end = ws(b, -i - 1);
  if (f.method !== undefined && argsAt >= 0 && f.method.startsWith('object_')) {
    const o = objectOf(b, f.method, argsAt);
    if (o !== undefined) f.object = o;
  }
  return end;
}

/** Outer JSON whitespace. */
function outerWs(b: Buffer, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === B.SPACE || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/** An outer key or the version: a string without escapes. Returns the index after its quote. */
function outerPlainString(b: Buffer, i: number): number {
  if (b[i] !== B.QUOTE) throw DECLINED;
  for (let j = i + 1; ; j++) {
    const c = b[j];
    if (c === B.QUOTE) return j + 1;
    if (c === undefined || c === B.BS || c < B.SPACE) throw DECLINED;
  }
}

/**
 * The facts of a 2.0 envelope read from its bytes, or undefined when the body is not of that
 * shape (the caller then uses the reference reader).
 */
export function scanBody(body: Uint8Array): BodyFacts | undefined {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  try {
    let i = outerWs(b, 0);
    if (b[i] !== B.LBRACE) return undefined;
    let version = false;
    let facts: FactsBuilder | undefined;
    i = outerWs(b, i + 1);
    for (;;) {
      const ks = i;
      i = outerPlainString(b, i);
      const k = latin1(b, ks + 1, i - 1);
      i = outerWs(b, i);
      if (b[i] !== B.COLON) return undefined;
      i = outerWs(b, i + 1);
      if (k === 'oslo.version' && !version) {
        version = true;
        i = outerPlainString(b, i);
      } else if (k === 'oslo.message' && facts === undefined) {
        if (b[i] !== B.QUOTE) return undefined;
        facts = newFacts('2.0');
        i = scanInner(b, i + 1, facts);
        // the inner text must end where the outer string does
        if (b[i] !== B.QUOTE) return undefined;
        i++;
      } else return undefined;
      i = outerWs(b, i);
      const c = b[i];
      if (c === B.RBRACE) break;
      if (c !== B.COMMA) return undefined;
      i = outerWs(b, i + 1);
    }
    if (outerWs(b, i + 1) !== b.length || !version || facts === undefined) return undefined;
    return facts;
  } catch (e) {
    if (e === DECLINED) return undefined;
    throw e;
  }
}
