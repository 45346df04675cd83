/** oslo.messaging meaning of wire messages: envelope, classification, context, redaction. */
export { classify, splitTopic } from './classify.ts';
export { decodeRpc, wireWithoutBody } from './decode.ts';
export { bodyFacts, parseBody } from './envelope.ts';
export { type BodyFacts, factsOfMessage } from './facts.ts';
export { parseFailure } from './failure.ts';
export { novaObjectName } from './nova-object.ts';
export { contextKey, contextValue, isSecretKey, REDACTED, redactString, redactValue } from './redact.ts';
