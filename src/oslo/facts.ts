/**
 * What the decoder keeps of an oslo.messaging body: the top-level fields that classify and name a
 * message, its redacted context and, for nova-object RPC, the object it acts on. Arguments,
 * results and payloads are never kept (they hold passwords and user data).
 *
 * Two readers produce these facts and must agree exactly: the selective byte scanner of
 * body-scan.ts (the fast path) and `factsOfMessage` below, from a fully parsed message tree (the
 * reference, and the fallback for whatever the scanner declines).
 */
import type { Envelope } from './envelope.ts';
import { novaObjectName } from './nova-object.ts';
import { contextKey, contextValue } from './redact.ts';

export interface BodyFacts {
  readonly envelope: Envelope;
  /** False when the body is not an oslo message (not JSON, or JSON without oslo keys). */
  readonly oslo: boolean;
  readonly method?: string;
  readonly namespace?: string;
  readonly version?: string;
  readonly msgId?: string;
  readonly replyQ?: string;
  readonly uniqueId?: string;
  /** `_timeout` when it is a finite number. */
  readonly timeoutS?: number;
  readonly eventType?: string;
  /** The body's own `priority` field (notifications), as sent. */
  readonly priority?: string;
  readonly publisherId?: string;
  /** `ending` when it is a boolean. */
  readonly ending?: boolean;
  /** Which reply keys are present, whatever their value. */
  readonly hasEnding: boolean;
  readonly hasResult: boolean;
  readonly hasFailure: boolean;
  /** The raw `failure` value (a JSON string from serialize_remote_exception, or null). */
  readonly failure?: unknown;
  /** `Instance.save` and the like, for nova-object RPC. */
  readonly object?: string;
  /** `_context_*` keys, prefix removed, redacted. */
  readonly context: Record<string, unknown>;
}

export const NOT_OSLO: BodyFacts = Object.freeze({
  envelope: 'none',
  oslo: false,
  hasEnding: false,
  hasResult: false,
  hasFailure: false,
  context: Object.freeze({}) as Record<string, unknown>,
});

/** The facts' mutable builder, filled in key order by either reader. */
export type FactsBuilder = { -readonly [K in keyof BodyFacts]: BodyFacts[K] };

export function newFacts(envelope: Envelope): FactsBuilder {
  return { envelope, oslo: true, hasEnding: false, hasResult: false, hasFailure: false, context: {} };
}

/** What a top-level key of the oslo message is to the facts (numbers: dispatched per key). */
export const Fact = {
  /** Neither kept nor looked at: skipped by the scanner. */
  None: 0,
  Method: 1,
  Namespace: 2,
  Version: 3,
  MsgId: 4,
  ReplyQ: 5,
  UniqueId: 6,
  Timeout: 7,
  EventType: 8,
  Priority: 9,
  PublisherId: 10,
  Ending: 11,
  Failure: 12,
  Context: 13,
  /** Present or not, the value does not matter. */
  Result: 14,
  /** Only read for nova-object RPC (the object name). */
  Args: 15,
} as const;
export type Fact = (typeof Fact)[keyof typeof Fact];

export interface KeyInfo {
  readonly fact: Fact;
  /** For `_context_*` keys: the name without the prefix, and whether its value is a secret. */
  readonly name: string;
  readonly secret: boolean;
}

const FIXED: Readonly<Record<string, Fact>> = {
  method: Fact.Method,
  namespace: Fact.Namespace,
  version: Fact.Version,
  _msg_id: Fact.MsgId,
  _reply_q: Fact.ReplyQ,
  _unique_id: Fact.UniqueId,
  _timeout: Fact.Timeout,
  event_type: Fact.EventType,
  priority: Fact.Priority,
  publisher_id: Fact.PublisherId,
  ending: Fact.Ending,
  failure: Fact.Failure,
  result: Fact.Result,
  args: Fact.Args,
};

/** Keys repeat in every message: the verdict is remembered per key (bounded). */
const infos = new Map<string, KeyInfo>();

export function keyInfo(key: string): KeyInfo {
  let v = infos.get(key);
  if (v === undefined) {
    const fixed = Object.hasOwn(FIXED, key) ? FIXED[key] : undefined;
    const c = fixed === undefined ? contextKey(key) : null;
    v =
      fixed !== undefined
        ? { fact: fixed, name: key, secret: false }
        : c !== null
          ? { fact: Fact.Context, name: c.name, secret: c.secret }
          : { fact: Fact.None, name: key, secret: false };
    if (infos.size < 10_000) infos.set(key, v);
  }
  return v;
}

type StringFact =
  | 'method'
  | 'namespace'
  | 'version'
  | 'msgId'
  | 'replyQ'
  | 'uniqueId'
  | 'eventType'
  | 'priority'
  | 'publisherId';

function putString(f: FactsBuilder, k: StringFact, v: unknown): void {
  // A later duplicate key wins, as in JSON.parse; delete only what is there (delete is costly)
  if (typeof v === 'string') f[k] = v;
  else if (f[k] !== undefined) delete f[k];
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
    case Fact.Method:
      putString(f, 'method', v);
      return;
    case Fact.Namespace:
      putString(f, 'namespace', v);
      return;
    case Fact.Version:
      putString(f, 'version', v);
      return;
    case Fact.MsgId:
      putString(f, 'msgId', v);
      return;
    case Fact.ReplyQ:
      putString(f, 'replyQ', v);
      return;
    case Fact.UniqueId:
      putString(f, 'uniqueId', v);
      return;
    case Fact.EventType:
      putString(f, 'eventType', v);
      return;
    case Fact.Priority:
      putString(f, 'priority', v);
      return;
    case Fact.PublisherId:
      putString(f, 'publisherId', v);
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

/** Keys that only an oslo.messaging message (RPC, reply or notification) carries. */
export function looksOslo(f: BodyFacts): boolean {
  return (
    f.method !== undefined ||
    f.msgId !== undefined ||
    f.eventType !== undefined ||
    f.hasEnding ||
    (f.hasFailure && f.hasResult)
  );
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
