/**
 * AMQP 0-9-1 method frames (§4.2.4 and the class reference, amqp0-9-1.xml): a method payload is
 * class-id (short), method-id (short) and the arguments in declaration order. Consecutive `bit`
 * arguments share octets, least significant bit first (§4.2.5.2). Argument names are the spec's
 * in camelCase (the names amqplib and most clients use), so decoded methods compare directly.
 */
import { Cursor, FrameFormatError } from './cursor.ts';
import { decodeTable } from './field-table.ts';

export type ArgType = 'octet' | 'short' | 'long' | 'longlong' | 'shortstr' | 'longstr' | 'bit' | 'table';

export interface MethodSpec {
  readonly classId: number;
  readonly methodId: number;
  readonly name: string;
  readonly args: readonly { readonly name: string; readonly type: ArgType }[];
}

export interface DecodedMethod {
  readonly classId: number;
  readonly methodId: number;
  readonly name: string;
  /**
   * Arguments by name. `longstr` arguments (Connection.StartOk `response`, Start `mechanisms`...)
   * are views into the input, valid only during the call that produced them: they may carry
   * credentials and must never be stored.
   */
  readonly args: Record<string, unknown>;
}

function m(classId: number, methodId: number, name: string, sig: string): MethodSpec {
  const args =
    sig === ''
      ? []
      : sig.split(' ').map((a) => {
          const [n, t] = a.split(':') as [string, ArgType];
          return { name: n, type: t };
        });
  return { classId, methodId, name, args };
}

/** Every method of AMQP 0-9-1 with RabbitMQ's extensions (Confirm, Exchange.Bind, Basic.Nack...). */
export const METHODS: readonly MethodSpec[] = [
  m(
    10,
    10,
    'ConnectionStart',
    'versionMajor:octet versionMinor:octet serverProperties:table mechanisms:longstr locales:longstr',
  ),
  m(
    10,
    11,
    'ConnectionStartOk',
    'clientProperties:table mechanism:shortstr response:longstr locale:shortstr',
  ),
  m(10, 20, 'ConnectionSecure', 'challenge:longstr'),
  m(10, 21, 'ConnectionSecureOk', 'response:longstr'),
  m(10, 30, 'ConnectionTune', 'channelMax:short frameMax:long heartbeat:short'),
  m(10, 31, 'ConnectionTuneOk', 'channelMax:short frameMax:long heartbeat:short'),
  m(10, 40, 'ConnectionOpen', 'virtualHost:shortstr capabilities:shortstr insist:bit'),
  m(10, 41, 'ConnectionOpenOk', 'knownHosts:shortstr'),
  m(10, 50, 'ConnectionClose', 'replyCode:short replyText:shortstr classId:short methodId:short'),
  m(10, 51, 'ConnectionCloseOk', ''),
  m(10, 60, 'ConnectionBlocked', 'reason:shortstr'),
  m(10, 61, 'ConnectionUnblocked', ''),
  m(10, 70, 'ConnectionUpdateSecret', 'newSecret:longstr reason:shortstr'),
  m(10, 71, 'ConnectionUpdateSecretOk', ''),
  m(20, 10, 'ChannelOpen', 'outOfBand:shortstr'),
  m(20, 11, 'ChannelOpenOk', 'channelId:longstr'),
  m(20, 20, 'ChannelFlow', 'active:bit'),
  m(20, 21, 'ChannelFlowOk', 'active:bit'),
  m(20, 40, 'ChannelClose', 'replyCode:short replyText:shortstr classId:short methodId:short'),
  m(20, 41, 'ChannelCloseOk', ''),
  m(30, 10, 'AccessRequest', 'realm:shortstr exclusive:bit passive:bit active:bit write:bit read:bit'),
  m(30, 11, 'AccessRequestOk', 'ticket:short'),
  m(
    40,
    10,
    'ExchangeDeclare',
    'ticket:short exchange:shortstr type:shortstr passive:bit durable:bit autoDelete:bit internal:bit nowait:bit arguments:table',
  ),
  m(40, 11, 'ExchangeDeclareOk', ''),
  m(40, 20, 'ExchangeDelete', 'ticket:short exchange:shortstr ifUnused:bit nowait:bit'),
  m(40, 21, 'ExchangeDeleteOk', ''),
  m(
    40,
    30,
    'ExchangeBind',
    'ticket:short destination:shortstr source:shortstr routingKey:shortstr nowait:bit arguments:table',
  ),
  m(40, 31, 'ExchangeBindOk', ''),
  m(
    40,
    40,
    'ExchangeUnbind',
    'ticket:short destination:shortstr source:shortstr routingKey:shortstr nowait:bit arguments:table',
  ),
  m(40, 51, 'ExchangeUnbindOk', ''),
  m(
    50,
    10,
    'QueueDeclare',
    'ticket:short queue:shortstr passive:bit durable:bit exclusive:bit autoDelete:bit nowait:bit arguments:table',
  ),
  m(50, 11, 'QueueDeclareOk', 'queue:shortstr messageCount:long consumerCount:long'),
  m(
    50,
    20,
    'QueueBind',
    'ticket:short queue:shortstr exchange:shortstr routingKey:shortstr nowait:bit arguments:table',
  ),
  m(50, 21, 'QueueBindOk', ''),
  m(50, 30, 'QueuePurge', 'ticket:short queue:shortstr nowait:bit'),
  m(50, 31, 'QueuePurgeOk', 'messageCount:long'),
  m(50, 40, 'QueueDelete', 'ticket:short queue:shortstr ifUnused:bit ifEmpty:bit nowait:bit'),
  m(50, 41, 'QueueDeleteOk', 'messageCount:long'),
  m(
    50,
    50,
    'QueueUnbind',
    'ticket:short queue:shortstr exchange:shortstr routingKey:shortstr arguments:table',
  ),
  m(50, 51, 'QueueUnbindOk', ''),
  m(60, 10, 'BasicQos', 'prefetchSize:long prefetchCount:short global:bit'),
  m(60, 11, 'BasicQosOk', ''),
  m(
    60,
    20,
    'BasicConsume',
    'ticket:short queue:shortstr consumerTag:shortstr noLocal:bit noAck:bit exclusive:bit nowait:bit arguments:table',
  ),
  m(60, 21, 'BasicConsumeOk', 'consumerTag:shortstr'),
  m(60, 30, 'BasicCancel', 'consumerTag:shortstr nowait:bit'),
  m(60, 31, 'BasicCancelOk', 'consumerTag:shortstr'),
  m(60, 40, 'BasicPublish', 'ticket:short exchange:shortstr routingKey:shortstr mandatory:bit immediate:bit'),
  m(60, 50, 'BasicReturn', 'replyCode:short replyText:shortstr exchange:shortstr routingKey:shortstr'),
  m(
    60,
    60,
    'BasicDeliver',
    'consumerTag:shortstr deliveryTag:longlong redelivered:bit exchange:shortstr routingKey:shortstr',
  ),
  m(60, 70, 'BasicGet', 'ticket:short queue:shortstr noAck:bit'),
  m(
    60,
    71,
    'BasicGetOk',
    'deliveryTag:longlong redelivered:bit exchange:shortstr routingKey:shortstr messageCount:long',
  ),
  m(60, 72, 'BasicGetEmpty', 'clusterId:shortstr'),
  m(60, 80, 'BasicAck', 'deliveryTag:longlong multiple:bit'),
  m(60, 90, 'BasicReject', 'deliveryTag:longlong requeue:bit'),
  m(60, 100, 'BasicRecoverAsync', 'requeue:bit'),
  m(60, 110, 'BasicRecover', 'requeue:bit'),
  m(60, 111, 'BasicRecoverOk', ''),
  m(60, 120, 'BasicNack', 'deliveryTag:longlong multiple:bit requeue:bit'),
  m(85, 10, 'ConfirmSelect', 'nowait:bit'),
  m(85, 11, 'ConfirmSelectOk', ''),
  m(90, 10, 'TxSelect', ''),
  m(90, 11, 'TxSelectOk', ''),
  m(90, 20, 'TxCommit', ''),
  m(90, 21, 'TxCommitOk', ''),
  m(90, 30, 'TxRollback', ''),
  m(90, 31, 'TxRollbackOk', ''),
];

