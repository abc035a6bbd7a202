/**
 * The search index build rows of `npm run bench` (issue 11), measured from
 * the server's own progress: GET /status of its operations listener
 * (src/app/ops.ts), the same report `newsfront status` prints.
 *
 * - headers: the first SELECT lists the group (OVER) and queues its overview
 *   records for the index writer (a thread of the server). The row is the
 *   time from that SELECT until every article's headers are indexed; the
 *   bench waits for it right there (polling every HEADERS_POLL_MS), so the
 *   listing rows after it do not share the two cores with the writer.
 * - bodies: the first server keeps no bodies (`index.bodies: {"*": "none"}`:
 *   no crawler, and the articles the listing rows read are not copied to the
 *   index), so no row before this one shares the machine with body indexing
 *   and the crawl below is the whole build. After the listing rows the server
 *   is restarted with the default policy (`all`) and `crawlDelayMs: 0`; its
 *   crawl starts at once (as `serve` resumes one after a restart) and is
 *   timed from the restart until every body is indexed (polled every
 *   BODIES_POLL_MS): wall time, the server's CPU time (all threads),
 *   articles/s, and the index's bytes on disk per article.
 *
 * The SEARCH/SORT/THREAD rows then run against the restarted server, over the
 * complete index (imap-rows.ts says so in their notes).
 */
import type { IndexStatus } from '../src/export/backend/index.js';
import type { ServerStatus } from '../src/app/ops.js';
import type { Row } from './report.js';
import type { ServerProcess } from './server.js';

const HEADERS_POLL_MS = 250;
const BODIES_POLL_MS = 1_000;
/** Longest wait for a build (the body crawl of 100k takes about a minute here). */
const BUILD_TIMEOUT_MS = 900_000;
/** A build that shows no progress for this long is given up (a resumed crawl retries every 10 s). */
const STALL_MS = 120_000;
const SECTION = 'Search index (built by the server over this INN)';

/** Config of a bench server: the operations listener on `metricsPort`; no bodies in the index, or every body crawled at once. */
export function benchConfig(metricsPort: number, crawl: boolean): Record<string, unknown> {
  return { metrics: { listen: { host: '127.0.0.1', port: metricsPort } }, index: crawl ? { crawlDelayMs: 0 } : { bodies: { '*': 'none' } } };
}

/** The /status of the server whose operations listener is on `port`. */
export async function serverStatus(port: number): Promise<ServerStatus> {
  const res = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`/status: HTTP ${res.status}`);
  return (await res.json()) as ServerStatus;
}

/** The group's line of a status, or undefined before the index knows it. */
function groupOf(s: IndexStatus | null, group: string): IndexStatus['groups'][number] | undefined {
  return s?.groups.find((g) => g.group === group);
}

export interface IndexBuild {
  /** After the first SELECT (`selectSeconds`): waits until every article's headers are indexed, adds the row. */
  headers(selectSeconds: number): Promise<void>;
  /** Restarts the server with the crawler on, waits for every body, adds the rows; the new IMAP port, and a note for the rows after. */
  bodies(): Promise<{ port: number; note: string }>;
}

export interface IndexBuildInput {
  group: string;
  /** Articles in the group. */
  count: number;
  /** The metrics port of the running server. */
  metricsPort: () => number;
  /** Stops the server and starts it again with `benchConfig(port, true)`; resolves to it and its metrics port. */
  restart: () => Promise<{ server: ServerProcess; metricsPort: number }>;
  /** Seconds INN took for ARTICLE of every article, pipelined, in this run. */
  articlesAll?: number;
  add: (row: Row) => void;
  log: (msg: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` holds of the group's status (not ok: BUILD_TIMEOUT_MS passed, or STALL_MS without progress); the last status seen. */
async function until(port: number, group: string, every: number, done: (g: IndexStatus['groups'][number]) => boolean): Promise<{ status: ServerStatus; g: IndexStatus['groups'][number] | undefined; ok: boolean }> {
  const end = Date.now() + BUILD_TIMEOUT_MS;
  let seen = '';
  let moved = Date.now();
  for (;;) {
    const status = await serverStatus(port);
    const g = groupOf(status.index, group);
    if (g !== undefined && done(g)) return { status, g, ok: true };
    const now = `${g?.total} ${g?.headers} ${g?.bodies}`;
    if (now !== seen) [seen, moved] = [now, Date.now()];
    if (Date.now() > end || Date.now() - moved > STALL_MS) return { status, g, ok: false };
    await sleep(every);
  }
}

export function indexBuild(o: IndexBuildInput): IndexBuild {
  const row = (operation: string, r: Omit<Row, 'section' | 'operation'>): void => o.add({ section: SECTION, operation, ...r });
  return {
    async headers(selectSeconds) {
      o.log('index: waiting for every header');
      const op = `headers of ${o.count} articles indexed, from the first SELECT`;
      try {
        const t0 = performance.now();
        const r = await until(o.metricsPort(), o.group, HEADERS_POLL_MS, (g) => g.headers >= o.count);
        const seconds = selectSeconds + (performance.now() - t0) / 1000;
        const value = r.ok ? seconds : `n/a: ${r.g?.headers ?? 0} of ${o.count} after ${Math.round(seconds)} s`;
        row(op, { unit: 's', value, note: `SELECT ${selectSeconds.toFixed(2)} s of it; polled every ${HEADERS_POLL_MS} ms` });
      } catch (err) {
        row(op, { unit: 's', value: `error: ${(err as Error).message.slice(0, 120)}` });
      }
    },
    async bodies() {
      o.log('index: restart with the crawler on; waiting for every body');
      const before = await serverStatus(o.metricsPort()).then((s) => groupOf(s.index, o.group)?.bodies ?? 0, () => 0);
      const t0 = performance.now();
      const { server, metricsPort } = await o.restart();
      const op = `bodies of ${o.count} articles indexed, from a restart with crawlDelayMs 0`;
      try {
        const r = await until(metricsPort, o.group, BODIES_POLL_MS, (g) => g.total !== null && g.bodies >= g.total);
        const seconds = (performance.now() - t0) / 1000;
        const cpu = await server.cpuSeconds(); // a fresh process: its start and the crawl
        const crawled = (r.g?.bodies ?? 0) - before;
        const ix = r.status.index;
        if (!r.ok) {
          row(op, { unit: 's', value: `n/a: ${r.g?.bodies ?? 0} of ${o.count} after ${Math.round(seconds)} s` });
          return { port: server.port, note: `index INCOMPLETE (${r.g?.bodies ?? 0} of ${o.count} bodies)` };
        }
        row(op, {
          unit: 's', value: seconds, target: 60,
          ...(o.articlesAll !== undefined ? { upstream: o.articlesAll, upstreamNote: 'ARTICLE ×all pipelined' } : {}),
          note: `${crawled} crawled${before > 0 ? ` (${before} indexed before)` : ''}, ${Math.round(crawled / seconds)} articles/s; server CPU ${cpu.toFixed(1)} s (all threads)`,
        });
        if (ix !== null) {
          row('index size on disk per article (search.db + WAL, every header and body)', {
            unit: 'KB', value: ix.bytesPerArticle / 1000, note: `${(ix.bytes / 1e6).toFixed(0)} MB for ${ix.documents} articles`,
          });
        }
        return { port: server.port, note: 'every body indexed' };
      } catch (err) {
        row(op, { unit: 's', value: `error: ${(err as Error).message.slice(0, 120)}` });
        return { port: server.port, note: 'index state unknown' };
      }
    },
  };
}
