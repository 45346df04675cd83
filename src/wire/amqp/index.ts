/** AMQP 0-9-1 codec: frames, methods, field tables, content headers, per-connection state. */

export { DecodeContext, MAX_ISSUES } from '../context.ts';
export { AmqpConnection, CLIENT_TO_SERVER, SERVER_TO_CLIENT, saslUser } from './connection.ts';
export { FrameFormatError } from './cursor.ts';
export type { AmqpDecimal, AmqpTimestamp } from './field-table.ts';
export { AmqpFrameStream, type FrameHandler, PROTOCOL_HEADER } from './frame-stream.ts';
export { type DecodedMethod, decodeMethod, METHODS, type MethodSpec, methodSpec } from './methods.ts';
export { type ContentHeader, decodeContentHeader } from './properties.ts';
