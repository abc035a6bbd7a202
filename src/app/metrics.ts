/**
 * Prometheus metrics of one front-end process (prom-client), served by the
 * operations listener (ops.ts) when config `metrics.listen` is set; without
 * it no `Metrics` exists and no hook below is installed.
 *
 * The layers report through optional callbacks, so none imports this file:
 *   - the IMAP connection: one call per command (`commandObserver`);
 *   - the IMAP listener: one call per PROXY header (`proxyHeader`);
 *   - the NNTP pool: one call per upstream request (`upstreamRequest`);
 *   - the shared flag store: wrapped once (`instrumentFlagStore`).
 * Counts kept by the layers themselves (sessions by state, the article and
 * ENVELOPE caches) are read when /metrics is scraped (`watch…`), so listings
 * pay nothing per message here: the caches count with a plain integer.
 *
 * Names (all `newsfront_…`): imap_commands_total{command,status},
 * imap_command_seconds{command} (IDLE left out: it lasts as long as the client
 * wants), imap_sessions{state}, proxy_headers_total{outcome},
 * upstream_requests_total{upstream,result}, upstream_up{upstream},
 * flagstore_seconds{op}, flagstore_errors_total{op,code},
 * article_cache_{hits,fetches}_total, article_cache_{bytes,files},
 * envelope_cache_{hits,misses}_total, envelope_cache_bytes; with the search
 * index index_bytes, index_documents, index_articles{group,part} (part:
 * total, headers, bodies), index_crawl_rate{group} (articles/s) and
 * index_crawling{group} (1 while its crawl reads or waits for clients to be
 * quiet); plus prom-client's
 * process and Node.js defaults (memory, CPU, event-loop delay, descriptors).
 * Label values come from code (registry names, error codes, configured
 * upstreams) or from the upstreams' group list (groups in the index), never
 * from clients, so the series stay few.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CommandObserver } from '../imap/connection.js';
import type { FlagStore } from '../stateagent/flagstore.js';
import type { IndexStatus } from '../export/backend/index.js';

/** IMAP command latency buckets (s): 1 ms … 30 s; listings of big groups take seconds. */
const COMMAND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Flag-store latency buckets (s): LMDB answers in µs, an agent or PostgreSQL in ms. */
const FLAGSTORE_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];
const SESSION_STATES = ['notauth', 'auth', 'selected', 'logout'] as const;

type Status = Parameters<CommandObserver>[1];

export class Metrics {
  readonly registry = new Registry();
  private readonly commands: Counter<'command' | 'status'>;
  private readonly latency: Histogram<'command'>;
  private readonly proxy: Counter<'outcome'>;
  private readonly upstream: Counter<'upstream' | 'result'>;
  readonly upstreamUp: Gauge<'upstream'>;
  private readonly flagSeconds: Histogram<'op'>;
  private readonly flagErrors: Counter<'op' | 'code'>;
  /** Per command name: its counter per status and its histogram, bound once. */
  private readonly byCommand = new Map<string, { count: Map<Status, Counter.Internal>; time: Histogram.Internal<'command'> | undefined }>();
  private readonly wrapped = new WeakMap<FlagStore, FlagStore>();

  /** `defaults`: also collect prom-client's process metrics (off in tests that make many). */
  constructor(opts: { defaults?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaults ?? true) collectDefaultMetrics({ register: this.registry });
    this.commands = new Counter({ name: 'newsfront_imap_commands_total', help: 'IMAP commands run, by name and result', labelNames: ['command', 'status'], registers });
    this.latency = new Histogram({
      name: 'newsfront_imap_command_seconds',
      help: 'IMAP command time from parse to tagged response (IDLE not included)',
      labelNames: ['command'],
      buckets: COMMAND_BUCKETS,
      registers,
    });
    this.proxy = new Counter({ name: 'newsfront_proxy_headers_total', help: 'PROXY protocol headers from trusted peers, by outcome', labelNames: ['outcome'], registers });
    this.upstream = new Counter({
      name: 'newsfront_upstream_requests_total',
      help: 'NNTP requests to each upstream, by result (ok or the NNTP error code)',
      labelNames: ['upstream', 'result'],
      registers,
    });
    this.upstreamUp = new Gauge({ name: 'newsfront_upstream_up', help: 'Last readiness probe of each upstream: 1 answered, 0 not', labelNames: ['upstream'], registers });
    this.flagSeconds = new Histogram({ name: 'newsfront_flagstore_seconds', help: 'Flag store call time, by operation', labelNames: ['op'], buckets: FLAGSTORE_BUCKETS, registers });
    this.flagErrors = new Counter({ name: 'newsfront_flagstore_errors_total', help: 'Flag store calls that failed, by operation and error code', labelNames: ['op', 'code'], registers });
  }

  /** The IMAP connection's per-command hook. */
  readonly commandObserver: CommandObserver = (name, status, seconds) => {
    let m = this.byCommand.get(name);
    if (m === undefined) {
      m = { count: new Map(), time: name === 'IDLE' ? undefined : this.latency.labels(name) };
      this.byCommand.set(name, m);
    }
    let c = m.count.get(status);
    if (c === undefined) m.count.set(status, (c = this.commands.labels(name, status)));
    c.inc();
    m.time?.observe(seconds);
  };

  /** The IMAP listener's PROXY header hook. */
  readonly proxyHeader = (outcome: 'proxy' | 'local' | 'invalid'): void => {
    this.proxy.labels(outcome).inc();
  };

