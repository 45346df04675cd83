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
}

const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'";

export function createDashboardApp(opts: DashboardOptions): Hono {
  const app = new Hono();
  const interval = opts.intervalMs ?? 1000;
  app.use('*', async (c, next) => {
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
  const app = createDashboardApp(opts);
  await loadAssets(); // build (or read) the bundle before the first browser asks
  const host = opts.host ?? '127.0.0.1';
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
