/** Where the firehose source connects: the AMQP URL of a vhost, the broker's management API. */
import { ManagementClient } from '../broker/management.ts';
import { RpcscopeError } from '../errors.ts';
import { redactUrl } from '../util/url.ts';

/** Rejects when `p` has not settled after `ms`: a broker RPC on a closing channel may never be answered. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Replaces the URL's vhost path (amqplib reads the vhost from the path, URL-encoded). */
export function amqpUrlForVhost(amqpUrl: string, vhost: string): string {
  let u: URL;
  try {
    u = new URL(amqpUrl);
  } catch (cause) {
    throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', 'not a valid AMQP URL (amqp://user:pass@host:5672)', {
      cause,
      context: { input: redactUrl(amqpUrl) },
    });
  }
  if (u.protocol !== 'amqp:' && u.protocol !== 'amqps:') {
    throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `AMQP URL must start with amqp:// or amqps://`, {
      context: { input: redactUrl(amqpUrl) },
    });
  }
  u.pathname = `/${encodeURIComponent(vhost)}`;
  return u.toString();
}

/** The management API of the broker behind an AMQP URL: port 15672, the AMQP credentials unless RPCSCOPE_MGMT_USER / _PASS say otherwise. */
export function managementFor(opts: { readonly managementUrl?: string }, amqpUrl: URL): ManagementClient {
  if (opts.managementUrl !== undefined) return new ManagementClient({ url: opts.managementUrl });
  const env = process.env;
  const host =
    amqpUrl.hostname.includes(':') && !amqpUrl.hostname.startsWith('[')
      ? `[${amqpUrl.hostname}]`
      : amqpUrl.hostname;
  const user = env.RPCSCOPE_MGMT_USER ?? (decodeURIComponent(amqpUrl.username) || 'guest');
  const password = env.RPCSCOPE_MGMT_PASS ?? (decodeURIComponent(amqpUrl.password) || 'guest');
  return new ManagementClient({ url: `http://${host}:15672`, user, password });
}
