/**
 * The flag-store part of `npm run bench` (bench/run.ts), after the
 * session-only rows: a private PostgreSQL (bench/pg.ts), then
 *
 *   - "State (durable flags)": one front-end per mode — `--state local`
 *     (LMDB), `--state postgres://…`, `--state http://agent` — each row of
 *     bench/state-rows.ts printed for the three modes one under the other;
 *   - "Many front-ends": bench/scale-rows.ts, front-ends sharing nothing but
 *     PostgreSQL (flags and UID maps).
 *
 * When PostgreSQL cannot start (no apt, no network, …) its rows say
 * `n/a: <reason>` and the run goes on. Everything started here is stopped
 * here (PostgreSQL also by `cleanup` on a signal).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { benchPostgres, type BenchPostgres } from './pg.js';
import type { Row } from './report.js';
import { scaleRows } from './scale-rows.js';
import { startAgent, type ServerOptions, type ServerProcess } from './server.js';
import { benchUsers, stateSection, type StateMode } from './state-rows.js';

/** What `launch` may set besides the state mode. */
export type LaunchExtra = Partial<Pick<ServerOptions, 'users' | 'stateToken' | 'dataDir' | 'uidmap' | 'config'>>;

export interface FlagSectionsInput {
  /** The run's data dir (warm: the group was listed already). */
  dataDir: string;
  mailbox: string;
  count: number;
  rounds: number;
  quick: boolean;
  /** The large article's number (kept out of the load). */
  skipSeq?: number;
  /** Starts a newsfront child over the run's INN (registered for cleanup). */
  launch: (state: string, extra?: LaunchExtra) => Promise<ServerProcess>;
  stopServer: (s: ServerProcess) => Promise<void>;
  cleanup: { add(name: string, fn: () => Promise<void>): void };
  add: (row: Row) => void;
  log: (m: string) => void;
  /** Run one part only (bench/pg-rows.ts); default both. */
  only?: 'state' | 'scale';
  /** false: the private PostgreSQL with fsync off (to tell flush waits from the rest). */
  durable?: boolean;
}

const reason = (err: unknown): string => `n/a: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}`;

export async function flagSections(input: FlagSectionsInput): Promise<void> {
  const { dataDir, launch, stopServer, log } = input;
  const users = join(dataDir, 'bench-users');
  await writeFile(users, benchUsers());
  let pg: BenchPostgres | Error;
  try {
    log('postgres: starting a private server');
    pg = await benchPostgres({ durable: input.durable ?? true });
    const p = pg;
    input.cleanup.add('postgres', () => p.stop());
    log(`postgres: ${pg.label}`);
  } catch (err) {
    pg = err as Error;
    log(`postgres did not start; its rows are n/a:\n${pg.message}`);
  }
  try {
    const serve = async (state: string, extra: LaunchExtra = {}): Promise<{ port: number; pid: number; stop(): Promise<void> }> => {
      const s = await launch(state, { users, ...extra });
      return { port: s.port, pid: s.pid, stop: () => stopServer(s) };
    };
    const modes: StateMode[] = [
      { name: 'local (LMDB)', start: () => serve('local') },
      pg instanceof Error
        ? { name: 'PostgreSQL', start: () => Promise.reject(pg) }
        : { name: 'PostgreSQL', start: () => serve((pg as BenchPostgres).url), storeCpu: () => (pg as BenchPostgres).cpuSeconds() },
      {
        name: 'remote agent (HTTP)',
        start: async () => {
          const agent = await startAgent(join(dataDir, 'agent'), input.cleanup, log);
          try {
            const s = await serve(agent.url, { stateToken: agent.token });
            return { ...s, stop: async () => { await s.stop(); await agent.stop(); } };
          } catch (err) {
            await agent.stop();
            throw err;
          }
        },
      },
    ];
    if (input.only !== 'scale') await stateSection(modes, { mailbox: input.mailbox, count: input.count, rounds: input.rounds, quick: input.quick }, input.add, log);

    if (input.only === 'state') return;
    if (pg instanceof Error) {
      input.add({ section: 'Many front-ends (PostgreSQL flags and UID maps, one INN)', operation: 'front-ends on PostgreSQL', unit: 'cmd/s', value: reason(pg) });
      return;
    }
    const url = pg.url;
    // each front-end its own data dir (caches); the search index off (see scale-rows.ts)
    const config = { index: { enabled: false } };
    await scaleRows(
      {
        mailbox: input.mailbox, count: input.count, quick: input.quick, pg, log, stop: stopServer,
        ...(input.skipSeq !== undefined ? { skipSeq: input.skipSeq } : {}),
        launch: async (i) => {
          const dir = join(dataDir, `frontend-${i + 1}`);
          await mkdir(dir, { recursive: true });
          return launch(url, { users, dataDir: dir, uidmap: url, config });
        },
      },
      input.add,
    );
  } finally {
    if (!(pg instanceof Error)) await pg.stop();
  }
}
