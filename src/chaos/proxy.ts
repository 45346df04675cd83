/**
 * Fault proxy (node:net) between emulated services and the broker: one listener per service
 * group, toxics per direction (see toxics.ts), and failover across the cluster's nodes in the
 * order kombu tries the hosts of a multi-host transport_url (oslo.messaging impl_rabbit: on a
 * connection failure the next host is tried). A node whose forwarder accepts but whose broker is
 * gone closes before saying anything, so the proxy holds the client's first bytes (the AMQP
 * protocol header) until the broker has answered, and replays them to the next node otherwise.
 */
import net from 'node:net';
import { type Direction, releaseAt, slices, type Toxic } from './toxics.ts';

export interface Upstream {
  readonly host: string;
  readonly port: number;
  /** Label for reports (node name). */
  readonly label: string;
}

export interface ProxyOptions {
  readonly name: string;
  readonly upstreams: readonly Upstream[];
  readonly listenPort?: number;
  readonly rand?: () => number;
  /** A client connection was established to an upstream (first broker byte seen). */
  readonly onConnect?: (upstream: Upstream) => void;
}

interface ActiveToxic {
  readonly name: string;
  readonly direction: Direction;
  readonly toxic: Toxic;
}

class Link {
  readonly client: net.Socket;
  upstream: net.Socket | undefined;
  closed = false;
  readonly passed: Record<Direction, number> = { upstream: 0, downstream: 0 };
  readonly release: Record<Direction, number> = { upstream: 0, downstream: 0 };
  readonly chain: Record<Direction, Promise<void>> = {
    upstream: Promise.resolve(),
    downstream: Promise.resolve(),
  };
  readonly timers = new Set<NodeJS.Timeout>();

  constructor(client: net.Socket) {
    this.client = client;
  }