const byId = new Map<number, MethodSpec>(METHODS.map((s) => [(s.classId << 16) | s.methodId, s]));

export function methodSpec(classId: number, methodId: number): MethodSpec | undefined {
  return byId.get((classId << 16) | methodId);
}

/** Decodes a method frame payload buf[start, end). Throws FrameFormatError on malformed input. */
export function decodeMethod(buf: Uint8Array, start: number, end: number): DecodedMethod {
  const c = new Cursor(buf, start, end);
  const classId = c.u16();
  const methodId = c.u16();
  const spec = byId.get((classId << 16) | methodId);
  if (spec === undefined) throw new FrameFormatError(`unknown method ${classId}.${methodId}`, start);
  const args: Record<string, unknown> = {};
  let bits = 0;
  let bit = 8; // > 7: the next bit argument starts a new octet
  for (const a of spec.args) {
    if (a.type === 'bit') {
      if (bit > 7) {
        bits = c.u8();
        bit = 0;
      }
      args[a.name] = (bits & (1 << bit)) !== 0;
      bit++;
      continue;
    }
    bit = 8;
    switch (a.type) {
      case 'octet':
        args[a.name] = c.u8();
        break;
      case 'short':
        args[a.name] = c.u16();
        break;
      case 'long':
        args[a.name] = c.u32();
        break;
      case 'longlong':
        args[a.name] = c.u64();
        break;
      case 'shortstr':
        args[a.name] = c.shortstr();
        break;
      case 'longstr':
        args[a.name] = c.subview(c.u32());
        break;
      case 'table':
        args[a.name] = decodeTable(c);
        break;
    }
  }
  // Trailing bytes are tolerated (§4.2.3 forbids them, but old clients pad); missing ones are not.
  return { classId, methodId, name: spec.name, args };
}
