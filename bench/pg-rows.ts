/**
 * Development aid (not part of `npm run bench`): only the durable-flag rows
 * (local / PostgreSQL / agent) and the many-front-end rows of `npm run bench`
 * (bench/flag-sections.ts), against the INN of `bench/hold-inn.ts`, printed
 * as the bench's table. For measuring those rows while changing code.
 *
 *   npm run build && node dist/bench/pg-rows.js --port P [--quick] [--rounds N] [--only state|scale] [--fsync-off] [--log-dir DIR]
 *
 * `--fsync-off` starts PostgreSQL with fsync and synchronous_commit off (not
 * what the bench measures: to see how much of a figure is flush waiting).
 * Starts and stops its own PostgreSQL, newsfront children (by PID) and temp
 * data dir, also on failure or Ctrl-C.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusOptions, prepareCorpus } from './corpus.js';
import { flagSections, type LaunchExtra } from './flag-sections.js';
import { renderTable, type Row } from './report.js';
import { freePort, startServer, type ServerProcess } from './server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Args {
  port: number;
  quick: boolean;
  rounds: number;
  only?: 'state' | 'scale';
  durable: boolean;
  logDir?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { port: 0, quick: false, rounds: 3, durable: true };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--port') a.port = Number(argv[++i]);
    else if (v === '--quick') a.quick = true;
    else if (v === '--rounds') a.rounds = Math.max(1, Number(argv[++i]) || 3);
    else if (v === '--only') {
      const o = argv[++i];
      if (o !== 'state' && o !== 'scale') throw new Error('--only state|scale');
      a.only = o;
    } else if (v === '--fsync-off') a.durable = false;
    else if (v === '--log-dir') a.logDir = resolve(argv[++i]!);
    else throw new Error(`unknown argument ${v}`);
  }
  if (!(a.port > 0)) throw new Error('--port P (of a running bench/hold-inn.ts) is required');
  return a;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (m: string): void => void process.stderr.write(`[pg-rows +${(performance.now() / 1000).toFixed(1)}s] ${m}\n`);
  const corpus = await prepareCorpus(join(ROOT, '.bench'), corpusOptions(args.quick), log);
  const dataDir = await mkdtemp(join(tmpdir(), 'nf-pgrows-'));
  const servers = new Set<ServerProcess>();
  const undo: Array<() => Promise<void>> = [];
  let n = 0;
  const launch = async (state: string, extra: LaunchExtra = {}): Promise<ServerProcess> => {
    const s = await startServer({ upstreamPort: args.port, dataDir, listenPort: await freePort(), logPath: join(args.logDir ?? dataDir, `server${++n}.log`), state, ...extra });
    servers.add(s);
    return s;
  };
  const stopServer = async (s: ServerProcess): Promise<void> => {
    await s.stop();
    servers.delete(s);
  };
  const cleanup = async (): Promise<void> => {
    for (const s of servers) await s.stop().catch(() => undefined);
    for (const fn of undo.reverse()) await fn().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  const rows: Row[] = [];
  try {
    await flagSections({
      dataDir, mailbox: corpus.group, count: corpus.messageIds.length, rounds: args.rounds, quick: args.quick,
      ...(corpus.large ? { skipSeq: corpus.large.number } : {}),
      launch, stopServer, cleanup: { add: (_name, fn) => undo.push(fn) }, add: (r) => rows.push(r), log,
      ...(args.only ? { only: args.only } : {}), durable: args.durable,
    });
  } finally {
    await cleanup();
  }
  process.stdout.write(`${renderTable(rows)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`pg-rows failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
