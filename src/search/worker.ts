/**
 * The writer thread: owns the writing connection and an IndexWriter, and runs
 * the batches the main thread posts, one at a time, in order.
 *
 * Protocol (structured clone over the worker port):
 *   in:  { id, op: 'addHeaders' | 'addOverview' | 'addBodies' | 'setInReplyTo' | 'removeMembers' | 'dropMailbox' | 'close', args }
 *   out: { ready: true } once the database is open (schema migrated),
 *        { ready: false, code, message } when it cannot be opened,
 *        { id, ok: true, result } / { id, ok: false, code, message } per request.
 * After 'close' the connection is closed and the thread ends.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { compactHeap } from '../util/heap-compact.js';
import { openDb } from './db.js';
import { SearchIndexError } from './errors.js';
import { SortStoreRefresher } from './sort-store-refresh.js';
import { IndexWriter } from './writer.js';

export interface WorkerRequest {
  id: number;
  op: 'addHeaders' | 'addOverview' | 'addBodies' | 'setInReplyTo' | 'removeMembers' | 'dropMailbox' | 'close';
  args: unknown[];
}

export type WorkerReply =
  | { ready: true }
  | { ready: false; code: string; message: string }
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; code: string; message: string };

function errorReply(err: unknown): { code: string; message: string } {
  if (err instanceof SearchIndexError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { code: err.code, message: err.message + cause };
  }
  return { code: 'STORAGE', message: err instanceof Error ? err.message : String(err) };
}

/**
 * The writer thread's nice value: indexing is background work, so a SELECT's
 * ingest and the sessions (the main thread) and the upstream come first when
 * the CPUs are busy. Linux keeps nice per thread, so this lowers only this
 * thread; elsewhere it may lower the whole process or fail (then ignored).
 */
const WRITER_NICE = 10;

/** The mailboxes a request writes to (their stored SORT/THREAD answers may change). */
function touchedBy(req: WorkerRequest, touch: (mailbox: string, uidValidity: number) => void): void {
  if (req.op === 'addHeaders' || req.op === 'addOverview') {
    let last = '';
    for (const r of req.args[0] as { mailbox: string; uidValidity: number }[]) {
      const key = `${r.uidValidity}\0${r.mailbox}`;
      if (key !== last) touch(r.mailbox, r.uidValidity);
      last = key;
    }
  } else if (req.op === 'setInReplyTo' || req.op === 'removeMembers') touch(req.args[0] as string, req.args[1] as number);
}

/**
 * After this long without a request the writer gives back what it keeps for
 * speed while it works: SQLite's page cache (`PRAGMA shrink_memory`) and the
 * holes of its V8 heap (one compacting collection, heap-compact.ts). A crawl
 * or an ingest posts batches far more often, so this runs once when it ends
 * (issue 14: the writer thread held 35–50 MB after the bench's crawl).
 */
export const IDLE_SHRINK_MS = 5_000;

function run(): void {
  if (process.platform === 'linux') {
    try {
      setPriority(WRITER_NICE);
    } catch {
      // not allowed: the writer runs at the process's priority
    }
  }
  const port = parentPort!;
  const post = (m: WorkerReply): void => port.postMessage(m);
  let db: ReturnType<typeof openDb>;
  try {
    db = openDb((workerData as { path: string }).path);
  } catch (err) {
    post({ ready: false, ...errorReply(err) });
    return;
  }
  const writer = new IndexWriter(db);
  let idle: ReturnType<typeof setTimeout> | undefined;
  const shrink = (): void => {
    try {
      db.exec('PRAGMA shrink_memory');
    } catch {
      // closed meanwhile, or busy: nothing to give back now
    }
    compactHeap();
  };
  const rest = (): void => {
    clearTimeout(idle);
    (idle = setTimeout(shrink, IDLE_SHRINK_MS)).unref();
  };
  // whole-mailbox SORT/THREAD answers, computed once a mailbox's writes are quiet (sort-store.ts); the
  // writer gives back what that computation used too
  const store = new SortStoreRefresher(db, { onRefresh: rest });
  try {
    store.catchUp();
  } catch {
    // a cache: without it the first SORT/THREAD of those mailboxes derives its keys
  }
  port.on('message', (req: WorkerRequest) => {
    if (req.op !== 'close') rest();
    else clearTimeout(idle);
    try {
      let result: unknown;
      switch (req.op) {
        case 'addHeaders':
          result = writer.addHeaders(req.args[0] as Parameters<IndexWriter['addHeaders']>[0]);
          break;
        case 'addOverview':
          result = writer.addOverview(req.args[0] as Parameters<IndexWriter['addOverview']>[0]);
          break;
        case 'addBodies':
          result = writer.addBodies(req.args[0] as Parameters<IndexWriter['addBodies']>[0]);
          break;
        case 'setInReplyTo':
          result = writer.setInReplyTo(req.args[0] as string, req.args[1] as number, req.args[2] as { uid: number; value: string }[]);
          break;
        case 'removeMembers':
          result = writer.removeMembers(req.args[0] as string, req.args[1] as number, req.args[2] as number[]);
          break;
        case 'dropMailbox':
          writer.dropMailbox(req.args[0] as string, req.args[1] as number);
          break;
        case 'close':
          store.close();
          db.close();
          post({ id: req.id, ok: true, result: undefined });
          port.close();
          return;
      }
      post({ id: req.id, ok: true, result });
    } catch (err) {
      post({ id: req.id, ok: false, ...errorReply(err) });
    }
    // after the write: the refresher reads the version it left
    try {
      touchedBy(req, (mailbox, uidValidity) => store.touched(mailbox, uidValidity));
    } catch {
      // a cache: a mailbox not marked is computed at the next start (catchUp) or its next arrival
    }
  });
  post({ ready: true });
}

run();
