/**
 * `newsfront status`: the search index's progress for an operator.
 *
 *   newsfront status [--config FILE] [--data DIR] [--url http://HOST:PORT] [--json]
 *
 *   server: pid 4242, up 5 min 3 s (http://127.0.0.1:9100/status)
 *   index:  data/search.db, 470.3 MB on disk, 4,702 B per article, 100,001 articles
 *   group      headers                bodies                crawl     rate/s  ETA
 *   bench.big  100,001 of 100,001     45,123 of 100,001 45% crawling  1,807   30 s
 *
 * A running server is asked first (GET /status on its operations listener:
 * `--url`, else the configured `metrics.listen`); it knows each group's total,
 * its crawl state, rate and ETA. When none answers, the data directory's
 * index file (`<data>/search.db`) is read instead (it may be in use): headers
 * and bodies indexed per group and the size on disk, no total and no crawl.
 * `--json` prints the ServerStatus (ops.ts) or, from the file, `{"pid": null,
 * "index": …}`.
 *
 * Exit status: 0 when a server or the index file answered, 1 when neither
 * did, 2 for a configuration error.
 */
import { ConfigError, CONFIG_EXIT_CODE, loadConfig } from './config/load.js';
import { searchIndexPath } from './search-index.js';
import { bodyPolicy, indexStatus, type BodyRules, type GroupIndexStatus, type IndexStatus } from '../export/backend/index.js';
import { SearchIndex } from '../search/index.js';
import type { ServerStatus } from './ops.js';
import type { FrozenConfig } from './config/schema.js';

export interface StatusFlags {
  config?: string;
  data?: string;
  url?: string;
  json?: boolean;
}

/** How long a server may take to answer /status. */
const ASK_TIMEOUT_MS = 5_000;

/** The /status URL: `--url` (its path defaults to /status), else the configured operations listener. */
function statusUrl(flags: StatusFlags, listen: { host: string; port: number } | null): string | undefined {
  if (flags.url !== undefined) {
    const u = new URL(flags.url);
    if (u.pathname === '/' || u.pathname === '') u.pathname = '/status';
    return u.href;
  }
  if (listen === null) return undefined;
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}/status`;
}

/** Runs the command; resolves to the exit status. `out` takes stdout text, `err` stderr text. */
export async function statusCommand(flags: StatusFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let config: FrozenConfig;
  try {
    config = loadConfig({ env: process.env, flags: { ...(flags.config !== undefined ? { config: flags.config } : {}), ...(flags.data !== undefined ? { data: flags.data } : {}) } });
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`${e.message}\n`);
      return CONFIG_EXIT_CODE;
    }
    throw e;
  }
  let url: string | undefined;
  try {
    url = statusUrl(flags, config.metrics.listen);
  } catch {
    err(`newsfront status: --url: not a URL: ${flags.url}\n`);
    return CONFIG_EXIT_CODE;
  }
  let why = 'no operations listener configured (metrics.listen, or --url)';
  if (url !== undefined) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(ASK_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const s = (await res.json()) as ServerStatus;
      out(flags.json ? `${JSON.stringify(s, null, 2)}\n` : render(s, `server: pid ${s.pid}, up ${duration((Date.now() - s.startedAt) / 1000)} (${url})`));
      return 0;
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      why = `no server answered at ${url} (${cause ?? (e as Error).message})`;
    }
  }
  const path = searchIndexPath(config);
  let index: IndexStatus;
  try {
    index = indexStatus(SearchIndex.inspect(path), () => undefined, bodyPolicy(config.index.bodies as BodyRules));
  } catch (e) {
    err(`newsfront status: ${why}; and the index file cannot be read: ${(e as Error).message}\n`);
    return 1;
  }
  out(flags.json ? `${JSON.stringify({ pid: null, index }, null, 2)}\n` : render({ index }, `server: ${why}; from the index file`));
  return 0;
}

const n = (x: number): string => x.toLocaleString('en-US');

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function part(count: number, total: number | null): string {
  if (total === null) return n(count);
  return `${n(count)} of ${n(total)}${total > 0 && count < total ? ` ${Math.floor((count * 100) / total)}%` : ''}`;
}

function crawlCells(g: GroupIndexStatus): string[] {
  const c = g.crawl;
  if (c === null) return [g.policy === 'all' || g.policy === null ? 'not running' : `off (${g.policy})`, '', ''];
  const eta = c.state === 'waiting' && c.resumesAt !== undefined ? `starts in ${duration(Math.max(0, c.resumesAt - Date.now()) / 1000)}` : c.etaS === null ? '' : c.etaS === 0 ? '' : duration(c.etaS);
  return [c.state, c.rate > 0 ? n(Math.round(c.rate)) : '', eta];
}

/** The human-readable report: a header line, the index line, a table of groups. */
function render(s: Pick<ServerStatus, 'index'>, first: string): string {
  const lines = [first];
  const ix = s.index;
  if (ix === null) return `${lines.concat('index:  off (index.enabled is false, or the file could not be opened: see the server log)').join('\n')}\n`;
  lines.push(`index:  ${ix.path}, ${(ix.bytes / 1e6).toFixed(1)} MB on disk, ${n(ix.bytesPerArticle)} B per article, ${n(ix.documents)} articles`);
  const rows = [['group', 'headers', 'bodies', 'crawl', 'rate/s', 'ETA']];
  for (const g of ix.groups) rows.push([g.group, part(g.headers, g.total), part(g.bodies, g.total ?? g.headers), ...crawlCells(g)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) lines.push(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  if (ix.groups.length === 0) lines.push('(no group indexed yet)');
  return `${lines.join('\n')}\n`;
}
