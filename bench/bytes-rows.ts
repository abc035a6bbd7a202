/**
 * Development aid (not part of `npm run bench`): only the article-bytes rows
 * of the bench, against an INN that is already running (bench/hold-inn.ts),
 * each printed beside INN's figure for the same bytes measured in this run,
 * with the server's CPU time for the row (from /proc/PID/stat).
 *
 *   npm run build && node dist/bench/bytes-rows.js --port P [--quick] [--rounds 3] [--cli dist/src/cli.js] [--json out.json] [--gap MS] [--log-dir DIR]
 *
 * Rows, in an order that keeps "first" honest (fresh data dir, nothing read before):
 *   1,000 × BODY.PEEK[] in one command, first time (from INN) and again;
 *   the same after a server restart on the same data dir (articles on disk only);
 *   BODY.PEEK[2]<0.1024> of the large article's attachment, first and again;
 *   BODY.PEEK[] of the whole large article.
 * INN: ARTICLE ×1,000 pipelined (100 in flight) and ARTICLE of the large article.
 *
 * `--cli` runs another build (e.g. a worktree of an older commit) for A/B runs;
 * `BENCH_SERVER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR"` profiles the server;
 * `--gap 1000` leaves a second idle before each row, so the rows stand apart
 * in the profile's timeline.
 * Starts and stops its own newsfront children (by PID) and temp data dir.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusOptions, prepareCorpus } from './corpus.js';
import { median } from './report.js';
import { procCpuSeconds, freePort, startServer, type ServerProcess } from './server.js';
import { openSession, rounds } from './session.js';
import * as up from './upstream.js';
import { rowScriptArgs, type RowScriptArgs } from './args.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..', '..');

interface Args extends RowScriptArgs {
  /** Also write the rows to this JSON file. */
  json?: string;
}

function parseArgs(argv: string[]): Args {
  let json: string | undefined;
  const a = rowScriptArgs(argv, (name, next) => (name === '--json' ? ((json = next()), true) : false));
  return { ...a, ...(json !== undefined ? { json } : {}) };
}

interface Line {
  row: string;
  seconds: number;
  cpu: number;
  inn?: number;
  note?: string;
}

const lines: Line[] = [];
function print(l: Line): void {
  lines.push(l);
  const ratio = l.inn ? (l.seconds / l.inn).toFixed(2) : '';
  process.stdout.write(
    `${l.row.padEnd(52)} ${fmt(l.seconds).padStart(9)}  cpu ${fmt(l.cpu).padStart(8)}  INN ${l.inn ? fmt(l.inn) : '—'.padStart(1)}  ${ratio ? `×${ratio}` : ''} ${l.note ?? ''}\n`,
  );
}
const fmt = (s: number): string => (s < 0.1 ? `${(s * 1000).toFixed(2)} ms` : `${s.toFixed(3)} s`);

