/**
 * A private PostgreSQL server for tests, benchmarks and scripts: its own data
 * directory in a temp dir, its own loopback port and socket directory, one
 * database and one password role; nothing of the system cluster is used.
 *
 *   const pg = await startPostgres();           // installs Debian `postgresql` if missing
 *   pg.url                                      // postgres://newsfront:<pw>@127.0.0.1:<port>/newsfront
 *   const other = await pg.createDatabase();    // a fresh empty database, same role
 *   await pg.down();  await pg.up();            // an outage: pg_ctl stop -m fast, then start again (same port, data)
 *   await pg.stop();                            // pg_ctl stop -m fast, temp dir removed
 *
 * Steps: `ensurePostgresInstalled()` (apt when no /usr/lib/postgresql/<v>/bin/initdb),
 * `initdb` (UTF8, locale C, local socket trust, TCP scram-sha-256), `pg_ctl start`
 * on a free port (a new port is tried when the one picked was taken meanwhile),
 * then role and database are created over the private socket as the bootstrap
 * superuser. PostgreSQL refuses to run as root: when this process is root, the
 * server programs run as the `postgres` system user that the package creates
 * (the temp dir is owned by it); otherwise as the current user.
 *
 * Ownership: the caller stops what it started. A server still running when the
 * process exits is stopped there (`pg_ctl stop -m immediate`, synchronously) and
 * its directory removed. `NEWSFRONT_KEEP_PG=1` keeps the directory after `stop()`.
 *
 * Errors: `PostgresHarnessError` with a stable `code` and the failing command's
 * output tail (initdb output or the server log).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, readFileSync, rmSync } from 'node:fs';
import { access, chown, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './inn-tools.js';
import { AptInstallError, ensureAptPackages, spawnRunner, type CommandRunner, type OsIds, type RunResult } from './apt.js';

/** Where Debian's postgresql-<v> packages put the server programs. */
export const POSTGRES_LIB_DIR = '/usr/lib/postgresql';
/** Seconds pg_ctl waits for start-up or shutdown (a loaded 2-core machine is slow). */
const PG_CTL_WAIT_S = 120;
const START_ATTEMPTS = 3;
const OUTPUT_TAIL_CHARS = 20_000;

export type PostgresHarnessErrorCode = 'NOT_ROOT' | 'APT_FAILED' | 'STILL_MISSING' | 'NO_POSTGRES_USER' | 'INITDB_FAILED' | 'START_FAILED' | 'SETUP_FAILED';

export class PostgresHarnessError extends Error {
  readonly code: PostgresHarnessErrorCode;
  constructor(code: PostgresHarnessErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PostgresHarnessError';
    this.code = code;
  }
}

export type { CommandRunner, OsIds, RunResult };

/** The highest installed server version's bin directory (with initdb and pg_ctl), or undefined. */
export async function findPostgresBin(libDir: string = POSTGRES_LIB_DIR): Promise<{ binDir: string; version: string } | undefined> {
  let versions: string[];
  try {
    versions = (await readdir(libDir)).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    return undefined;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const binDir = join(libDir, version, 'bin');
    try {
      await access(join(binDir, 'initdb'), fsConstants.X_OK);
      await access(join(binDir, 'pg_ctl'), fsConstants.X_OK);
      return { binDir, version };
    } catch {
      // an incomplete version directory: try the next
    }
  }
  return undefined;
}

export interface EnsurePostgresOptions {
  /** Test seams. */
  libDir?: string;
  run?: CommandRunner;
  isRoot?: boolean;
}

/**
 * Installs Debian `postgresql` when no server programs are found:
 * `apt-get update` and `apt-get install -y --no-install-recommends postgresql`
 * (non-interactive, waiting for a dpkg lock held by a parallel install). The
 * package may create and start a system cluster `main` on port 5432; the
 * harness never uses it. Idempotent; needs root only when something is missing.
 */
export async function ensurePostgresInstalled(opts: EnsurePostgresOptions = {}): Promise<{ installed: boolean; binDir: string; version: string }> {
  const found = await findPostgresBin(opts.libDir);
  if (found !== undefined) return { installed: false, ...found };
  // The one apt installer of the suite (apt.ts); the server programs sit under a versioned directory.
  await ensureAptPackages([{ name: 'postgresql', provides: `${opts.libDir ?? POSTGRES_LIB_DIR}/<version>/bin/initdb` }], {
    installArgs: ['--no-install-recommends'],
    run: opts.run,
    isRoot: opts.isRoot,
    present: async () => (await findPostgresBin(opts.libDir)) !== undefined,
  });
  const after = await findPostgresBin(opts.libDir);
  if (after === undefined) throw new AptInstallError('STILL_MISSING', 'apt-get install postgresql succeeded but no initdb was found');
  return { installed: true, ...after };
}

