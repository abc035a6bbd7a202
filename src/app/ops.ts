/**
 * The operations listener (config `metrics.listen`): plain HTTP for a
 * Prometheus scraper and a load balancer, never for clients.
 *
 *   GET /metrics   200, Prometheus text format (metrics.ts)
 *   GET /health    200 "ok": the process is up and its event loop turns (liveness)
 *   GET /ready     200 when every readiness check passes, else 503; a JSON body
 *                  names each check and its result:
 *                  {"ready":false,"checks":{"upstream":"ok","flagStore":"UNAVAILABLE: …"}}
 *   GET /status    200, JSON for an operator (`newsfront status` reads it):
 *                  {"pid":…,"startedAt":…,"index":{…IndexStatus…}|null}, the
 *                  search index's progress per group (src/export/backend/index-status.ts)
 *
 * Anything else is 404 (405 for a method other than GET/HEAD). Checks run at
 * most once at a time: concurrent /ready requests share one run, and each
 * check is given CHECK_TIMEOUT_MS.
 *
 * Checks made by `startNewsfront`:
 *   - `upstream`: some configured NNTP upstream answers (`UpstreamCheck`); with
 *     none configured (archive only) it passes;
 *   - `flagStore`: the shared flag store answers a read (`subscriptions` of a
 *     probe user); with client-held flags (`state: session`) it passes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../util/log.js';
import type { Metrics } from './metrics.js';
import type { FlagStore } from '../stateagent/flagstore.js';
import { NntpClient, parseNntpUrl, redactNntpUrl } from '../nntp/index.js';
import type { UpstreamConfig } from './config/schema.js';
import type { IndexStatus } from '../export/backend/index.js';

/** Time a readiness check may take: a balancer polls every few seconds and must not pile up. */
export const CHECK_TIMEOUT_MS = 3_000;
/**
 * An upstream that served no request since the last look is probed with a
 * fresh connection (greeting, DATE, QUIT) at most this often; in between the
 * last probe's answer stands. INN starts a reader process per connection, so a
 * balancer polling each second must not mean a connection each second.
 */
export const UPSTREAM_PROBE_INTERVAL_MS = 10_000;
/** The user whose subscriptions the flag-store check reads (nothing is written). */
export const PROBE_USER = 'newsfront-ready-probe';

export interface ReadinessCheck {
  name: string;
  /** Resolves when ready; rejects with the reason when not. */
  run(): Promise<void>;
}

export interface ReadyResult {
  ready: boolean;
  checks: Record<string, string>;
}

/** All checks together; concurrent callers share one run. */
export class Readiness {
  private running: Promise<ReadyResult> | undefined;

  constructor(private readonly checks: readonly ReadinessCheck[]) {}

  evaluate(): Promise<ReadyResult> {
    this.running ??= this.runAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runAll(): Promise<ReadyResult> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        try {
          await withTimeout(c.run(), CHECK_TIMEOUT_MS, c.name);
          return [c.name, 'ok'] as const;
        } catch (err) {
          const code = (err as { code?: unknown })?.code;
          return [c.name, `${typeof code === 'string' ? `${code}: ` : ''}${(err as Error)?.message ?? String(err)}`] as const;
        }
      }),
    );
    return { ready: results.every(([, r]) => r === 'ok'), checks: Object.fromEntries(results) };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** The flag store answers a read. */
export function flagStoreCheck(store: FlagStore | undefined): ReadinessCheck {
  return {
    name: 'flagStore',
    run: async () => {
      if (store) await store.subscriptions(PROBE_USER);
    },
  };
}

/** What the upstream check needs of one upstream: its config and its success count (Metrics.upstreamRequest). */
export interface WatchedUpstream {
  config: UpstreamConfig;
  seen: { ok: number };
}

/**
 * Passes when at least one upstream answers: one that served a request since
 * the last look counts at once; another is probed (UPSTREAM_PROBE_INTERVAL_MS).
 * Sets `newsfront_upstream_up` per upstream.
 */
