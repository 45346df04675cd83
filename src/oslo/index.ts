/** oslo.messaging meaning of wire messages: envelope, classification, context, redaction. */
export { classify, splitTopic } from './classify.ts';
export { decodeRpc, wireWithoutBody } from './decode.ts';
export { parseBody } from './envelope.ts';
export { parseFailure } from './failure.ts';
export { novaObjectName } from './nova-object.ts';
export { extractContext, isSecretKey, REDACTED, redactString, redactValue } from './redact.ts';
