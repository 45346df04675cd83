/**
 * A small typed client of the RabbitMQ management HTTP API (rabbitmq_management plugin,
 * https://www.rabbitmq.com/docs/http-api-reference). Only the fields rpcscope reads are typed;
 * every object keeps the rest of what the broker sent, so callers can read more without a new
 * client. Credentials come from the base URL or RPCSCOPE_MGMT_USER / RPCSCOPE_MGMT_PASS and are
 * never part of a message: errors name the URL through `redactUrl`.
 */
import { RpcscopeError } from '../errors.ts';
import { redactUrl } from '../util/url.ts';

export interface ManagementOptions {
  /** Base URL, e.g. "http://127.0.0.1:15672" or "http://user:pass@host:15672". */
  readonly url: string;
  readonly user?: string;
  readonly password?: string;
  /** Per-request timeout; the management API answers in milliseconds when healthy. */
  readonly timeoutMs?: number;
  /** Environment to read RPCSCOPE_MGMT_USER / RPCSCOPE_MGMT_PASS from (tests pass their own). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface Overview {
  readonly management_version: string;
  readonly rabbitmq_version?: string;
  readonly cluster_name?: string;
  readonly node: string;
  readonly object_totals?: {
    readonly connections: number;
    readonly channels: number;
    readonly exchanges: number;
    readonly queues: number;
    readonly consumers: number;
  };
  readonly queue_totals?: {
    readonly messages?: number;
    readonly messages_ready?: number;
    readonly messages_unacknowledged?: number;
  };
  readonly message_stats?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

export interface Vhost {
  readonly name: string;
  /** Firehose on (rabbitmqctl trace_on) for this vhost on the node that answered. */
  readonly tracing: boolean;
  readonly description?: string;
  readonly messages?: number;
  readonly [key: string]: unknown;
}

export interface VhostSettings {
  readonly tracing?: boolean;
  readonly description?: string;
  readonly tags?: string;
  readonly default_queue_type?: string;
}

export interface Queue {
  readonly name: string;
  readonly vhost: string;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly exclusive?: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly type?: string;
  readonly node?: string;
  readonly state?: string;
  /** Absent on a queue whose stats were not yet emitted (just declared). */
  readonly consumers?: number;
  readonly messages?: number;
  readonly messages_ready?: number;
  readonly messages_unacknowledged?: number;
  readonly idle_since?: string;
  readonly memory?: number;
  readonly [key: string]: unknown;
}

export interface Connection {
  /** "127.0.0.1:54838 -> 127.0.0.1:5672", the same string as the tracing log's `connection`. */
  readonly name: string;
  readonly vhost: string;
  readonly user: string;
  readonly node?: string;
  readonly state?: string;
  readonly channels?: number;
  readonly peer_host: string;
  readonly peer_port: number;
  readonly host?: string;
  readonly port?: number;
  readonly connected_at?: number;
  readonly client_properties: {
    /** oslo.messaging sets "<binary>:<pid>:<uuid>" (impl_rabbit Connection, `connection_name`). */
    readonly connection_name?: string;
    readonly product?: string;
    readonly version?: string;
    readonly platform?: string;
    readonly [key: string]: unknown;
  };
  readonly [key: string]: unknown;
}

export interface Channel {
  readonly name: string;
  readonly number: number;
  readonly vhost: string;
  readonly user: string;
  readonly node?: string;
  readonly consumer_count?: number;
  readonly prefetch_count?: number;
  readonly messages_unacknowledged?: number;
  readonly connection_details?: {
    readonly name: string;
    readonly peer_host: string;
    readonly peer_port: number;
  };
  readonly [key: string]: unknown;
}

export interface Node {
  readonly name: string;
  readonly running: boolean;
  readonly type?: string;
  readonly mem_used?: number;
  readonly mem_limit?: number;
  readonly mem_alarm?: boolean;
  readonly disk_free?: number;
  readonly disk_free_limit?: number;
  readonly disk_free_alarm?: boolean;
  readonly fd_used?: number;
  readonly fd_total?: number;
  readonly sockets_used?: number;
  readonly sockets_total?: number;
  readonly proc_used?: number;
  readonly proc_total?: number;
  readonly uptime?: number;
  readonly [key: string]: unknown;
}

