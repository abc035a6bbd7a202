/**
 * The one configuration schema of the server (STYLE §9). Every key, its type,
 * its default and its range live here; `config/README.md` documents the same
 * keys for people and `config/default.json` holds the same defaults.
 *
 * Objects are strict: an unknown key is an error, never silently ignored.
 * The schema is validated once at start-up by `loadConfig` (src/app/config/load.ts),
 * which also deep-freezes the result.
 */
import { z } from 'zod';
import { parseNntpUrl } from '../../nntp/index.js';
import { parseAddressRange } from '../../imap/admission.js';
import * as L from '../../imap/limits.js';

/** Upper bound for NNTP connections per upstream: INN's default per-host limit is far above, but 2 cores gain nothing beyond this. */
export const MAX_POOL_SIZE = 64;
/** Upper bound for commands in flight per connection; INN serves 27k–43k articles/s at 100+ (NNTP-UPSTREAM.md). */
export const MAX_PIPELINE_WINDOW = 1000;
/** Polling more often than once a second only loads the upstream; a day is the longest sensible interval. */
export const MIN_POLL_INTERVAL_MS = 1_000;
export const MAX_POLL_INTERVAL_MS = 86_400_000;

/**
 * Default of `cache.metaMemoryBytes`, the bound of the backend's in-memory
 * header LRU (src/export/backend/meta-store.ts says what an entry is
 * charged: ~0.75 KB per message). A warm ENVELOPE/FLAGS/SIZE listing no longer
 * reads headers at all (sizes from the compact facts, envelopes from the
 * render cache and its store: issue 14), so the LRU serves header sections
 * and header searches only (the search index answers most of those); 4 MiB
 * holds ~5,500 headers, and a miss is one LMDB read (file-backed pages, not
 * the process' anonymous memory). At 256 MiB it was full after any listing of
 * more than ~350k articles; at 64 MiB it alone was ~75 MB of the heap of a
 * server that had listed a 100k-article group (issue 14: ≤ 150 MB of
 * anonymous memory with 50 sessions); at 16 MiB it still held ~10 MB of
 * header buffers after the bench's rows, read again by nothing there. The
 * server passes the configured value to `createBackend`.
 */
export const DEFAULT_META_MEMORY_BYTES = 4 * 1024 * 1024;

/**
 * Default of `cache.renderStoreBytes`, the bound of the rendered ENVELOPEs
 * kept on disk (src/app/render-store.ts): ~250 bytes an article and form, so
 * 1 GiB keeps ~4M articles' worth (a 1M-article group in both forms twice
 * over). Before issue 14's run it had no bound.
 */
export const DEFAULT_RENDER_STORE_BYTES = 1024 * 1024 * 1024;

/**
 * Default of `cache.mallocTrimMs`: how often glibc's free heap is given back
 * to the kernel while the process works (src/util/malloc-trim.ts), and of the
 * V8 heap's checks (start.ts). 500 ms: with 50 sessions fetching, what they
 * freed piled up between checks every 2 s (50-client peak Pss_Anon, measured
 * with LMDB's write map on the cache stores, since reverted: 166 / 225 MB at
 * 2 s, 148 / 152 / 155 / 147 at 500 ms; bench/README session 14). A trim
 * with little to release costs well under a millisecond, off the event loop.
 */
export const DEFAULT_MALLOC_TRIM_MS = 500;

/**
 * Default of `cache.heapCompactFreeBytes`: the free space in V8's old
 * generation (committed minus used) at which it is compacted once, checked
 * every `mallocTrimMs` (src/util/heap-compact.ts). 16 MiB: after the bench's
 * one-session rows 20–60 MB of the old generation's ~100 MB was holes, which
 * ordinary collections kept committed (issue 14).
 */
export const DEFAULT_HEAP_COMPACT_FREE_BYTES = 16 * 1024 * 1024;

/**
 * Default of `cache.semiSpaceBytes`: the runtime cap of a semi-space of V8's
 * young generation of the main thread (src/util/young-gen.ts), used only when
 * node was started without `--max-semi-space-size`. Off (0): the cap cannot
 * act between two scavenges of one task, so a start-up or a listing could
 * still grow the young generation to V8's full 2 × 16 MiB. The launchers set
 * `--max-semi-space-size=8` instead, which V8 keeps (bench/server.ts NODE_FLAGS; issue 14).
 */
