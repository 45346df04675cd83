/**
 * Wire knowledge without I/O: pcap/pcapng containers and link layers, TCP reassembly, the AMQP
 * 0-9-1 codec, the oslo.messaging envelope, queue and exchange naming, firehose records.
 */
export {
  AmqpConnection,
  type AmqpDecimal,
  AmqpFrameStream,
  type AmqpTimestamp,
  type ContentHeader,
  DecodeContext,
  type DecodedMethod,
  decodeContentHeader,
  decodeMethod,
  FrameFormatError,
  type FrameHandler,
  MAX_ISSUES,
  METHODS,
  type MethodSpec,
  methodSpec,
  PROTOCOL_HEADER,
} from './amqp/index.ts';
export {
  connectionFromName,
  propertiesFromTable,
  propertiesToTable,
  wireFromFirehose,
} from './firehose/record.ts';
export {
  fanoutExchangeName,
  fanoutQueueName,
  isReplyQueue,
  NOTIFICATION_PRIORITIES,
  notificationKey,
  parseQueueName,
  type QueueName,
  replyQueueName,
  serverKey,
  splitNotificationKey,
  splitTopic,
  TRACE_EXCHANGE,
  topicOfFanoutExchange,
} from './naming.ts';
export {
  type BodyFacts,
  bodyFacts,
  classify,
  decodeRpc,
  factsOfMessage,
  isSecretKey,
  novaObjectName,
  parseBody,
  parseFailure,
  REDACTED,
  redactString,
  redactValue,
  wireWithoutBody,
} from './oslo/index.ts';
export { type PacketHandler, PcapContainer } from './pcap/container.ts';
export {
  DEFAULT_AMQP_PORT,
  type PcapDecodeOptions,
  type PcapReadResult,
  PcapStreamDecoder,
} from './pcap/decoder.ts';
export { parsePacket, type TcpPacket } from './pcap/link.ts';
export { TcpFlows } from './tcp/flows.ts';
export { type ByteStreamSink, TcpDirection } from './tcp/reassembly.ts';