export class UpstreamCheck implements ReadinessCheck {
  readonly name = 'upstream';
  private readonly state: Array<{ id: string; lastOk: number; probedAt: number; up: boolean; error: string }>;

  /** `probeIntervalMs`: see UPSTREAM_PROBE_INTERVAL_MS (tests shorten it). */
  constructor(
    private readonly upstreams: readonly WatchedUpstream[],
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly probeIntervalMs = UPSTREAM_PROBE_INTERVAL_MS,
  ) {
    this.state = upstreams.map((u) => ({ id: redactNntpUrl(u.config.url), lastOk: 0, probedAt: 0, up: false, error: 'not probed yet' }));
  }

  async run(): Promise<void> {
    if (this.upstreams.length === 0) return;
    await Promise.all(this.upstreams.map((u, i) => this.look(u, this.state[i]!)));
    if (!this.state.some((s) => s.up)) throw new Error(this.state.map((s) => `${s.id}: ${s.error}`).join('; '));
  }

  private async look(u: WatchedUpstream, s: (typeof this.state)[number]): Promise<void> {
    if (u.seen.ok > s.lastOk) {
      s.lastOk = u.seen.ok;
      s.up = true;
    } else if (Date.now() - s.probedAt >= this.probeIntervalMs) {
      s.probedAt = Date.now();
      try {
        await probeNntp(u.config);
        s.up = true;
      } catch (err) {
        s.up = false;
        s.error = (err as Error).message;
        this.log.warn({ upstream: s.id, err: s.error }, 'readiness: upstream does not answer');
      }
    }
    this.metrics.upstreamUp.labels(s.id).set(s.up ? 1 : 0);
  }
}

/** Connect (TLS and AUTHINFO as configured), DATE, QUIT. Rejects when the upstream does not answer. */
async function probeNntp(u: UpstreamConfig): Promise<void> {
  const a = parseNntpUrl(u.url);
  if (typeof a === 'string') throw new Error(a);
  const c = await NntpClient.connect({
    host: a.host,
    port: a.port,
    tls: a.tls,
    starttls: a.tls ? 'never' : u.starttls ? 'require' : 'never',
    ...(a.user !== undefined ? { user: a.user } : {}),
    ...(a.password !== undefined ? { password: a.password } : {}),
    greetingTimeoutMs: CHECK_TIMEOUT_MS,
    commandTimeoutMs: CHECK_TIMEOUT_MS,
    ackNudge: false,
  });
  try {
    await c.date();
  } finally {
    await c.quit().catch(() => undefined);
  }
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** Start the operations listener on `host:port` (port 0: a free one). */
/** The body of GET /status. */
export interface ServerStatus {
  pid: number;
  /** When the process started serving (ms since the epoch). */
  startedAt: number;
  /** Null when the search index is off or unusable. */
  index: IndexStatus | null;
}

export async function startOpsServer(opts: {
  host: string; port: number; metrics: Metrics; readiness: Readiness; log: Logger; status: () => ServerStatus;
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    handle(req, res, opts).catch((err: unknown) => {
      opts.log.error({ err }, 'ops endpoint failed');
      if (!res.headersSent) reply(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  opts.log.info({ host: opts.host, port }, 'operations endpoint listening (/metrics, /health, /ready, /status)');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, o: { metrics: Metrics; readiness: Readiness; status: () => ServerStatus }): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return reply(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  switch (path) {
    case '/metrics': {
      const m = await o.metrics.exposition();
      return reply(res, 200, m.contentType, m.body);
    }
    case '/health':
      return reply(res, 200, 'text/plain; charset=utf-8', 'ok\n');
    case '/ready': {
      const r = await o.readiness.evaluate();
      return reply(res, r.ready ? 200 : 503, 'application/json', `${JSON.stringify(r)}\n`);
    }
    case '/status':
      return reply(res, 200, 'application/json', `${JSON.stringify(o.status())}\n`);
    default:
      return reply(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }
}

function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