export const DEFAULT_SEMI_SPACE_BYTES = 0;

/** Default of `cache.pretenuring`: V8's allocation-site pretenuring off (src/util/young-gen.ts `setPretenuring`; issue 14). */
export const DEFAULT_PRETENURING = false;

/** Default of `cache.heapGarbageBytes`: old-generation garbage collected once a burst is over (src/util/heap-leftovers.ts; issue 14). */
export const DEFAULT_HEAP_GARBAGE_BYTES = 32 * 1024 * 1024;

/** Defaults of `cache` (config/README.md documents each key). */
const CACHE_DEFAULTS = {
  dir: null,
  maxBytes: 1024 * 1024 * 1024,
  metaMemoryBytes: DEFAULT_META_MEMORY_BYTES,
  renderStoreBytes: DEFAULT_RENDER_STORE_BYTES,
  envelopeMemoryBytes: L.ENVELOPE_CACHE_BYTES,
  structureMemoryBytes: L.STRUCTURE_CACHE_BYTES,
  previewMemoryBytes: L.PREVIEW_CACHE_BYTES,
  objectIdMemoryBytes: L.OBJECTID_CACHE_BYTES,
  mallocTrimMs: DEFAULT_MALLOC_TRIM_MS,
  heapCompactFreeBytes: DEFAULT_HEAP_COMPACT_FREE_BYTES,
  semiSpaceBytes: DEFAULT_SEMI_SPACE_BYTES,
  pretenuring: DEFAULT_PRETENURING,
  heapGarbageBytes: DEFAULT_HEAP_GARBAGE_BYTES,
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Checks a PostgreSQL connection URL (`postgres://` or `postgresql://`, as the
 * `pg` driver reads it). Returns a message (no throw) when it is not one; the
 * message never echoes the URL, which may hold a password.
 */
export function checkPostgresUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'expected null or postgres://[user[:password]@]host[:port]/database';
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    return `expected null or postgres://[user[:password]@]host[:port]/database, got scheme "${u.protocol.replace(/:$/, '')}"`;
  }
  if (u.hostname === '' && !u.searchParams.has('host')) return 'expected postgres://…: host is missing';
  return undefined;
}

/** The URL without its password, for logs. */
export function redactPostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '[invalid url]';
  }
}

const port = z.number().int().min(0).max(65535);
const hostPort = z.strictObject({ host: z.string().min(1), port });

const upstreamUrl = z.string().superRefine((v, ctx) => {
  const r = parseNntpUrl(v);
  if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
});

const upstream = z.strictObject({
  /** `nntp://[user:pass@]host[:port]` (default port 119) or `nntps://…` (implicit TLS, default port 563). */
  url: upstreamUrl,
  /** NNTP connections kept to this upstream. */
  poolSize: z.number().int().min(1).max(MAX_POOL_SIZE).default(4),
  /** Commands in flight per connection. */
  pipelineWindow: z.number().int().min(1).max(MAX_PIPELINE_WINDOW).default(1000),
  /** Upgrade a plain `nntp://` connection with STARTTLS (RFC 4642) before anything else. */
  starttls: z.boolean().default(false),
});

/**
 * `state`: `session`, `local`, an http(s) URL of a state agent or a
 * postgres URL. A bad value is named only when it is no URL: a URL may hold a
 * password, so its messages never echo it.
 */
const stateMode = z.string().superRefine((v, ctx) => {
  if (v === 'session' || v === 'local') return;
  if (/^postgres(ql)?:\/\//i.test(v)) {
    const r = checkPostgresUrl(v);
    if (r !== undefined) ctx.addIssue({ code: 'custom', message: r.replace('expected null or', 'expected') });
    return;
  }
  if (/^https?:\/\/[^/\s]+/.test(v)) {
    try {
      new URL(v);
      return;
    } catch {
      /* fall through */
    }
  }
  const shown = /^[a-z][a-z0-9+.-]*:/i.test(v) ? `a URL of scheme "${v.slice(0, v.indexOf(':'))}"` : `"${v}"`;
  ctx.addIssue({ code: 'custom', message: `expected "session", "local", an http(s):// URL of a state agent or a postgres:// URL, got ${shown}` });
});

