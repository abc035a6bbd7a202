/**
 * One private PostgreSQL (test/harness/postgres.ts) for a whole vitest file:
 * started before the file's first test, stopped after its last.
 *
 *   const pg = postgresForFile();            // at the top level of a test file
 *   it('…', async () => { const url = await pg.server.createDatabase(); … });
 *
 * Defaults to `durable: false` (no fsync): tests measure behaviour, not
 * crash durability of PostgreSQL itself. Reading `server` before the file's
 * `beforeAll` ran throws, naming the mistake.
 */
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PostgresServer, type StartPostgresOptions } from './postgres.js';

/** Start-up may install the Debian package and run initdb on a loaded machine. */
const START_TIMEOUT_MS = 600_000;

export interface PostgresSuite {
  /** The running server (valid inside tests and hooks of the file). */
  readonly server: PostgresServer;
}

export function postgresForFile(options: StartPostgresOptions = { durable: false }): PostgresSuite {
  let running: PostgresServer | undefined;
  beforeAll(async () => {
    running = await startPostgres(options);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await running?.stop();
    running = undefined;
  });
  return {
    get server(): PostgresServer {
      if (!running) throw new Error('postgresForFile: the server is read outside the tests of the file that started it');
      return running;
    },
  };
}