export interface Exchange {
  readonly name: string;
  readonly vhost: string;
  readonly type: string;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly internal: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

/** A binding: `source` exchange ("" = the default one) → `destination` queue or exchange. */
export interface Binding {
  readonly source: string;
  readonly destination: string;
  readonly destination_type: string;
  readonly routing_key: string;
  readonly vhost?: string;
}

/** A rabbitmq_tracing trace (PUT /api/traces/<vhost>/<name>). */
export interface TraceSpec {
  readonly format: 'json' | 'text';
  readonly pattern: string;
  readonly tracer_connection_username?: string;
  readonly tracer_connection_password?: string;
  readonly max_payload_bytes?: number;
}

export interface Trace {
  readonly name: string;
  readonly vhost: string;
  readonly format: string;
  readonly pattern: string;
  readonly [key: string]: unknown;
}

export interface TraceFile {
  readonly name: string;
  readonly size: number;
}

/** A management API answer other than 2xx; `status` lets callers tell 404 (absent) from failures. */
export class ManagementApiError extends RpcscopeError {
  readonly status: number;
  readonly url: string;
  constructor(message: string, opts: { status: number; url: string; cause?: unknown }) {
    super('RPCSCOPE_MANAGEMENT_API', message, {
      ...(opts.cause === undefined ? {} : { cause: opts.cause }),
      context: { input: opts.url },
    });
    this.status = opts.status;
    this.url = opts.url;
  }
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ManagementApiError && e.status === 404;
}

type Method = 'GET' | 'PUT' | 'DELETE' | 'POST';

const enc = encodeURIComponent;

export class ManagementClient {
  /** Base URL without credentials and without a trailing slash. */
  readonly baseUrl: string;
  readonly #auth: string;
  readonly #timeoutMs: number;

