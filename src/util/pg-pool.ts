/**
 * One rule for every PostgreSQL connection pool of newsfront (flag store, UID
 * map, migrations): a connection the server ends is never an uncaught
 * exception.
 *
 * pg-pool listens for 'error' only on its idle clients (it emits them as the
 * pool's 'error') and removes that listener when it hands a client out. A
 * checked-out client whose connection the server ends between two statements
 * — a transaction's caller computing its next statement when `pg_ctl stop -m
 * fast` ends every session with "terminating connection due to administrator
 * command" — emits 'error' with nobody listening, and Node ends the process.
 * `guardPool` gives every client the pool creates a listener for its whole
 * life. The failure still reaches the caller: the client is no longer
 * queryable, so its next statement rejects, and the pool drops it on release.
 */
import type pg from 'pg';
import type { Logger } from './log.js';

/** Adds the listener (above) to every client `pool` creates; returns `pool`. */
export function guardPool(pool: pg.Pool, logger: Logger, what: string): pg.Pool {
  pool.on('connect', (client) => {
    client.on('error', (err: Error) => logger.debug({ err: err.message, what }, 'database connection ended under a client in use'));
  });
  return pool;
}