/** A PostgreSQL URL or null (checked without echoing it). */
const postgresUrl = z.string().superRefine((v, ctx) => {
  const r = checkPostgresUrl(v);
  if (r !== undefined) ctx.addIssue({ code: 'custom', message: r });
});

const addressRange = z.string().superRefine((v, ctx) => {
  const r = parseAddressRange(v);
  if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
});

/** Admission and login limits; defaults and their reasons in src/imap/limits.ts. */
const LIMIT_DEFAULTS = {
  maxConnections: L.MAX_CONNECTIONS,
  maxConnectionsPerAddress: L.MAX_CONNECTIONS_PER_ADDRESS,
  exemptAddresses: [...L.LIMIT_EXEMPT_ADDRESSES],
  preAuthDeadlineMs: L.PRE_AUTH_DEADLINE_MS,
  maxPreAuthCommands: L.MAX_PRE_AUTH_COMMANDS,
  loginFailuresPerAddress: L.LOGIN_FAILURES_PER_ADDRESS,
  loginFailuresPerUser: L.LOGIN_FAILURES_PER_USER,
  loginFailureWindowMs: L.LOGIN_FAILURE_WINDOW_MS,
  passwordChecks: L.PASSWORD_CHECKS,
  passwordCheckQueue: L.PASSWORD_CHECK_QUEUE,
};

const limits = z.strictObject({
  /** Connections open at once, all sources together; more are greeted `* BYE [UNAVAILABLE]`. */
  maxConnections: z.number().int().min(1).max(1_000_000).default(LIMIT_DEFAULTS.maxConnections),
  /** Connections open at once from one source address (IPv6: per /64). */
  maxConnectionsPerAddress: z.number().int().min(1).max(1_000_000).default(LIMIT_DEFAULTS.maxConnectionsPerAddress),
  /** Address ranges exempt from the per-address limits (a proxy on this machine: loopback). */
  exemptAddresses: z.array(addressRange).default(LIMIT_DEFAULTS.exemptAddresses),
  /** Fixed time from connect to a successful login; bytes do not extend it. */
  preAuthDeadlineMs: z.number().int().min(1_000).max(3_600_000).default(LIMIT_DEFAULTS.preAuthDeadlineMs),
  /** Commands accepted before login; the next gets `* BYE [LIMIT]`. */
  maxPreAuthCommands: z.number().int().min(1).max(10_000).default(LIMIT_DEFAULTS.maxPreAuthCommands),
  /** Failed logins per source address before its logins are refused unchecked; refills over loginFailureWindowMs. */
  loginFailuresPerAddress: z.number().int().min(1).max(1_000_000).default(LIMIT_DEFAULTS.loginFailuresPerAddress),
  /** Failed logins per user name, the same way (sources the user logged in from lately are not held). */
  loginFailuresPerUser: z.number().int().min(1).max(1_000_000).default(LIMIT_DEFAULTS.loginFailuresPerUser),
  /** Time in which a spent failure allowance refills completely. */
  loginFailureWindowMs: z.number().int().min(1_000).max(86_400_000).default(LIMIT_DEFAULTS.loginFailureWindowMs),
  /** Password checks (scrypt) running at once. */
  passwordChecks: z.number().int().min(1).max(64).default(LIMIT_DEFAULTS.passwordChecks),
  /** Password checks waiting at most; beyond, logins are answered `NO [UNAVAILABLE]`. */
  passwordCheckQueue: z.number().int().min(0).max(100_000).default(LIMIT_DEFAULTS.passwordCheckQueue),
});

/** What the search index keeps of a group's bodies (src/export/backend/index-policy.ts). */
export const BODY_POLICIES = ['all', 'fetched', 'none'] as const;

/** A group pattern: `*` any run of characters, `?` one character, everything else literal. */
const groupPattern = z.string().min(1).max(512);
const bodyPolicy = z.enum(BODY_POLICIES);

/** Defaults of `index`; the reasons are in config/README.md. */
export const INDEX_DEFAULTS = {
  enabled: true,
  bodies: { '*': 'all' } as Record<string, (typeof BODY_POLICIES)[number]>,
  crawlConcurrency: 64,
  crawlBatch: 200,
  crawlQuietMs: 250,
  crawlDelayMs: 60_000,
  maxArticleBytes: 8 * 1024 * 1024,
  keysMemoryBytes: 64 * 1024 * 1024,
  keysIdleMs: 300_000,
};