  constructor(opts: ManagementOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch (cause) {
      throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', 'management URL is not a valid http(s) URL', {
        cause,
        context: { input: redactUrl(opts.url) },
      });
    }
    const env = opts.env ?? process.env;
    const user = opts.user ?? (decodeURIComponent(parsed.username) || env.RPCSCOPE_MGMT_USER || 'guest');
    const password =
      opts.password ?? (decodeURIComponent(parsed.password) || env.RPCSCOPE_MGMT_PASS || 'guest');
    parsed.username = '';
    parsed.password = '';
    this.baseUrl = parsed.toString().replace(/\/+$/, '');
    this.#auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  overview(): Promise<Overview> {
    return this.#json<Overview>('GET', '/api/overview');
  }

  vhosts(): Promise<Vhost[]> {
    return this.#json<Vhost[]>('GET', '/api/vhosts');
  }

  vhost(name: string): Promise<Vhost> {
    return this.#json<Vhost>('GET', `/api/vhosts/${enc(name)}`);
  }

  /** Creates the vhost or updates its settings; `{ tracing: true }` is `rabbitmqctl trace_on`. */
  async putVhost(name: string, settings: VhostSettings = {}): Promise<void> {
    await this.#request('PUT', `/api/vhosts/${enc(name)}`, settings);
  }

  async deleteVhost(name: string): Promise<void> {
    await this.#request('DELETE', `/api/vhosts/${enc(name)}`);
  }

  async setPermissions(vhost: string, user: string, perms = { configure: '.*', write: '.*', read: '.*' }) {
    await this.#request('PUT', `/api/permissions/${enc(vhost)}/${enc(user)}`, perms);
  }

  queues(vhost?: string): Promise<Queue[]> {
    return this.#json<Queue[]>('GET', vhost === undefined ? '/api/queues' : `/api/queues/${enc(vhost)}`);
  }

  queue(vhost: string, name: string): Promise<Queue> {
    return this.#json<Queue>('GET', `/api/queues/${enc(vhost)}/${enc(name)}`);
  }

  connections(vhost?: string): Promise<Connection[]> {
    return this.#json<Connection[]>(
      'GET',
      vhost === undefined ? '/api/connections' : `/api/vhosts/${enc(vhost)}/connections`,
    );
  }

  channels(vhost?: string): Promise<Channel[]> {
    return this.#json<Channel[]>(
      'GET',
      vhost === undefined ? '/api/channels' : `/api/vhosts/${enc(vhost)}/channels`,
    );
  }

  nodes(): Promise<Node[]> {
    return this.#json<Node[]>('GET', '/api/nodes');
  }

  exchanges(vhost?: string): Promise<Exchange[]> {
    return this.#json<Exchange[]>(
      'GET',
      vhost === undefined ? '/api/exchanges' : `/api/exchanges/${enc(vhost)}`,
    );
  }

  /** GET /api/bindings[/<vhost>]: which exchange routes to which queue (dead fanouts, orphans). */
  bindings(vhost?: string): Promise<Binding[]> {
    return this.#json<Binding[]>(
      'GET',
      vhost === undefined ? '/api/bindings' : `/api/bindings/${enc(vhost)}`,
    );
  }

  /** rabbitmq_tracing: start a trace that logs to `<name>.log` in the plugin's directory. */
  async putTrace(vhost: string, name: string, spec: TraceSpec): Promise<void> {
    await this.#request('PUT', `/api/traces/${enc(vhost)}/${enc(name)}`, spec);
  }

  traces(vhost?: string): Promise<Trace[]> {
    return this.#json<Trace[]>('GET', vhost === undefined ? '/api/traces' : `/api/traces/${enc(vhost)}`);
  }

  async deleteTrace(vhost: string, name: string): Promise<void> {
    await this.#request('DELETE', `/api/traces/${enc(vhost)}/${enc(name)}`);
  }

  traceFiles(): Promise<TraceFile[]> {
    return this.#json<TraceFile[]>('GET', '/api/trace-files');
  }

  async traceFile(name: string): Promise<string> {
    // Served as text/plain: an `accept: application/json` request gets 406.
    const res = await this.#request('GET', `/api/trace-files/${enc(name)}`, undefined, '*/*');
    return res.text();
  }

  async deleteTraceFile(name: string): Promise<void> {
    await this.#request('DELETE', `/api/trace-files/${enc(name)}`, undefined, '*/*');
  }

  /** GET any other path under the API, typed by the caller. */
  get<T>(path: string): Promise<T> {
    return this.#json<T>('GET', path);
  }

  async #json<T>(method: Method, path: string): Promise<T> {
    const res = await this.#request(method, path);
    const url = redactUrl(`${this.baseUrl}${path}`);
    try {
      return (await res.json()) as T;
    } catch (cause) {
      throw new ManagementApiError(`${method}: response is not JSON`, {
        status: res.status,
        url,
        cause,
      });
    }
  }

  async #request(
    method: Method,
    path: string,
    body?: unknown,
    accept = 'application/json',
  ): Promise<Response> {
    const url = `${this.baseUrl}${path}`;
    const shown = redactUrl(url);
    const headers: Record<string, string> = { authorization: this.#auth, accept };
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(this.#timeoutMs) };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (cause) {
      const why =
        cause instanceof Error && cause.cause instanceof Error ? cause.cause.message : String(cause);
      throw new RpcscopeError(
        'RPCSCOPE_BROKER_UNREACHABLE',
        `${method}: management API unreachable (${why}); is the rabbitmq_management plugin enabled and the URL right?`,
        { cause, context: { input: shown } },
      );
    }
    if (!res.ok) {
      let detail = '';
      try {
        const text = await res.text();
        const parsed = JSON.parse(text) as { reason?: unknown };
        detail = typeof parsed.reason === 'string' ? `: ${parsed.reason}` : '';
      } catch {
        // the body is only a hint; the status says enough
      }
      const hint =
        res.status === 401
          ? ' (check the user/password: RPCSCOPE_MGMT_USER / RPCSCOPE_MGMT_PASS or the URL)'
          : res.status === 404
            ? ' (not found)'
            : '';
      throw new ManagementApiError(`${method}: HTTP ${res.status}${detail}${hint}`, {
        status: res.status,
        url: redactUrl(url),
      });
    }
    return res;
  }
}

/** Reads RPCSCOPE_MGMT_URL or defaults to the local broker's management listener. */
export function defaultManagementUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.RPCSCOPE_MGMT_URL ?? 'http://127.0.0.1:15672';
}
