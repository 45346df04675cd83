/**
 * Tracing enable and restore: the firehose only copies messages of a vhost whose tracing flag is
 * on. The flag is read and switched through the management API, or with rabbitmqctl when the
 * API is unreachable and the broker is local; which sources of this process share a flag they
 * turned on is counted, so that the last one to close restores it.
 */
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { isNotFound, type ManagementClient } from '../broker/management.ts';
import { RpcscopeError } from '../errors.ts';
import { TRACE_EXCHANGE } from '../wire/naming.ts';

const execFileP = promisify(execFile);

/**
 * Tracing this process turned on, per broker and vhost, with how many open sources share it:
 * `watch` may open several sources on one vhost; the last one to close restores it.
 */
export const turnedOnHere = new Map<string, number>();

export function isLocalHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === '127.0.0.1' || h === 'localhost' || h === '::1' || h === hostname().toLowerCase();
}

/** Reads / switches the vhost's tracing flag, through the management API or rabbitmqctl. */
export class TracingSwitch {
  constructor(
    private readonly mgmt: ManagementClient,
    private readonly vhost: string,
    private readonly localBroker: boolean,
  ) {}

  via: 'management' | 'rabbitmqctl' = 'management';

  get baseUrl(): string {
    return this.mgmt.baseUrl;
  }

  async isOn(): Promise<boolean> {
    try {
      const v = await this.mgmt.vhost(this.vhost);
      this.via = 'management';
      return v.tracing === true;
    } catch (e) {
      if (isNotFound(e)) {
        throw new RpcscopeError(
          'RPCSCOPE_BAD_ARGUMENT',
          `vhost "${this.vhost}" does not exist on the broker`,
          {
            cause: e,
            context: { input: this.vhost },
          },
        );
      }
      if (!(e instanceof RpcscopeError && e.code === 'RPCSCOPE_BROKER_UNREACHABLE') || !this.localBroker)
        throw e;
      this.via = 'rabbitmqctl';
      // `rabbitmqctl list_vhosts name tracing` prints "name\ttrue|false" per vhost.
      const out = await this.#ctl(['-q', 'list_vhosts', 'name', 'tracing']);
      for (const line of out.split('\n')) {
        const [name, tracing] = line.split('\t');
        if (name === this.vhost) return tracing?.trim() === 'true';
      }
      throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `vhost "${this.vhost}" does not exist on the broker`, {
        context: { input: this.vhost },
      });
    }
  }

  async set(on: boolean): Promise<void> {
    if (this.via === 'management') {
      // PUT replaces the vhost's settings: carry over what is there besides the flag.
      const v = await this.mgmt.vhost(this.vhost);
      const tags = Array.isArray(v.tags) ? v.tags.join(',') : typeof v.tags === 'string' ? v.tags : undefined;
      await this.mgmt.putVhost(this.vhost, {
        tracing: on,
        ...(typeof v.description === 'string' ? { description: v.description } : {}),
        ...(tags !== undefined ? { tags } : {}),
      });
      return;
    }
    await this.#ctl([on ? 'trace_on' : 'trace_off', '-p', this.vhost]);
  }

  /** Queues other than ours bound to amq.rabbitmq.trace (the tracing plugin, another rpcscope). */
  async otherTraceConsumers(ours: readonly string[]): Promise<number | undefined> {
    if (this.via !== 'management') return undefined;
    const path = `/api/exchanges/${encodeURIComponent(this.vhost)}/${encodeURIComponent(TRACE_EXCHANGE)}/bindings/source`;
    const bindings = await this.mgmt.get<{ destination: string }[]>(path);
    return new Set(bindings.map((b) => b.destination).filter((d) => !ours.includes(d))).size;
  }

  async #ctl(args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileP('rabbitmqctl', args, { timeout: 30_000 });
      return stdout;
    } catch (cause) {
      throw new RpcscopeError(
        'RPCSCOPE_BROKER_UNREACHABLE',
        `rabbitmqctl ${args.join(' ')} failed; the management API was unreachable too`,
        { cause, context: { input: this.vhost } },
      );
    }
  }
}
