/**
 * Declarations shared by the two body readers (body-scan.ts, facts.ts) and the envelope parser
 * (envelope.ts). They live apart so that envelope.ts, which drives both readers, is the only one
 * importing the others: no import loop between the three.
 */

/**
 * The oslo.messaging envelope of a body: '2.0' is `{"oslo.version", "oslo.message"}`
 * (`_drivers/common.py` serialize_msg), '1.0' a bare message dict, 'none' not oslo at all.
 */
export type Envelope = '2.0' | '1.0' | 'none';

export interface ParsedBody {
  readonly envelope: Envelope;
  /** The inner oslo message (a JSON object), when the body is one. */
  readonly msg?: Record<string, unknown>;
}
