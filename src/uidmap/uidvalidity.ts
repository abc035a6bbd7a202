/**
 * UIDVALIDITY for a new mailbox map: `max(unix seconds now, last + 1)`, where
 * `last` is the highest UIDVALIDITY this store ever handed out (RFC 9051
 * §2.3.1.1: a new map must get a value greater than any earlier one, so a
 * client never mistakes new UIDs for old ones).
 *
 * `last` is kept in two places: inside the store (the LMDB `store` database)
 * and in a tiny side file next to the LMDB file (`<path>.uidvalidity`), which
 * survives deleting the LMDB files themselves. If the whole directory is
 * deleted, only the clock remains: a recreated map then gets "now", which is
 * different from every earlier value unless the earlier maps were created less
 * than (number of maps created) seconds ago. That is the documented limit.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../util/log.js';
import { UidMapError } from './errors.js';
import { MAX_UID_VALIDITY } from './limits.js';

/** Unix time in whole seconds; stores take a clock so tests can move it. */
export type Clock = () => number;
export const systemClock: Clock = () => Math.floor(Date.now() / 1000);

/** Throws `UIDVALIDITY_EXHAUSTED` when the result would not fit in 32 bits. */
export function nextUidValidity(nowSeconds: number, last: number): number {
  const v = Math.max(Math.floor(nowSeconds), last + 1, 1);
  if (v > MAX_UID_VALIDITY) {
    throw new UidMapError('UIDVALIDITY_EXHAUSTED', `no UIDVALIDITY left: last was ${last}`);
  }
  return v;
}

/** Reads the side file; a missing or unreadable file counts as 0 (logged when corrupt). */
export function readSideFile(file: string, logger: Logger): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    logger.warn({ err, file }, 'cannot read UIDVALIDITY side file; relying on the store and the clock');
    return 0;
  }
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 0 || n > MAX_UID_VALIDITY) {
    logger.warn({ file }, 'UIDVALIDITY side file is corrupt; relying on the store and the clock');
    return 0;
  }
  return n;
}

/**
 * Durably replaces the side file with `value` (write temp, fsync, rename).
 * Callers hold the store's write lock, so processes do not race on it.
 */
export function writeSideFile(file: string, value: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, `${value}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  // Make the rename itself durable.
  const dirFd = openSync(dirname(file), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