/** The server's RSS now (anonymous and file-backed: LMDB maps and the page cache are the latter). */
async function memoryLine(server: ServerProcess, when: string): Promise<void> {
  const mem = await server.memory();
  const status = await readFile(`/proc/${server.pid}/status`, 'latin1');
  const mb = (f: string): string => ((Number(new RegExp(`^${f}:\\s+(\\d+)`, 'm').exec(status)?.[1]) * 1024) / 1e6).toFixed(0);
  process.stderr.write(`[bytes-rows] server RSS ${when}: ${mem.rssMB.toFixed(0)} MB (anonymous ${mb('RssAnon')} MB, file-backed ${mb('RssFile')} MB), peak ${mem.hwmMB.toFixed(0)} MB\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (m: string): void => void process.stderr.write(`[bytes-rows] ${m}\n`);
  const corpus = await prepareCorpus(join(ROOT, '.bench'), corpusOptions(args.quick), log);
  const count = corpus.messageIds.length;
  const L = corpus.large;
  const lo = L && L.number <= 1000 ? L.number + 1 : 1;
  const hi = Math.min(count, lo + 999);

  // INN, same run
  const inn1000 = median(await rounds(args.rounds, async () => (await up.articles(args.port, corpus.group, up.range(lo, hi), up.PIPELINE_WINDOW)).seconds));
  const innLarge = L ? median(await rounds(args.rounds, async () => (await up.articles(args.port, corpus.group, [L.number], 1)).seconds)) : undefined;
  log(`INN: ARTICLE ×1000 pipelined ${fmt(inn1000)}${innLarge ? `, large ${fmt(innLarge)}` : ''}`);

  const dataDir = await mkdtemp(join(tmpdir(), 'nf-bytes-'));
  let server: ServerProcess | undefined;
  const launch = async (n: number): Promise<ServerProcess> =>
    startServer({ upstreamPort: args.port, dataDir, listenPort: await freePort(), logPath: join(args.logDir ?? dataDir, `server${n}.log`), ...(args.cli ? { cli: args.cli } : {}) });
  const timed = async (row: string, fn: () => Promise<{ seconds: number; note?: string }>, inn?: number): Promise<void> => {
    if (args.gap > 0) await new Promise((res) => setTimeout(res, args.gap));
    const c0 = await procCpuSeconds(server!.pid);
    const r = await fn();
    print({ row, seconds: r.seconds, cpu: (await procCpuSeconds(server!.pid)) - c0, ...(inn ? { inn } : {}), ...(r.note ? { note: r.note } : {}) });
  };
  try {
    server = await launch(1);
    let s = await openSession(server.port, corpus.group);
    const bodies = `UID FETCH ${lo}:${hi} (BODY.PEEK[])`;
    const check = (n: number): string => (n === hi - lo + 1 ? '' : `ONLY ${n} responses`);
    await timed('1,000 × BODY.PEEK[], first time', async () => {
      const r = await s.client.ok(bodies);
      return { seconds: r.seconds, note: `${(r.bytes / 1e6).toFixed(1)} MB ${check(r.responses)}` };
    }, inn1000);
    await timed('1,000 × BODY.PEEK[], again', async () => ({ seconds: median(await rounds(args.rounds, async () => (await s.client.ok(bodies)).seconds)) }), inn1000);
    s.client.close();
    await server.stop();
    server = await launch(2);
    s = await openSession(server.port, corpus.group);
    await timed('1,000 × BODY.PEEK[], after restart (on disk)', async () => ({ seconds: (await s.client.ok(bodies)).seconds }), inn1000);
    await timed('1,000 × BODY.PEEK[], after restart, again', async () => ({ seconds: median(await rounds(args.rounds, async () => (await s.client.ok(bodies)).seconds)) }), inn1000);
    await memoryLine(server, 'after the 1,000-body rows');
    if (L) {
      const partial = `UID FETCH ${L.number} (BODY.PEEK[2]<0.1024>)`;
      await timed('BODY.PEEK[2]<0.1024> of the large, first', async () => ({ seconds: (await s.client.ok(partial)).seconds }), innLarge);
      await timed('BODY.PEEK[2]<0.1024> of the large, again', async () => ({ seconds: median(await rounds(Math.max(args.rounds, 5), async () => (await s.client.ok(partial)).seconds)) }), innLarge);
      // the floor of one command round trip, for the row above
      await timed('  (UID FETCH of the large (FLAGS): one command, no bytes)', async () => ({ seconds: median(await rounds(Math.max(args.rounds, 5), async () => (await s.client.ok(`UID FETCH ${L.number} (FLAGS)`)).seconds)) }));
      await timed('BODY.PEEK[] of the whole large article', async () => {
        let bytes = 0;
        const xs = await rounds(args.rounds, async () => {
          const r = await s.client.ok(`UID FETCH ${L.number} (BODY.PEEK[])`);
          bytes = r.bytes;
          return r.seconds;
        });
        return { seconds: median(xs), note: `${(bytes / 1e6).toFixed(1)} MB, ${(bytes / 1e6 / median(xs)).toFixed(0)} MB/s` };
      }, innLarge);
    }
    s.client.close();
    await memoryLine(server, 'after all rows');
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  if (args.json) await writeFile(args.json, JSON.stringify({ inn1000, innLarge, lines }, null, 1));
}

main().catch((err: unknown) => {
  process.stderr.write(`bytes-rows failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
