/**
 * Starting the whole server from a validated config: sources → UID map →
 * search index (`<data>/search.db`) → export backend → flag store → IMAP listener(s). `close()` stops everything
 * in the reverse order. The CLI (`newsfront serve`), the tests and the
 * benchmark all start newsfront through here.
 *
 * Before anything starts, the files the configuration names are checked: an
 * archive directory that is missing or not a directory, a users file that
 * cannot be read or has a bad line, and TLS files that cannot be read are a
 * `ConfigError` (one line naming the key and file; the CLI exits 2, as for any
 * configuration error). Other start-up failures are thrown as they are.
 *
 * With `metrics.listen` set, a `Metrics` registry is made first and its hooks
 * handed to the layers (upstream requests, the shared flag store, IMAP
 * commands and PROXY headers); the operations listener (ops.ts) starts last.
 * Without it no hook is installed.
 */
import { readFileSync } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from '../util/log.js';
import type { FrozenConfig } from './config/schema.js';
import { buildSources } from './ingest.js';
import { MultiSource } from '../export/sources.js';
import { openUidMapStore } from './uidmaps.js';
import type { UidMapStore } from '../uidmap/index.js';
import { createBackend, type BackendOptions, type ClosableBackend, type IndexOptions } from '../export/backend/index.js';
import type { SearchIndex } from '../search/index.js';
import { ImapServer } from '../imap/server.js';
import { RenderCache } from '../imap/render/cache.js';
import { LmdbRenderStore } from './render-store.js';
import { tlsMaterial, type Authenticator, type ServerContext, type TlsMaterial } from '../imap/context.js';
import { Users, UsersFileError } from './auth/users.js';
import { ConfigError } from './config/load.js';
import { GuardedAuthenticator } from './auth/guard.js';
import { openFlagStores, type FlagStores } from './flagstores.js';
import { indexOptionsOf, openSearchIndex } from './search-index.js';
import { IDLE_AUTOLOGOUT_MS, LOGIN_FAILURE_DELAY_MS } from '../imap/limits.js';
import { Metrics } from './metrics.js';
import { PROBE_USER, Readiness, UpstreamCheck, flagStoreCheck, startOpsServer, type ServerStatus, type WatchedUpstream } from './ops.js';
import { redactNntpUrl } from '../nntp/index.js';
import { startHeapCompactor } from '../util/heap-compact.js';
import { startLeftoverCollector } from '../util/heap-leftovers.js';
import { startMallocTrimmer } from '../util/malloc-trim.js';
import { semiSpaceFlagMiB, setPretenuring, startYoungGenerationCap } from '../util/young-gen.js';

export interface RunningNewsfront {
  /** Bound IMAP port (useful with port 0). */
  port: number;
  tlsPort?: number;
  backend: ClosableBackend;
  imap: ImapServer;
  /** Bound port of the operations listener, when `metrics.listen` is set. */
  metricsPort?: number;
  /** Set when serving the embedded sample with no users file: the demo account offered. */
  demoUser?: { user: string; password: string };
  close(): Promise<void>;
}

export interface StartOptions {
  /** Use this UID map store (tests); the caller closes it. */
  uidmaps?: UidMapStore;
  /** Collect prom-client's process metrics with `metrics.listen` (default true; tests making many turn it off). */
  defaultMetrics?: boolean;
}