  /**
   * The request hook for upstream `id` (NntpPoolOptions.onRequest). `seen`
   * counts its successes for the readiness probe (ops.ts), which takes a
   * success since its last look as proof the upstream answers.
   */
  upstreamRequest(id: string): ((result: string) => void) & { seen: { ok: number } } {
    const ok = this.upstream.labels(id, 'ok');
    const seen = { ok: 0 };
    const fn = (result: string): void => {
      if (result === 'ok') {
        seen.ok++;
        ok.inc();
      } else this.upstream.labels(id, result).inc();
    };
    return Object.assign(fn, { seen });
  }

  /**
   * `store` with every call timed and every failure counted (by method name
   * and FlagStoreError code). The same store always gives the same wrapper.
   */
  instrumentFlagStore(store: FlagStore): FlagStore {
    const known = this.wrapped.get(store);
    if (known) return known;
    const methods = new Map<PropertyKey, unknown>();
    const wrapper = new Proxy(store, {
      get: (target, prop) => {
        const v: unknown = Reflect.get(target, prop, target);
        if (typeof v !== 'function' || typeof prop !== 'string') return v;
        let w = methods.get(prop);
        if (w === undefined) methods.set(prop, (w = this.timed(prop, v as (...a: unknown[]) => unknown, target)));
        return w;
      },
    });
    this.wrapped.set(store, wrapper);
    return wrapper;
  }

  private timed(op: string, fn: (...a: unknown[]) => unknown, self: FlagStore): (...a: unknown[]) => unknown {
    const time = this.flagSeconds.labels(op);
    return (...args) => {
      const started = performance.now();
      const r = fn.apply(self, args);
      if (!(r instanceof Promise)) return r;
      return r.then(
        (v: unknown) => {
          time.observe((performance.now() - started) / 1000);
          return v;
        },
        (err: unknown) => {
          time.observe((performance.now() - started) / 1000);
          const code = (err as { code?: unknown })?.code;
          this.flagErrors.labels(op, typeof code === 'string' ? code : 'other').inc();
          throw err;
        },
      );
    };
  }

  /** Sessions open now by state, read at scrape time. */
  watchSessions(states: () => ReadonlyMap<string, number>): void {
    new Gauge({
      name: 'newsfront_imap_sessions',
      help: 'IMAP connections open now, by session state',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const now = states();
        for (const s of SESSION_STATES) this.labels(s).set(now.get(s) ?? 0);
      },
    });
  }

  /** The article cache's counters (src/export/backend/article-cache.ts), read at scrape time. */
  watchArticleCache(cache: { readonly hits: number; readonly fetches: number; readonly bytes: number; readonly articles: number }): void {
    this.total('newsfront_article_cache_hits_total', 'Article reads that started no upstream download (cached, or joined a download in progress)', () => cache.hits);
    this.total('newsfront_article_cache_fetches_total', 'Article downloads from an upstream (cache misses; concurrent readers share one)', () => cache.fetches);
    this.level('newsfront_article_cache_bytes', 'Bytes in the article cache', () => cache.bytes);
    this.level('newsfront_article_cache_files', 'Articles in the article cache', () => cache.articles);
  }

  /** The ENVELOPE cache's counters (RenderCache.envelopeStats), read at scrape time. */
  watchEnvelopeCache(stats: () => { hits: number; misses: number; bytes: number }): void {
    this.total('newsfront_envelope_cache_hits_total', 'ENVELOPEs answered from the rendered-envelope cache', () => stats().hits);
    this.total('newsfront_envelope_cache_misses_total', 'ENVELOPEs rendered (not in the cache)', () => stats().misses);
    this.level('newsfront_envelope_cache_bytes', 'Bytes charged to the rendered-envelope cache', () => stats().bytes);
  }

  /**
   * The search index's progress and size, read at scrape time (`read`: the
   * backend's status, one pass over the index's members; read once per scrape).
   */
  watchIndex(read: () => IndexStatus): void {
    const registers = [this.registry];
    let memo: { at: number; status: IndexStatus } | undefined;
    const status = (): IndexStatus => {
      if (memo === undefined || Date.now() - memo.at > 1_000) memo = { at: Date.now(), status: read() };
      return memo.status;
    };
    this.level('newsfront_index_bytes', 'Bytes of the search index on disk (database and write-ahead log)', () => status().bytes);
    this.level('newsfront_index_documents', 'Articles in the search index (a crossposted article counts once)', () => status().documents);
    new Gauge({
      name: 'newsfront_index_articles',
      help: 'Articles of each group in the search index: part="total" in the group (as this server lists it), "headers" and "bodies" indexed',
      labelNames: ['group', 'part'],
      registers,
      collect() {
        this.reset();
        for (const g of status().groups) {
          if (g.total !== null) this.labels(g.group, 'total').set(g.total);
          this.labels(g.group, 'headers').set(g.headers);
          this.labels(g.group, 'bodies').set(g.bodies);
        }
      },
    });
    new Gauge({
      name: 'newsfront_index_crawl_rate',
      help: 'Bodies per second the background crawler indexes in each group (last 30 s)',
      labelNames: ['group'],
      registers,
      collect() {
        this.reset();
        for (const g of status().groups) if (g.crawl !== null) this.labels(g.group).set(g.crawl.rate);
      },
    });
    new Gauge({
      name: 'newsfront_index_crawling',
      help: "1 while a group's crawl is under way (reading, or waiting for clients to be quiet), else 0",
      labelNames: ['group'],
      registers,
      collect() {
        this.reset();
        for (const g of status().groups) if (g.crawl !== null) this.labels(g.group).set(g.crawl.state === 'crawling' || g.crawl.state === 'paused' ? 1 : 0);
      },
    });
  }

  /** A counter whose value is kept elsewhere (monotonic), copied at scrape time. */
  private total(name: string, help: string, read: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  private level(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** The Prometheus text exposition and its content type. */
  async exposition(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
