/**
 * The Server-Sent Events change feed, `GET /v1/users/:user/events`
 * (WHATWG HTML §9.2). One event per committed change:
 *
 *     id: lq3k1x-42
 *     event: change
 *     data: {"mailbox":"comp.lang.misc","uidValidity":1700000000,"highestModseq":9,
 *            "changes":[{"uids":"1-5","flags":["\\Seen"],"modseq":9}]}
 *
 * Ids are `<boot>-<seq>`: a reconnecting client sends `Last-Event-ID` and gets
 * the events it missed from a per-user ring of the last SSE_REPLAY_EVENTS; if
 * they are gone (or the agent restarted) it gets `event: resync` and must
 * re-read the mailboxes it cares about (CHANGEDSINCE its last modseq). The
 * agent sends `event: resync` itself (with an id) when one operation changed
 * too many mailboxes to tell one by one (a big `.newsrc` import).
 * A comment line every SSE_HEARTBEAT_MS keeps idle connections open.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../util/log.js';
import { formatRuns } from '../../util/rangeset.js';
import type { RunChangeEvent } from '../stores/watchers.js';
import type { AgentStore } from './store.js';
import type { RunChange } from '../stores/mailbox-state.js';
import { MAX_FEEDS_PER_USER, SSE_HEARTBEAT_MS, SSE_REPLAY_EVENTS } from '../limits.js';
import { HttpError } from './http.js';

interface Stored {
  seq: number;
  data: string;
  /** SSE event name; `change` when absent. */
  event?: string;
}

/** One run of changes on the wire: UIDs as `.newsrc` text, their flags and modseq. */
export interface WireChange {
  uids: string;
  flags: string[];
  modseq: number;
}

/** Run changes → wire form (the SSE event, `/changes` and the update answer share it). */
export function wireChanges(changes: readonly RunChange[]): WireChange[] {
  return changes.map((c) => ({ uids: formatRuns([[c.lo, c.hi]]), flags: c.flags, modseq: c.modseq }));
}

/** The JSON of one change event (also what the remote client parses). */
export interface WireChangeEvent {
  mailbox: string;
  uidValidity: number;
  highestModseq: number;
  changes: WireChange[];
}

export function wireEvent(e: RunChangeEvent): WireChangeEvent {
  return { mailbox: e.key.mailbox, uidValidity: e.key.uidValidity, highestModseq: e.highestModseq, changes: wireChanges(e.changes) };
}

export class Feeds {
  private readonly boot = Date.now().toString(36);
  private seq = 0;
  private readonly rings = new Map<string, Stored[]>();
  private readonly open = new Map<string, Set<ServerResponse>>();
  private readonly unwatch = new Map<string, () => void>();

  constructor(private readonly store: AgentStore, private readonly log: Logger) {}

  /** Serve one feed until the client goes away or `closeAll`. Throws HttpError 429 over the limit. */
  serve(user: string, req: IncomingMessage, res: ServerResponse): void {
    let set = this.open.get(user);
    if (set && set.size >= MAX_FEEDS_PER_USER) throw new HttpError(429, 'TOO_MANY_FEEDS', `at most ${MAX_FEEDS_PER_USER} feeds per user`);
    if (!set) this.open.set(user, (set = new Set()));
    this.ensureWatch(user);
    set.add(res);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': newsfront state agent feed\nretry: 1000\n\n');
    this.replay(user, req.headers['last-event-id'], res);
    const ping = setInterval(() => res.write(': ping\n\n'), SSE_HEARTBEAT_MS);
    ping.unref();
    const done = (): void => {
      clearInterval(ping);
      const s = this.open.get(user);
      s?.delete(res);
      // keep the watch (and the ring) so a reconnect can resume; both are small
    };
    res.on('close', done);
    req.on('error', done);
  }

  private ensureWatch(user: string): void {
    if (this.unwatch.has(user)) return;
    this.unwatch.set(user, this.store.watchRuns(user, (e) => this.publish(user, e)));
  }

  private publish(user: string, e: RunChangeEvent): void {
    if (e.resync) {
      // Events before a resync need no replay: the ring restarts with it, so a
      // reconnect from just before it gets it, from it or later resumes, older resyncs.
      const item: Stored = { seq: ++this.seq, data: '{}', event: 'resync' };
      this.rings.set(user, [item]);
      for (const res of this.open.get(user) ?? []) this.send(res, item);
      return;
    }
    const item = { seq: ++this.seq, data: JSON.stringify(wireEvent(e)) };
    let ring = this.rings.get(user);
    if (!ring) this.rings.set(user, (ring = []));
    ring.push(item);
    if (ring.length > SSE_REPLAY_EVENTS) ring.shift();
    for (const res of this.open.get(user) ?? []) this.send(res, item);
  }

  private send(res: ServerResponse, item: Stored): void {
    res.write(`id: ${this.boot}-${item.seq}\nevent: ${item.event ?? 'change'}\ndata: ${item.data}\n\n`);
  }

  private replay(user: string, lastId: string | string[] | undefined, res: ServerResponse): void {
    if (typeof lastId !== 'string' || lastId === '') return;
    const m = /^([0-9a-z]+)-(\d+)$/.exec(lastId);
    const ring = this.rings.get(user) ?? [];
    const last = m ? Number(m[2]) : NaN;
    const oldest = ring[0]?.seq ?? this.seq + 1;
    // resumable: same boot, and every event after `last` is still in the ring
    if (m && m[1] === this.boot && last <= this.seq && last + 1 >= oldest) {
      for (const item of ring) if (item.seq > last) this.send(res, item);
      return;
    }
    this.log.debug({ user, lastId }, 'feed cannot resume; asking client to resync');
    res.write('event: resync\ndata: {}\n\n');
  }

  /** End every feed (agent shutdown). */
  closeAll(): void {
    for (const set of this.open.values()) for (const res of set) res.end();
    this.open.clear();
    for (const u of this.unwatch.values()) u();
    this.unwatch.clear();
  }
}
