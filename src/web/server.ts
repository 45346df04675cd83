/**
 * The dashboard server (hono on @hono/node-server): the page, its bundled assets, the live state
 * as JSON and as SSE, and Prometheus `/metrics`. Binds 127.0.0.1 unless told otherwise: the page
 * shows method names, request ids and broker object names an operator may not want public.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { RpcscopeError } from '../errors.ts';
import { escapeTerminal } from '../render/escape.ts';
import { loadAssets } from './assets.ts';
import type { LiveSnapshot } from './live.ts';
import { pageHtml } from './page.ts';

export interface DashboardOptions {
  readonly snapshot: () => LiveSnapshot;
  /** Prometheus exposition text and its content type. */
  readonly metrics: () => Promise<string>;
  readonly metricsContentType: string;
  /** SSE push interval. */
  readonly intervalMs?: number;
  readonly title?: string;
  /**
   * Host names (without port) the dashboard also answers to, e.g. the name a reverse proxy or
   * Prometheus uses. Localhost, loopback and IP addresses are always accepted; any other name in a
   * Host header is refused, so a page on another site cannot reach the dashboard by DNS rebinding.
   */
  readonly allowedHosts?: readonly string[];
}

/** Where the server listens, for the Host check: the bound address and the port. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** Splits a Host header into lower-case name (IPv6 without brackets) and port; undefined if malformed. */
export function parseHostHeader(h: string): { name: string; port: number | undefined } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(h.trim());
  if (m === null) return undefined;
  const name = (m[1] ?? m[2] ?? '').toLowerCase().replace(/\.$/, '');
  return { name, port: m[3] !== undefined ? Number(m[3]) : undefined };
}

const isIpLiteral = (n: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(n) || n.includes(':');

/**
 * Whether a request's Host header names this server. A DNS-rebinding page reaches the server under
 * the attacker's host name, so names must be known ones: localhost, the listen address, the allowed
 * names. IP literals cannot be rebound: any is accepted when the server listens on all addresses
 * (an operator browsing to the machine's address), only loopback and the bound one otherwise.
 * Loopback and IP literals must carry the listening port; allowed names may come with any port
 * (a proxy in front).
 */
export function hostAllowed(
  header: string | undefined,
  listen: ListenAddress | undefined,
  allowed: readonly string[] = [],
): boolean {
  if (header === undefined) return false;
  const h = parseHostHeader(header);
  if (h === undefined) return false;
  if (allowed.some((a) => a.toLowerCase().replace(/^\[|\]$/g, '') === h.name)) return true;
  const bound = (listen?.host ?? '127.0.0.1').toLowerCase().replace(/^\[|\]$/g, '');
  const known =
    LOOPBACK_NAMES.has(h.name) || h.name === bound || (WILDCARD.has(bound) && isIpLiteral(h.name));
  if (!known) return false;
  return listen === undefined || h.port === listen.port || (h.port === undefined && listen.port === 80);
}

const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'";

export function createDashboardApp(opts: DashboardOptions, listen?: () => ListenAddress | undefined): Hono {
  const app = new Hono();
  const interval = opts.intervalMs ?? 1000;
  app.use('*', async (c, next) => {
    // node-server builds the URL from the Host header; in-process requests (tests) have only the URL
    const hostHeader = c.req.header('host') ?? new URL(c.req.url).host;
    if (!hostAllowed(hostHeader, listen?.(), opts.allowedHosts)) {
      c.header('content-security-policy', CSP);
      return c.text(
        `421 Misdirected Request: this dashboard does not answer to the host "${escapeTerminal(hostHeader.slice(0, 100))}". It answers to localhost, its listen address and the host names it was given as allowed.\n`,
        421,
      );
    }
    await next();
    c.header('content-security-policy', CSP);
    c.header('x-content-type-options', 'nosniff');
  });
  app.get('/', (c) => c.html(pageHtml(opts.title ?? 'rpcscope watch')));
  app.get('/assets/app.js', async (c) => {
    const a = await loadAssets();
    return c.body(a.js, 200, { 'content-type': 'text/javascript; charset=utf-8' });
  });
  app.get('/assets/app.css', async (c) => {
    const a = await loadAssets();
    return c.body(a.css, 200, { 'content-type': 'text/css; charset=utf-8' });
  });
  app.get('/api/state', (c) => c.json(opts.snapshot()));
  app.get('/metrics', async (c) =>
    c.body(await opts.metrics(), 200, { 'content-type': opts.metricsContentType }),
  );
  app.get('/healthz', (c) => c.text('ok'));
  app.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      let id = 0;
      while (!stream.aborted) {
        await stream.writeSSE({ event: 'state', id: String(id++), data: JSON.stringify(opts.snapshot()) });
        await stream.sleep(interval);
      }
    }),
  );
  return app;
}

export interface RunningDashboard {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Parses "host:port" / ":port" / "port"; the host defaults to 127.0.0.1. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(s.trim());
  const port = m?.[2] !== undefined ? Number(m[2]) : Number.NaN;
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new RpcscopeError(
      'RPCSCOPE_BAD_ARGUMENT',
      `a listen address is HOST:PORT (e.g. 127.0.0.1:9475), not "${s}"`,
    );
  return { host: m[1] || '127.0.0.1', port };
}

export async function startDashboard(
  opts: DashboardOptions & { readonly host?: string; readonly port: number },
): Promise<RunningDashboard> {
  const host = opts.host ?? '127.0.0.1';
  let listening: ListenAddress | undefined;
  // Until the port is known no request can arrive; then the Host check uses the real port.
  const app = createDashboardApp(opts, () => listening);
  await loadAssets(); // build (or read) the bundle before the first browser asks
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port, hostname: host }, () => resolve(s));
    s.once('error', (e) =>
      reject(
        new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `cannot listen on ${host}:${opts.port}: ${e.message}`, {
          cause: e,
        }),
      ),
    );
  });
  const port = (server.address() as AddressInfo).port;
  listening = { host, port };
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        // SSE streams never end by themselves: drop open connections.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