const indexSchema = z.strictObject({
  /** Keep the search index `<data>/search.db` (SEARCH, SORT, THREAD without scanning). */
  enabled: z.boolean().default(INDEX_DEFAULTS.enabled),
  /** Per group pattern: `all` (crawl every body), `fetched` (bodies read anyway), `none`; the longest matching pattern wins. */
  bodies: z
    .union([z.record(groupPattern, bodyPolicy), z.array(z.strictObject({ pattern: groupPattern, bodies: bodyPolicy }))])
    .default(INDEX_DEFAULTS.bodies),
  /** Articles the background crawler reads at once, all groups together. */
  crawlConcurrency: z.number().int().min(1).max(MAX_PIPELINE_WINDOW).default(INDEX_DEFAULTS.crawlConcurrency),
  /** Articles per index transaction (crawler and fetched bodies). */
  crawlBatch: z.number().int().min(1).max(10_000).default(INDEX_DEFAULTS.crawlBatch),
  /** The crawler starts no read until clients have been quiet this long. */
  crawlQuietMs: z.number().int().min(0).max(60_000).default(INDEX_DEFAULTS.crawlQuietMs),
  /** An article is crawled once it has been listed this long (clients reading fresh articles index them). */
  crawlDelayMs: z.number().int().min(0).max(86_400_000).default(INDEX_DEFAULTS.crawlDelayMs),
  /** Bodies of bigger articles are not indexed (BODY scans them). */
  maxArticleBytes: z.number().int().min(0).default(INDEX_DEFAULTS.maxArticleBytes),
  /** Bound of the SORT/THREAD keys kept in memory, all groups together. */
  keysMemoryBytes: z.number().int().min(0).default(INDEX_DEFAULTS.keysMemoryBytes),
  /** A group's SORT/THREAD keys unused this long are dropped (0: kept while the bound allows). */
  keysIdleMs: z.number().int().min(0).max(86_400_000).default(INDEX_DEFAULTS.keysIdleMs),
});

