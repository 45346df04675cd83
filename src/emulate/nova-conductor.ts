/**
 * A nova-compute's start-up RPCs to a REAL nova-conductor, for emulated computes (nova.ts): what
 * nova/service.py Service.start does before its heartbeats begin —
 * `Service.get_by_host_and_binary(host, 'nova-compute')` and, when there is no row,
 * `Service(host, binary, topic, report_count=0).create()` — sent as the object indirection API
 * sends them (conductor topic, RPC version 3.0, admin context) on one connection with one reply
 * queue, as one process would; optionally the resource tracker's first `ComputeNode.create` too. The conductor's answer (the row, with its id) is registered in
 * nova.ts, and the emulated compute's heartbeats carry it from then on. `destroy` is
 * `Service.destroy()` through the same conductor (soft-deletes the row and its compute nodes).
 */
import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { RpcscopeError } from '../errors.ts';
import {
  encodeCall,
  OSLO_DEFAULT_QUEUE_OPTIONS,
  openEnvelope,
  type PyJson,
  replyQueue,
  replyQueueName,
} from '../wire/oslo/encode.ts';
import { CONNECT_TIMEOUT_MS } from './connection.ts';
import {
  COMPUTE_NODE_LIST_TREE,
  NOVA_ADMIN_CONTEXT_KEYS,
  type NovaServiceRow,
  registerNovaService,
  SERVICE_TREE,
  servicePrimitive,
  serviceRow,
  ZED_SERVICE_OBJECT_VERSION,
  ZED_SERVICE_VERSION,
} from './nova.ts';

function adminContext(): Record<string, PyJson> {
  const c: Record<string, PyJson> = {};
  for (const k of NOVA_ADMIN_CONTEXT_KEYS) c[k] = null;
  return {
    ...c,
    is_admin: true,
    read_only: false,
    show_deleted: false,
    request_id: `req-${randomUUID()}`,
    roles: [],
    user_identity: '- - - - -',
    is_admin_project: true,
    read_deleted: 'no',
    timestamp: new Date().toISOString().replace('Z', '').padEnd(26, '0'),
    service_catalog: [],
  };
}

/** A remote failure or a timeout of a conductor call. */
export class NovaConductorError extends RpcscopeError {
  /** The remote exception's class ("ServiceNotFound"), or "timeout". */
  readonly remoteClass: string;
  constructor(remoteClass: string, message: string) {
    super('RPCSCOPE_RUN_INCOMPLETE', message);
    this.remoteClass = remoteClass;
  }
}

interface Pending {
  resolve: (v: PyJson) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** One connection to the nova vhost that calls the conductor as nova's object indirection API does. */
export class NovaConductorClient {
  readonly #conn: ChannelModel;
  readonly #ch: Channel;
  readonly #replyQ: string;
  readonly #pending = new Map<string, Pending>();
  readonly #exchange: string;
  readonly #timeoutS: number;

  private constructor(conn: ChannelModel, ch: Channel, replyQ: string, exchange: string, timeoutS: number) {
    this.#conn = conn;
    this.#ch = ch;
    this.#replyQ = replyQ;
    this.#exchange = exchange;
    this.#timeoutS = timeoutS;
  }