function loadTls(config: FrozenConfig): TlsMaterial | undefined {
  if (!config.tls) return undefined;
  const read = (key: 'cert' | 'key'): Buffer => {
    const file = config.tls![key];
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`config: tls.${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
  };
  const cert = read('cert');
  const key = read('key');
  try {
    return tlsMaterial(cert, key);
  } catch (err) {
    throw new ConfigError(`config: tls: ${config.tls.cert} and ${config.tls.key} are not a usable PEM certificate and key: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The configured archive must be a directory newsfront can list (a wrong path
 * would otherwise serve no group, silently). Throws `ConfigError`.
 */
export async function checkArchive(config: FrozenConfig): Promise<void> {
  if (config.archive === null) return;
  const dir = config.archive;
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new ConfigError(`config: archive: ${dir} is not a directory`);
    await access(dir, constants.R_OK | constants.X_OK);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`config: archive: cannot read directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

/** The demo account of the embedded sample archive (`npm start` on a fresh clone). */
export const DEMO_USER = { user: 'demo', password: 'demo' } as const;

/** Serving the embedded sample: no upstream and no archive configured. */
export function servingSample(config: FrozenConfig): boolean {
  return config.upstreams.length === 0 && config.archive === null;
}

/** The users file (or the demo account) behind the failed-login limiter and the password-check queue. */
function authenticator(config: FrozenConfig, logger: Logger): Authenticator {
  let users: Users;
  if (config.users) {
    try {
      users = Users.load(config.users);
    } catch (err) {
      if (err instanceof UsersFileError) throw new ConfigError(`config: users: ${err.message}`, { cause: err });
      throw err;
    }
  }
  else if (servingSample(config)) users = Users.parse(`${DEMO_USER.user}:{PLAIN}${DEMO_USER.password}\n`, 'demo');
  else users = Users.parse('');
  const l = config.limits;
  return new GuardedAuthenticator(users, {
    failuresPerAddress: l.loginFailuresPerAddress,
    failuresPerUser: l.loginFailuresPerUser,
    failureWindowMs: l.loginFailureWindowMs,
    passwordChecks: l.passwordChecks,
    passwordCheckQueue: l.passwordCheckQueue,
    log: logger.child({ component: 'auth' }),
  });
}

/**
 * The export backend's options from the config (serve, and `newsfront index`):
 * cache under `<data>/cache` unless set, sizes confirmed by reading small
 * NNTP articles (INN's overview sizes are off by one for bodies starting with
 * '.'), exact for an archive.
 */
export function backendOptions(
  config: FrozenConfig, sources: MultiSource, uidmaps: UidMapStore, logger: Logger, index: SearchIndex | undefined, indexOptions: IndexOptions,
): BackendOptions {
  return {
    source: sources,
    uidmaps,
    primaryOf: (g) => sources.primaryOf(g),
    cacheDir: config.cache.dir ?? resolve(config.data, 'cache'),
    cacheMaxBytes: config.cache.maxBytes,
    metaMemoryBytes: config.cache.metaMemoryBytes,
    pollIntervalMs: config.pollIntervalMs,
    fullCheckMs: config.cancelCheckMs,
    namespacePrefix: config.namespace.prefix,
    logger, // createBackend binds its own component
    sizes: (group) => ((sources.servingOf(group) ?? '').startsWith('archive:') ? 'exact' : 'download'),
    index,
    indexOptions,
  };
}

/**
 * Commands whose allocations are their answer, dead once it is sent: after a
 * long one the leftover collector checks at once (heap-leftovers.ts
 * `afterCommand`). Not SELECT/EXAMINE: what a first open allocates is the
 * mailbox's view and the ingest that goes on after it (a 100k group's first
 * SELECT at load 4: a 192 ms collection before its OK freed nothing).
 */
const ANSWER_COMMANDS: ReadonlySet<string> = new Set(['FETCH', 'SEARCH', 'SORT', 'THREAD'].flatMap((c) => [c, `UID ${c}`]));

export async function startNewsfront(config: FrozenConfig, logger: Logger, opts: StartOptions = {}): Promise<RunningNewsfront> {
  const cleanups: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        logger.warn({ err }, 'error while closing');
      }
    }
    cleanups.length = 0;
  };
  try {
    // first: the opening ingest and the index's start allocate enough to grow the young generation;
    // a --max-semi-space-size on the command line bounds it for good, the runtime cap only tries
    const youngCap = startYoungGenerationCap(semiSpaceFlagMiB() === undefined ? config.cache.semiSpaceBytes : 0);
    // before the first ingest or listing teaches V8 to pretenure what single FETCHes allocate too
    setPretenuring(config.cache.pretenuring);
    if (!config.cache.pretenuring) cleanups.push(async () => setPretenuring(true));
    cleanups.push(async () => youngCap.stop());
    await checkArchive(config);
    const auth = authenticator(config, logger);
    const tls = loadTls(config);
    const metrics = config.metrics.listen ? new Metrics({ defaults: opts.defaultMetrics ?? true }) : undefined;
    const watched: WatchedUpstream[] = [];
    const upstreamRequest = metrics
      ? (id: string) => {
          const hook = metrics.upstreamRequest(id);
          const u = config.upstreams.find((x) => redactNntpUrl(x.url) === id);
          if (u) watched.push({ config: u, seen: hook.seen });
          return hook;
        }
      : undefined;
    const sources = new MultiSource(await buildSources(config, logger, { upstreamRequest }), {
      logger,
      onFailover: (group, from, to) => logger.warn({ group, from, to }, 'group now served by another source'),
    });
    cleanups.push(() => sources.close());
    // in the background while the rest starts: upstream connections, LIST ACTIVE (a first SELECT waited for them)
    void sources.warm();
    const uidmaps = opts.uidmaps ?? (await openUidMapStore(config, logger));
    if (!opts.uidmaps) cleanups.push(() => uidmaps.close());
    // one search index per data directory; closed after the backend (cleanups run in reverse)
    const index = await openSearchIndex(config, logger.child({ component: 'index' }));
    if (index !== undefined) cleanups.push(() => index.close());
    const backend = await createBackend(backendOptions(config, sources, uidmaps, logger, index, indexOptionsOf(config)));
    cleanups.push(() => backend.close());
    const flags: FlagStores = await openFlagStores(config, logger);
    cleanups.push(() => flags.close());
    // rendered envelopes beyond the memory bound go to disk beside the backend's caches
    const trimmer = startMallocTrimmer(config.cache.mallocTrimMs, logger.child({ component: 'memory' }));
    cleanups.push(async () => trimmer.stop());
    const compactor = startHeapCompactor(config.cache.mallocTrimMs, config.cache.heapCompactFreeBytes, logger.child({ component: 'memory' }));
    cleanups.push(async () => compactor.stop());
    const leftovers = startLeftoverCollector(config.cache.mallocTrimMs, config.cache.heapGarbageBytes, logger.child({ component: 'memory' }));
    cleanups.push(async () => leftovers.stop());
    const renderStore = new LmdbRenderStore(config.cache.dir ?? resolve(config.data, 'cache'), logger.child({ component: 'render' }), config.cache.renderStoreBytes);
    const renderCache = new RenderCache(
      {
        envelopeBytes: config.cache.envelopeMemoryBytes,
        structureBytes: config.cache.structureMemoryBytes,
        previewBytes: config.cache.previewMemoryBytes,
        objectIdBytes: config.cache.objectIdMemoryBytes,
      },
      renderStore,
    );
    // structures the index crawler parses are rendered at once: a crawled group's first BODYSTRUCTURE listing renders nothing
    const unhook = backend.onStructure?.((mailbox, uv, uid, part) => renderCache.structureAhead(mailbox, uv, uid, part));
    cleanups.push(async () => {
      unhook?.();
      renderCache.flush();
      await renderStore.close();
    });
    const ctx: ServerContext = {
      backend,
      renderCache,
      auth,
      flagStoreFor: (user) => {
        const store = flags.forUser(user);
        return metrics && store.persistent ? metrics.instrumentFlagStore(store) : store;
      },
      tls,
      options: {
        anonymous: config.anonymous,
        allowPlaintextAuth: true,
        namespacePrefix: config.namespace.prefix,
        idleTimeoutMs: IDLE_AUTOLOGOUT_MS,
        loginFailureDelayMs: LOGIN_FAILURE_DELAY_MS,
        compress: true,
        persistentFlags: flags.persistent,
        crosspostSeen: config.crosspostSeen,
        // SORT, ESORT and THREAD need the index (mailbox handles offer `search` only with it)
        sortThread: index !== undefined,
      },
    };
    const imap = new ImapServer(ctx, logger.child({ component: 'imap' }), {
      maxConnections: config.limits.maxConnections,
      maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress,
      exemptAddresses: config.limits.exemptAddresses,
      preAuthDeadlineMs: config.limits.preAuthDeadlineMs,
      maxPreAuthCommands: config.limits.maxPreAuthCommands,
    }, {
      proxyTrusted: config.proxy.trusted,
      ...(metrics ? { onCommand: metrics.commandObserver, onProxyHeader: metrics.proxyHeader } : {}),
      // a long answer (a listing of a large group) leaves its garbage: collected before its completion goes out
      afterCommand: (name, ms) => void (ANSWER_COMMANDS.has(name) && leftovers.afterCommand(ms)),
    });
    cleanups.push(() => imap.close());
    const { port, tlsPort } = await imap.listen({
      host: config.listen.host,
      port: config.listen.port,
      tlsPort: config.tls?.listen?.port,
      tlsHost: config.tls?.listen?.host,
    });
    let metricsPort: number | undefined;
    if (metrics && config.metrics.listen) {
      metrics.watchSessions(() => imap.sessionStates());
      metrics.watchArticleCache(backend.cache);
      metrics.watchEnvelopeCache(() => ctx.renderCache.envelopeStats());
      const indexing = backend.indexing;
      if (indexing !== undefined) metrics.watchIndex(() => indexing.status());
      const shared = flags.persistent ? flags.forUser(PROBE_USER) : undefined; // probes stay out of the flag-store figures
      const readiness = new Readiness([new UpstreamCheck(watched, metrics, logger), flagStoreCheck(shared)]);
      const startedAt = Date.now();
      const status = (): ServerStatus => ({ pid: process.pid, startedAt, index: indexing?.status() ?? null });
      const ops = await startOpsServer({ ...config.metrics.listen, metrics, readiness, status, log: logger.child({ component: 'ops' }) });
      cleanups.push(() => ops.close());
      metricsPort = ops.port;
    }
    const demoUser = !config.users && servingSample(config) ? { ...DEMO_USER } : undefined;
    return { port, tlsPort, metricsPort, backend, imap, close, demoUser };
  } catch (err) {
    await close();
    throw err;
  }
}