/** uid/gid of the `postgres` system user (from /etc/passwd). */
export function postgresIds(passwd = '/etc/passwd'): OsIds {
  const line = readFileSync(passwd, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (line === undefined) throw new PostgresHarnessError('NO_POSTGRES_USER', `no "postgres" user in ${passwd} (is the postgresql package installed?)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export interface StartPostgresOptions {
  /** Database created for `url` (default `newsfront`). */
  database?: string;
  /** Login role that owns it (default `newsfront`); password authentication over TCP. */
  user?: string;
  /** Its password (default: 24 random hex characters). */
  password?: string;
  /**
   * false: fsync, synchronous_commit and full_page_writes off (faster tests, a
   * crash loses recent commits). Default true: PostgreSQL's durable defaults.
   */
  durable?: boolean;
  /** Extra server settings (`-c name=value`). */
  settings?: Record<string, string>;
}

export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** `postgres://user:password@127.0.0.1:port/database` */
  readonly url: string;
  /** The temp dir: `data/` (cluster), `sock/` (Unix socket), `server.log`. */
  readonly dir: string;
  readonly version: string;
  /** A fresh empty database owned by `user` (name generated when omitted); returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Drops a database made by `createDatabase`, closing its sessions first. */
  dropDatabase(name: string): Promise<void>;
  /** Runs SQL as the superuser over the private socket (e.g. to end another session). */
  admin<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /**
   * An outage: `pg_ctl stop -m <mode>` (default fast: sessions are ended at
   * once), keeping the data; `up()` starts it again with the same settings on
   * the same port. Throws START_FAILED with the command's output.
   */
  down(mode?: 'fast' | 'immediate'): Promise<void>;
  up(): Promise<void>;
  /** `pg_ctl stop -m fast`, then the temp dir is removed. Idempotent. */
  stop(): Promise<void>;
}

/** Servers alive in this process, stopped synchronously if it exits without stop(). */
const live = new Set<PrivateServer>();
let exitHookInstalled = false;

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  env['LC_ALL'] = 'C';
  return env;
}

const quote = (v: string): string => `'${v.replace(/'/g, "'\\''")}'`;

class PrivateServer implements PostgresServer {
  readonly host = '127.0.0.1' as const;
  readonly url: string;
  private stopped = false;
  private dbSeq = 0;

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly database: string,
    readonly user: string,
    readonly password: string,
    readonly version: string,
    private readonly binDir: string,
    private readonly ids: OsIds | undefined,
    /** The `-o` options the server was started with (port, socket dir, settings). */
    private readonly startOptions: string,
  ) {
    this.url = this.urlOf(database);
  }

  private urlOf(db: string): string {
    return `postgres://${encodeURIComponent(this.user)}:${encodeURIComponent(this.password)}@${this.host}:${this.port}/${encodeURIComponent(db)}`;
  }

  async admin<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    const client = new pg.Client({ host: join(this.dir, 'sock'), port: this.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      return await client.query<R>(sql, params);
    } finally {
      await client.end();
    }
  }

  async createDatabase(name?: string): Promise<string> {
    const db = name ?? `t${process.pid}_${++this.dbSeq}_${randomBytes(3).toString('hex')}`;
    const c = new pg.Client();
    await this.admin(`CREATE DATABASE ${c.escapeIdentifier(db)} OWNER ${c.escapeIdentifier(this.user)} ENCODING 'UTF8' TEMPLATE template0`);
    return this.urlOf(db);
  }

  async dropDatabase(name: string): Promise<void> {
    await this.admin(`DROP DATABASE IF EXISTS ${new pg.Client().escapeIdentifier(name)} WITH (FORCE)`);
  }

  /** @internal Created role and database (superuser over the socket). */
  async setup(): Promise<void> {
    const c = new pg.Client();
    await this.admin(`CREATE ROLE ${c.escapeIdentifier(this.user)} LOGIN PASSWORD ${c.escapeLiteral(this.password)}`);
    await this.createDatabase(this.database);
  }

  private pgCtl(args: string[]): Promise<RunResult> {
    return spawnRunner(join(this.binDir, 'pg_ctl'), ['-D', join(this.dir, 'data'), ...args], cleanEnv(), this.ids);
  }

  async down(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const r = await this.pgCtl(['stop', '-m', mode, '-w', '-t', String(PG_CTL_WAIT_S)]);
    if (r.code !== 0) throw new PostgresHarnessError('START_FAILED', `pg_ctl stop failed (exit ${r.code}): ${r.output}`);
  }

  async up(): Promise<void> {
    const log = join(this.dir, 'server.log');
    const r = await this.pgCtl(['-l', log, '-w', '-t', String(PG_CTL_WAIT_S), '-o', this.startOptions, 'start']);
    if (r.code !== 0) throw new PostgresHarnessError('START_FAILED', `pg_ctl start failed (exit ${r.code}): ${r.output}\nserver log:\n${await tail(log)}`);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    const r = await this.pgCtl(['stop', '-m', 'fast', '-w', '-t', String(PG_CTL_WAIT_S)]);
    if (r.code !== 0 && (await this.pidAlive())) await this.pgCtl(['stop', '-m', 'immediate', '-w', '-t', String(PG_CTL_WAIT_S)]);
    if (process.env['NEWSFRONT_KEEP_PG'] !== '1') await rm(this.dir, { recursive: true, force: true });
  }

  private async pidAlive(): Promise<boolean> {
    try {
      const pid = Number((await readFile(join(this.dir, 'data', 'postmaster.pid'), 'utf8')).split('\n')[0]);
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** @internal Last resort at process exit: synchronous, no waiting on promises. */
  emergencyStop(): void {
    if (this.stopped) return;
    this.stopped = true;
    spawnSync(join(this.binDir, 'pg_ctl'), ['-D', join(this.dir, 'data'), 'stop', '-m', 'immediate', '-w', '-t', '30'], {
      env: cleanEnv(),
      stdio: 'ignore',
      ...(this.ids ?? {}),
    });
    if (process.env['NEWSFRONT_KEEP_PG'] !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}

async function tail(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).slice(-OUTPUT_TAIL_CHARS);
  } catch {
    return '(no server log)';
  }
}

/** Starts a private PostgreSQL; see the file comment. The caller must `stop()` it. */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  const { binDir, version } = await ensurePostgresInstalled();
  const ids = process.getuid?.() === 0 ? postgresIds() : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'newsfront-pg-'));
  try {
    const sock = join(dir, 'sock');
    await mkdir(sock, { mode: 0o700 });
    if (ids) {
      await chown(dir, ids.uid, ids.gid);
      await chown(sock, ids.uid, ids.gid);
    }
    const env = cleanEnv();
    const init = await spawnRunner(
      join(binDir, 'initdb'),
      ['-D', join(dir, 'data'), '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync'],
      env,
      ids,
    );
    if (init.code !== 0) throw new PostgresHarnessError('INITDB_FAILED', `initdb failed (exit ${init.code}):\n${init.output}`);

    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: sock,
      shared_buffers: '32MB',
      max_connections: '100',
      ...(opts.durable === false ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {}),
      ...opts.settings,
    };
    const log = join(dir, 'server.log');
    let port = 0;
    let o = '';
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      o = Object.entries({ ...settings, port: String(port) })
        .map(([k, v]) => `-c ${k}=${quote(v)}`)
        .join(' ');
      const r = await spawnRunner(join(binDir, 'pg_ctl'), ['-D', join(dir, 'data'), '-l', log, '-w', '-t', String(PG_CTL_WAIT_S), '-o', o, 'start'], env, ids);
      if (r.code === 0) break;
      const text = await tail(log);
      if (attempt < START_ATTEMPTS && /could not bind|Address already in use/i.test(text)) continue;
      throw new PostgresHarnessError('START_FAILED', `pg_ctl start failed (exit ${r.code}): ${r.output}\nserver log:\n${text}`);
    }

    const server = new PrivateServer(
      dir,
      port,
      opts.database ?? 'newsfront',
      opts.user ?? 'newsfront',
      opts.password ?? randomBytes(12).toString('hex'),
      version,
      binDir,
      ids,
      o,
    );
    live.add(server);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const s of live) s.emergencyStop();
      });
    }
    try {
      await server.setup();
    } catch (err) {
      await server.stop();
      throw new PostgresHarnessError('SETUP_FAILED', `creating role and database failed: ${(err as Error).message}`, { cause: err });
    }
    return server;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