  destroy(reset = false): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    for (const s of [this.client, this.upstream]) {
      if (s === undefined) continue;
      if (reset && typeof s.resetAndDestroy === 'function' && !s.destroyed && s.readyState === 'open')
        s.resetAndDestroy();
      else s.destroy();
    }
  }

  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class FaultProxy {
  readonly name: string;
  readonly #opts: ProxyOptions;
  readonly #server: net.Server;
  readonly #links = new Set<Link>();
  readonly #toxics = new Map<string, ActiveToxic>();
  readonly #rand: () => number;
  /** Connections made per upstream label. */
  readonly connects = new Map<string, number>();
  #port = 0;

  constructor(opts: ProxyOptions) {
    this.name = opts.name;
    this.#opts = opts;
    this.#rand = opts.rand ?? Math.random;
    this.#server = net.createServer((c) => this.#accept(c));
  }

  get port(): number {
    return this.#port;
  }

  get connections(): number {
    return this.#links.size;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: '127.0.0.1', port: this.#opts.listenPort ?? 0 }, () => {
        this.#port = (this.#server.address() as net.AddressInfo).port;
        resolve(this.#port);
      });
    });
  }

  addToxic(name: string, direction: Direction | 'both', toxic: Toxic): void {
    for (const d of direction === 'both' ? (['upstream', 'downstream'] as const) : [direction]) {
      this.#toxics.set(`${name}/${d}`, { name, direction: d, toxic });
    }
    if (toxic.type === 'reset_peer')
      for (const l of this.#links) l.later(toxic.timeoutMs, () => l.destroy(true));
    if (toxic.type === 'timeout' && toxic.timeoutMs > 0)
      for (const l of this.#links) l.later(toxic.timeoutMs, () => l.destroy());
  }

  removeToxic(name: string): void {
    for (const k of [...this.#toxics.keys()]) if (k.startsWith(`${name}/`)) this.#toxics.delete(k);
  }

  toxics(direction: Direction): Toxic[] {
    return [...this.#toxics.values()].filter((t) => t.direction === direction).map((t) => t.toxic);
  }

  /** Closes every client connection (the services see the broker go away and reconnect). */
  dropAll(reset = false): void {
    for (const l of this.#links) l.destroy(reset);
  }

  async close(): Promise<void> {
    this.#toxics.clear();
    for (const l of this.#links) l.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  #accept(client: net.Socket): void {
    const link = new Link(client);
    this.#links.add(link);
    client.setNoDelay(true);
    client.on('error', () => link.destroy());
    client.on('close', () => {
      link.destroy();
      this.#links.delete(link);
    });
    for (const x of this.toxics('upstream')) {
      if (x.type === 'reset_peer') link.later(x.timeoutMs, () => link.destroy(true));
      if (x.type === 'timeout' && x.timeoutMs > 0) link.later(x.timeoutMs, () => link.destroy());
    }
    // client bytes held until a broker has answered (replayed on failover)
    const held: Buffer[] = [];
    let established = false;
    client.on('data', (d: Buffer) => {
      if (!established) held.push(d);
      else this.#pass(link, 'upstream', d);
    });
    const tryUpstream = (i: number) => {
      if (link.closed) return;
      const ups = this.#opts.upstreams;
      if (i >= ups.length) {
        link.destroy();
        return;
      }
      const u = ups[i]!;
      const s = net.connect({ host: u.host, port: u.port });
      s.setNoDelay(true);
      link.upstream = s;
      let answered = false;
      s.on('connect', () => {
        for (const d of held) s.write(d);
      });
      s.on('data', (d: Buffer) => {
        if (!answered) {
          answered = true;
          established = true;
          this.connects.set(u.label, (this.connects.get(u.label) ?? 0) + 1);
          this.#opts.onConnect?.(u);
          for (const h of held.splice(0)) this.#pass(link, 'upstream', h, true);
          const limit = this.toxics('upstream').find((t) => t.type === 'limit_data');
          if (limit?.type === 'limit_data' && link.passed.upstream >= limit.bytes) {
            link.destroy();
            return;
          }
        }
        this.#pass(link, 'downstream', d);
      });
      const failed = () => {
        if (answered) link.destroy();
        else if (!link.closed) tryUpstream(i + 1);
      };
      s.on('error', failed);
      s.on('close', failed);
    };
    tryUpstream(0);
  }

  /** Sends a chunk one way through the active toxics; chunks of one direction stay in order. */
  #pass(link: Link, dir: Direction, chunk: Buffer, alreadySent = false): void {
    if (alreadySent) {
      link.passed[dir] += chunk.length;
      return;
    }
    const src = dir === 'upstream' ? link.client : link.upstream;
    const run = async () => {
      if (link.closed) return;
      // blackhole: hold the data while the toxic is there
      while (!link.closed && this.toxics(dir).some((t) => t.type === 'timeout')) await sleep(50);
      const toxics = this.toxics(dir);
      const slicer = toxics.find((t) => t.type === 'slicer');
      const limit = toxics.find((t) => t.type === 'limit_data');
      const pieces: Buffer[] = [];
      if (slicer?.type === 'slicer') {
        let off = 0;
        for (const n of slices(chunk.length, slicer.avgSize, slicer.sizeVariation ?? 0, this.#rand)) {
          pieces.push(chunk.subarray(off, off + n));
          off += n;
        }
      } else pieces.push(chunk);
      for (const [k, p] of pieces.entries()) {
        const now = performance.now();
        const at = releaseAt(toxics, now, p.length, link.release[dir], this.#rand);
        link.release[dir] = at;
        if (at > now) await sleep(at - now);
        if (k > 0 && slicer?.type === 'slicer' && (slicer.delayUs ?? 0) > 0)
          await sleep((slicer.delayUs ?? 0) / 1000);
        if (link.closed) return;
        let out = p;
        if (limit?.type === 'limit_data') {
          const room = limit.bytes - link.passed[dir];
          if (room <= 0) {
            link.destroy();
            return;
          }
          if (out.length > room) out = out.subarray(0, room);
        }
        const dst = dir === 'upstream' ? link.upstream : link.client;
        dst?.write(out);
        link.passed[dir] += out.length;
        if (limit?.type === 'limit_data' && link.passed[dir] >= limit.bytes) {
          link.destroy();
          return;
        }
      }
    };
    // backpressure: stop reading while this direction has work queued behind toxics
    src?.pause();
    link.chain[dir] = link.chain[dir].then(run).finally(() => {
      if (!link.closed) src?.resume();
    });
  }
}