  /** Connects to `url` (the nova vhost); `exchange` is nova's control_exchange. */
  static async connect(url: string, opts: { exchange?: string; timeoutS?: number } = {}) {
    let conn: ChannelModel;
    try {
      conn = await amqp.connect(url, {
        timeout: CONNECT_TIMEOUT_MS,
        clientProperties: { connection_name: `nova-compute:${process.pid}:${randomUUID()}` },
      });
    } catch (e) {
      throw new RpcscopeError(
        'RPCSCOPE_BROKER_UNREACHABLE',
        `nova conductor client: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    const ch = await conn.createChannel();
    const name = replyQueueName();
    const q = replyQueue(name, OSLO_DEFAULT_QUEUE_OPTIONS);
    await ch.assertQueue(q.name, { durable: q.durable, autoDelete: q.autoDelete, arguments: q.arguments });
    const client = new NovaConductorClient(conn, ch, name, opts.exchange ?? 'nova', opts.timeoutS ?? 60);
    await ch.consume(name, (m) => client.#onReply(m), { noAck: true });
    return client;
  }

  #onReply(m: ConsumeMessage | null): void {
    if (m === null) return;
    const inner = openEnvelope(m.content);
    const id = inner?._msg_id;
    if (inner === undefined || typeof id !== 'string' || inner.ending === false) return;
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    const failure = inner.failure;
    if (typeof failure === 'string' && failure !== '') {
      let cls = 'RemoteError';
      let msg = failure;
      try {
        const f = JSON.parse(failure) as { class?: string; message?: string };
        cls = f.class ?? cls;
        msg = f.message ?? msg;
      } catch {
        // not serialize_remote_exception's JSON: keep the text
      }
      p.reject(new NovaConductorError(cls, `conductor: ${cls}: ${msg}`));
      return;
    }
    p.resolve((inner.result ?? null) as PyJson);
  }

  /** One call to the conductor topic (ConductorAPI, version 3.0); resolves with the result. */
  call(method: string, args: Record<string, PyJson>): Promise<PyJson> {
    const msg = encodeCall(
      { exchange: this.#exchange, topic: 'conductor', method, args, version: '3.0', context: adminContext() },
      { replyQ: this.#replyQ, timeoutS: this.#timeoutS },
    );
    const msgId = msg.msgId!;
    return new Promise<PyJson>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(msgId);
        reject(new NovaConductorError('timeout', `conductor: no reply to ${method} in ${this.#timeoutS} s`));
      }, this.#timeoutS * 1000);
      this.#pending.set(msgId, { resolve, reject, timer });
      this.#ch.publish(msg.exchange, msg.routingKey, msg.body, {
        ...msg.properties,
        mandatory: msg.mandatory,
      });
    });
  }

  /** Service.get_by_host_and_binary(context, host, binary): the live row or undefined. */
  async getService(host: string, binary = 'nova-compute'): Promise<NovaServiceRow | undefined> {
    const r = await this.call('object_class_action_versions', {
      objname: 'Service',
      objmethod: 'get_by_host_and_binary',
      object_versions: { ...SERVICE_TREE },
      args: [host, binary],
      kwargs: {},
    });
    if (r === null) return undefined;
    const row = serviceRow((r as Record<string, PyJson>)['nova_object.data']);
    if (row === undefined)
      throw new NovaConductorError('BadReply', `conductor: ${JSON.stringify(r).slice(0, 200)}`);
    return row;
  }

  /**
   * Service.create() of `Service(host, binary, topic, report_count=0)` as nova/service.py
   * _create_service_ref makes it; the conductor answers object_action with (updates, result),
   * the updates being every field it set (id, uuid, created_at...).
   */
  async createService(host: string, binary = 'nova-compute', topic = 'compute'): Promise<NovaServiceRow> {
    const r = await this.call('object_action', {
      objinst: {
        'nova_object.name': 'Service',
        'nova_object.namespace': 'nova',
        'nova_object.version': ZED_SERVICE_OBJECT_VERSION,
        // Service.__init__ sets version = SERVICE_VERSION, so it is always among the changes: a
        // row created without it has version 0 and every later save fails ServiceTooOld
        'nova_object.data': { host, binary, topic, report_count: 0, version: ZED_SERVICE_VERSION },
        'nova_object.changes': ['binary', 'host', 'report_count', 'topic', 'version'],
      },
      objmethod: 'create',
      args: [],
      kwargs: {},
    });
    const updates = Array.isArray(r) ? (r[0] as Record<string, PyJson> | undefined) : undefined;
    const row = serviceRow({
      host,
      binary,
      topic,
      report_count: 0,
      version: ZED_SERVICE_VERSION,
      ...(updates ?? {}),
    });
    if (row === undefined)
      throw new NovaConductorError(
        'BadReply',
        `conductor: create answered ${JSON.stringify(r).slice(0, 200)}`,
      );
    return row;
  }

  /**
   * The ComputeNode primitives of a host: ComputeNodeList.get_all_by_host as the resource tracker
   * sends it; none when the conductor answers ComputeHostNotFound.
   */
  async computeNodes(host: string): Promise<Record<string, PyJson>[]> {
    try {
      const r = await this.call('object_class_action_versions', {
        objname: 'ComputeNodeList',
        objmethod: 'get_all_by_host',
        object_versions: { ...COMPUTE_NODE_LIST_TREE },
        args: [host],
        kwargs: { use_slave: true },
      });
      const data = (r as Record<string, PyJson> | null)?.['nova_object.data'] as
        | Record<string, PyJson>
        | undefined;
      return ((data?.objects ?? []) as Record<string, PyJson>[]).slice();
    } catch (e) {
      if (e instanceof NovaConductorError && e.remoteClass === 'ComputeHostNotFound') return [];
      throw e;
    }
  }

  /**
   * ComputeNode.create() of a node for `host` shaped as `template` (a real compute's node, e.g.
   * the rig's fake-driver host, from computeNodes()): the resource tracker's _init_compute_node
   * sends the driver's resources with host and hypervisor_hostname set (the fake driver's node
   * name is the host); the row's own id, uuid, timestamps and cell mapping are the new row's.
   */
  async createComputeNode(host: string, template: Record<string, PyJson>): Promise<number> {
    const data = { ...((template['nova_object.data'] ?? {}) as Record<string, PyJson>) };
    for (const k of [
      'id',
      'uuid',
      'service_id',
      'mapped',
      'created_at',
      'updated_at',
      'deleted_at',
      'deleted',
    ])
      delete data[k];
    data.host = host;
    data.hypervisor_hostname = host;
    const r = await this.call('object_action', {
      objinst: {
        'nova_object.name': 'ComputeNode',
        'nova_object.namespace': 'nova',
        'nova_object.version': String(template['nova_object.version'] ?? COMPUTE_NODE_LIST_TREE.ComputeNode),
        'nova_object.data': data,
        'nova_object.changes': Object.keys(data),
      },
      objmethod: 'create',
      args: [],
      kwargs: {},
    });
    const id = Array.isArray(r) ? (r[0] as Record<string, PyJson> | undefined)?.id : undefined;
    if (typeof id !== 'number')
      throw new NovaConductorError(
        'BadReply',
        `conductor: ComputeNode.create answered ${JSON.stringify(r).slice(0, 200)}`,
      );
    return id;
  }

  /**
   * The host's Service row (an earlier run's, else a new one), registered for its heartbeats;
   * with `nodeTemplate`, also its compute node (made as the resource tracker does when missing).
   */
  async ensureCompute(
    host: string,
    nodeTemplate?: Record<string, PyJson>,
  ): Promise<{ row: NovaServiceRow; created: boolean }> {
    const found = await this.getService(host);
    const row = found ?? (await this.createService(host));
    if (nodeTemplate !== undefined && (await this.computeNodes(host)).length === 0)
      await this.createComputeNode(host, nodeTemplate);
    registerNovaService(row);
    return { row, created: found === undefined };
  }

  /** Service.destroy(): the conductor soft-deletes the row (and the host's compute nodes). */
  async destroyService(row: NovaServiceRow): Promise<void> {
    await this.call('object_action', {
      objinst: servicePrimitive(row, []),
      objmethod: 'destroy',
      args: [],
      kwargs: {},
    });
  }

  async close(): Promise<void> {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new NovaConductorError('closed', 'conductor client closed'));
    }
    this.#pending.clear();
    await this.#ch.deleteQueue(this.#replyQ).catch(() => undefined);
    await this.#conn.close().catch(() => undefined);
  }
}

/**
 * Makes (or finds) the Service rows of `hosts` through the real conductor, `parallel` calls at a
 * time (nova-computes starting together), and registers them; returns the rows in host order.
 */
export async function ensureComputes(
  client: NovaConductorClient,
  hosts: readonly string[],
  opts: { parallel?: number; nodeTemplate?: Record<string, PyJson> } = {},
): Promise<{ rows: NovaServiceRow[]; created: number }> {
  const rows: NovaServiceRow[] = new Array(hosts.length);
  let created = 0;
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const i = next++;
      const r = await client.ensureCompute(hosts[i]!, opts.nodeTemplate);
      rows[i] = r.row;
      if (r.created) created++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.parallel ?? 8) }, worker));
  return { rows, created };
}
