/**
 * The PostgreSQL a bench uses: the one given by `--url`, or a private server
 * from test/harness/postgres.ts (installed with apt when missing) with
 * PostgreSQL's durable defaults (fsync, synchronous_commit on) unless asked
 * otherwise. One helper for `npm run bench` (bench/run.ts), bench/pg-flags.ts,
 * bench/uidmap-pg.ts and bench/ops-scale.ts.
 *
 *   const pg = await benchPostgres({ url: args.url });   // throws if it cannot start
 *   pg.url; pg.label;                                     // "PostgreSQL 15, private, durable, loopback"
 *   await pg.stop();                                      // stops a private server; a --url one is left alone
 *
 * Ownership: the caller stops what this returns (`stop()` is idempotent); a
 * private server still running at process exit is stopped by the harness.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPostgres, type PostgresServer } from '../test/harness/postgres.js';

export interface BenchPostgres {
  /** postgres://… of the database to use. */
  readonly url: string;
  /** What it is, for the printed figures. */
  readonly label: string;
  /** The private server, when this helper started one. */
  readonly server?: PostgresServer;
  /**
   * CPU seconds (user + system) used so far by the private server: the
   * postmaster, its children alive now (backends, WAL writer, checkpointer…)
   * and those it has reaped. undefined with --url.
   */
  cpuSeconds(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export interface BenchPostgresOptions {
  /** Use this database instead of starting one (nothing in it is deleted). */
  url?: string;
  /** false: fsync and synchronous_commit off in the private server (default true). */
  durable?: boolean;
}

export async function benchPostgres(opts: BenchPostgresOptions = {}): Promise<BenchPostgres> {
  if (opts.url !== undefined) return { url: opts.url, label: 'PostgreSQL (--url)', cpuSeconds: async () => undefined, stop: async () => undefined };
  const durable = opts.durable ?? true;
  const server = await startPostgres({ durable });
  return {
    url: server.url,
    label: `PostgreSQL ${server.version}, private, ${durable ? 'durable' : 'fsync off'}, loopback`,
    server,
    cpuSeconds: () => treeCpuSeconds(join(server.dir, 'data', 'postmaster.pid')),
    stop: () => server.stop(),
  };
}

/** /proc/PID/stat: [ppid, own CPU, reaped children's CPU] in seconds (fields 4, 14+15, 16+17; USER_HZ = 100). */
async function statOf(pid: string): Promise<[number, number, number] | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(f[1]), (Number(f[11]) + Number(f[12])) / 100, (Number(f[13]) + Number(f[14])) / 100];
  } catch {
    return undefined; // gone meanwhile
  }
}

async function treeCpuSeconds(pidFile: string): Promise<number | undefined> {
  const root = Number((await readFile(pidFile, 'latin1').catch(() => '')).split('\n')[0]);
  if (!(root > 0)) return undefined;
  let sum = 0;
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = await statOf(name);
    if (!st) continue;
    if (Number(name) === root) sum += st[1] + st[2];
    else if (st[0] === root) sum += st[1];
  }
  return sum;
}

/**
 * `--url postgres://…` at `argv[i]`: the URL, or throws naming the flag.
 * Shared by the scripts' argument parsers.
 */
export function urlArg(argv: readonly string[], i: number): string {
  const v = argv[i + 1];
  if (v === undefined || !/^postgres(ql)?:\/\//i.test(v)) throw new Error(`${argv[i]} needs a postgres:// URL`);
  return v;
}

