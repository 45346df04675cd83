/**
 * What the decoder keeps of an oslo.messaging body: the top-level fields that classify and name a
 * message, its redacted context and, for nova-object RPC, the object it acts on. Arguments,
 * results and payloads are never kept (they hold passwords and user data).
 *
 * Two readers produce these facts and must agree exactly: the selective byte scanner of
 * body-scan.ts (the fast path) and `factsOfMessage` below, from a fully parsed message tree (the
 * reference, and the fallback for whatever the scanner declines).
 */
import type { RpcMessage } from '../../records.ts';
import { novaObjectName } from './nova-object.ts';
import { contextKey, contextValue } from './redact.ts';
import type { Envelope } from './types.ts';

/**
 * The record fields that come from the body keep their RpcMessage meaning (records.ts); the
 * publisher id is redacted later, by decodeRpc.
 */
type RecordFields = Pick<
  RpcMessage,
  | 'method'
  | 'namespace'
  | 'version'
  | 'msgId'
  | 'replyQ'
  | 'uniqueId'
  | 'timeoutS'
  | 'eventType'
  | 'publisherId'
  | 'ending'
  | 'object'
>;

export interface BodyFacts extends RecordFields {
  /** 'none' when the body is not an oslo message (not JSON, or JSON without oslo keys). */
  readonly envelope: Envelope;
  /** The body's own `priority` field (notifications), as sent; the record's is classified. */
  readonly priority?: string;
  /** Which reply keys are present, whatever their value. */
  readonly hasEnding: boolean;
  readonly hasResult: boolean;
  readonly hasFailure: boolean;
  /** The raw `failure` value (a JSON string from serialize_remote_exception, or null). */
  readonly failure?: unknown;
  /** `_context_*` keys, prefix removed, redacted. */
  readonly context: Record<string, unknown>;
}

export const NOT_OSLO: BodyFacts = Object.freeze({
  envelope: 'none',
  hasEnding: false,
  hasResult: false,
  hasFailure: false,
  context: Object.freeze({}) as Record<string, unknown>,
});

/** The facts' mutable builder, filled in key order by either reader. */
export type FactsBuilder = { -readonly [K in keyof BodyFacts]: BodyFacts[K] };

export function newFacts(envelope: Envelope): FactsBuilder {
  return { envelope, hasEnding: false, hasResult: false, hasFailure: false, context: {} };
}

/**
 * What a top-level key of the oslo message is to the facts. A const enum: esbuild writes each
 * member as a literal, where an object's members would be loaded at every comparison.
 */
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported, so isolated modules are not an issue, and inlining is the point
const enum Fact {
  /** Neither kept nor looked at: skipped by the scanner. */
  None,
  /** A string field of the facts (KeyInfo.field says which). */
  String,
  Timeout,
  Ending,
  Failure,
  Context,
  /** Present or not, the value does not matter. */
  Result,
  /** Only read for nova-object RPC (the object name). */
  Args,
}

/** The facts filled by a string value as it is. */
type StringFact = Exclude<keyof RecordFields, 'timeoutS' | 'ending' | 'object'> | 'priority';

export interface KeyInfo {
  readonly fact: Fact;
  /** The key, or for `_context_*` keys the name without the prefix. */
  readonly name: string;
  /** For context keys: whether the value is a secret. */
  readonly secret: boolean;
  /** For string facts: the field it fills (other keys carry a placeholder: one shape for all). */
  readonly field: StringFact;
  /** For a reader that skips values: whether this one is needed (handed to setFact). */
  readonly read: boolean;
  /** `args` (read only for the nova object name) and `result` (only its presence counts). */
  readonly args: boolean;
  readonly result: boolean;
}

const STRINGS: Readonly<Record<string, StringFact>> = {
  method: 'method',
  namespace: 'namespace',
  version: 'version',
  _msg_id: 'msgId',
  _reply_q: 'replyQ',
  _unique_id: 'uniqueId',
  event_type: 'eventType',
  priority: 'priority',
  publisher_id: 'publisherId',
};

const OTHERS: Readonly<Record<string, Fact>> = {
  _timeout: Fact.Timeout,
  ending: Fact.Ending,
  failure: Fact.Failure,
  result: Fact.Result,
  args: Fact.Args,
};

/** Keys repeat in every message: the verdict is remembered per key (bounded). */
const infos = new Map<string, KeyInfo>();

function info(fact: Fact, name: string, secret = false, field: StringFact = 'method'): KeyInfo {
  const read = fact !== Fact.None && fact !== Fact.Args && fact !== Fact.Result;
  return { fact, name, secret, field, read, args: fact === Fact.Args, result: fact === Fact.Result };
}

function classifyKey(key: string): KeyInfo {
  const field = Object.hasOwn(STRINGS, key) ? STRINGS[key] : undefined;
  if (field !== undefined) return info(Fact.String, key, false, field);
  const other = Object.hasOwn(OTHERS, key) ? OTHERS[key] : undefined;
  if (other !== undefined) return info(other, key);
  const c = contextKey(key);
  return c !== null ? info(Fact.Context, c.name, c.secret) : info(Fact.None, key);
}

export function keyInfo(key: string): KeyInfo {
  let v = infos.get(key);
  if (v === undefined) {
    v = classifyKey(key);
    if (infos.size < 10_000) infos.set(key, v);
  }
  return v;
}

/**
 * Records the value of one top-level key of the oslo message. `args` is not recorded here: its
 * only use is the nova object name, which each reader takes from it in its own way.
 */
export function setFact(f: FactsBuilder, k: KeyInfo, v: unknown): void {
  switch (k.fact) {
    case Fact.Context:
      f.context[k.name] = contextValue(k.secret, v);
      return;
    case Fact.String:
      // A later duplicate key wins, as in JSON.parse; delete only what is there (delete is costly)
      if (typeof v === 'string') f[k.field] = v;
      else if (f[k.field] !== undefined) delete f[k.field];
      return;
    case Fact.Timeout:
      if (typeof v === 'number' && Number.isFinite(v)) f.timeoutS = v;
      else if (f.timeoutS !== undefined) delete f.timeoutS;
      return;
    case Fact.Ending:
      f.hasEnding = true;
      if (typeof v === 'boolean') f.ending = v;
      else if (f.ending !== undefined) delete f.ending;
      return;
    case Fact.Failure:
      f.hasFailure = true;
      f.failure = v;
      return;
    case Fact.Result:
      f.hasResult = true;
      return;
    default:
  }
}

/** The reference reader: facts of an already parsed oslo message. */
export function factsOfMessage(envelope: Envelope, msg: Record<string, unknown>): BodyFacts {
  const f = newFacts(envelope);
  for (const k in msg) setFact(f, keyInfo(k), msg[k]);
  if (f.method !== undefined) {
    const o = novaObjectName(f.method, msg.args);
    if (o !== undefined) f.object = o;
  }
  return f;
}