export const configSchema = z.strictObject({
  /** Where the IMAP server listens (plain IMAP, STARTTLS offered when `tls` is set). */
  listen: hostPort.default({ host: '127.0.0.1', port: 1143 }),
  /** TLS certificate and key (PEM files); `listen` adds an implicit-TLS (IMAPS) listener. */
  tls: z
    .strictObject({
      cert: z.string().min(1),
      key: z.string().min(1),
      listen: hostPort.optional(),
    })
    .nullable()
    .default(null),
  /** NNTP upstreams in priority order: a group's primary is the first that carries it. */
  upstreams: z.array(upstream).default([]),
  /** Directory of mboxrd files, one per group (nested directories are hierarchy levels), or null. */
  archive: z.string().min(1).nullable().default(null),
  /** Directory for the UID map (LMDB) and other persistent data. */
  data: z.string().min(1).default('./data'),
  /**
   * Where the UID map lives: null = LMDB at `<data>/uidmap.lmdb` (one machine);
   * a `postgres://…` URL = PostgreSQL, shared by several front-ends.
   */
  uidmap: postgresUrl.nullable().default(null),
  /**
   * Where flags live: `session` (client-held), `local` (LMDB under `data`), a
   * state agent URL, or a `postgres://…` URL (PostgreSQL, shared by several front-ends).
   */
  state: stateMode.default('session'),
  /** Bearer token for the remote state agent (only with an http(s) `state`). */
  stateToken: z.string().min(1).nullable().default(null),
  /** File of users and password hashes, or null (then only anonymous access, if enabled). */
  users: z.string().min(1).nullable().default(null),
  /** Allow AUTHENTICATE ANONYMOUS (RFC 4505) and LOGIN anonymous. */
  anonymous: z.boolean().default(true),
  /** Where the groups stand: personal namespace with `prefix` "" (default) or a shared prefix like "#news.". */
  namespace: z
    .strictObject({
      prefix: z.string().default(''),
      separator: z.literal('.').default('.'),
    })
    .default({ prefix: '', separator: '.' }),
  /**
   * Article cache: directory (null ⇒ `<data>/cache`) and its size bound in
   * bytes; the `*MemoryBytes` keys bound the caches held in memory: headers
   * (`metaMemoryBytes`) and the renderings shared by all sessions (limits.ts
   * gives each default's reason).
   */
  cache: z
    .strictObject({
      dir: z.string().min(1).nullable().default(null),
      maxBytes: z.number().int().min(0).default(1024 * 1024 * 1024),
      metaMemoryBytes: z.number().int().min(1024 * 1024).default(DEFAULT_META_MEMORY_BYTES),
      renderStoreBytes: z.number().int().min(0).default(DEFAULT_RENDER_STORE_BYTES),
      envelopeMemoryBytes: z.number().int().min(0).default(L.ENVELOPE_CACHE_BYTES),
      structureMemoryBytes: z.number().int().min(0).default(L.STRUCTURE_CACHE_BYTES),
      previewMemoryBytes: z.number().int().min(0).default(L.PREVIEW_CACHE_BYTES),
      objectIdMemoryBytes: z.number().int().min(0).default(L.OBJECTID_CACHE_BYTES),
      mallocTrimMs: z.number().int().min(0).default(DEFAULT_MALLOC_TRIM_MS),
      heapCompactFreeBytes: z.number().int().min(0).default(DEFAULT_HEAP_COMPACT_FREE_BYTES),
      semiSpaceBytes: z.number().int().min(0).default(DEFAULT_SEMI_SPACE_BYTES),
      pretenuring: z.boolean().default(DEFAULT_PRETENURING),
      heapGarbageBytes: z.number().int().min(0).default(DEFAULT_HEAP_GARBAGE_BYTES),
    })
    .default(CACHE_DEFAULTS),
  /** Marking an article \\Seen marks the same Message-ID \\Seen in the other groups it was crossposted to. */
  crosspostSeen: z.boolean().default(true),
  /** How often groups are polled for new and expired articles. */
  pollIntervalMs: z.number().int().min(MIN_POLL_INTERVAL_MS).max(MAX_POLL_INTERVAL_MS).default(60_000),
  /**
   * How often an open group is listed in full (NNTP LISTGROUP) to find cancelled
   * articles, which GROUP does not show (INN). SELECT (QRESYNC …) always checks.
   */
  cancelCheckMs: z.number().int().min(MIN_POLL_INTERVAL_MS).max(MAX_POLL_INTERVAL_MS).default(600_000),
  /** Connection admission and login limits (src/imap/limits.ts gives each default's reason). */
  limits: limits.default(LIMIT_DEFAULTS),
  /**
   * PROXY protocol (v1 or v2) on the IMAP listeners: connections from these
   * peers (a load balancer: addresses or CIDR ranges) must start with a PROXY
   * header naming the client; from any other peer a header is not read.
   */
  proxy: z
    .strictObject({
      trusted: z.array(addressRange).default([]),
    })
    .default({ trusted: [] }),
  /** The operations HTTP listener (/metrics, /health, /ready), or null (none). */
  metrics: z
    .strictObject({
      listen: hostPort.nullable().default(null),
    })
    .default({ listen: null }),
  /** The search index (SEARCH, SORT, THREAD) and its background crawler. */
  index: indexSchema.default(INDEX_DEFAULTS),
  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
    })
    .default({ level: 'info' }),
  /**
   * The state agent (`newsfront agent`, docs/agent-api.md); `serve` ignores it.
   * The agent needs `listen`, `tokens` and one of `data` / `store`; null means not set.
   */
  agent: z
    .strictObject({
      /** Address of the agent's HTTP listener. */
      listen: hostPort.nullable().default(null),
      /** Data directory of the agent (its LMDB environment is `<data>/flags`); unused with `store`. */
      data: z.string().min(1).nullable().default(null),
      /** Flags in PostgreSQL (`postgres://…`) instead of LMDB under `data`: several agents then serve the same users. */
      store: postgresUrl.nullable().default(null),
      /** Tokens file: one `<token> user|frontend <name>` per line. */
      tokens: z.string().min(1).nullable().default(null),
    })
    .default({ listen: null, data: null, store: null, tokens: null }),
});

/** The validated, frozen configuration object. */
export type Config = z.output<typeof configSchema>;
/** What a config file (or a test overlay) may contain: every key optional. */
export type ConfigInput = z.input<typeof configSchema>;
export type UpstreamConfig = Config['upstreams'][number];

/** Recursively readonly view, the type of a frozen config. */
export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type FrozenConfig = DeepReadonly<Config>;
