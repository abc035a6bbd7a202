/**
 * FlagStore over the state agent's HTTP API v1 (docs/agent-api.md),
 * `persistent = true`. One instance per front-end process, shared by its
 * sessions; requests use the global `fetch` (undici keeps connections alive).
 *
 * Failures: an unreachable agent, a timeout (REMOTE_REQUEST_TIMEOUT_MS), a
 * 5xx/401/404 answer or an unreadable body reject with
 * `FlagStoreError('UNAVAILABLE')` — the IMAP layer answers NO [UNAVAILABLE],
 * never OK for a change the agent did not acknowledge. (A timeout after the
 * agent received a change cannot tell whether it was stored; the change is
 * then reported as not made, and a later read shows the truth.) 400 rejects
 * with INVALID, 403 with FORBIDDEN. Nothing needs reconnecting: each call is
 * a request of its own.
 *
 * `watch` opens one SSE feed per watched user (shared by its listeners) that
 * reconnects on its own with back-off and resumes with `Last-Event-ID`; if the
 * agent cannot replay the gap it says `resync` (and a reconnect with no event
 * id to resume from counts as one): listeners get a ChangeEvent with `resync`
 * set and ask `changedSince` what they missed (src/imap/session.ts).
 *
 * Views: the last view of each key is kept and refreshed with a delta (see
 * `view`), so a repeated SELECT/FETCH FLAGS costs one small request.
 *
 * The caller owns the store and must `close()` it (ends the feeds).
 */
import type { Logger } from '../../util/log.js';
import {
  FlagStoreError, type ChangeEvent, type FlagChange, type FlagKey, type FlagOp, type FlagStore,
  type FlagView, type UpdateOptions, type UpdateResult,
} from '../flagstore.js';
import { REMOTE_REQUEST_TIMEOUT_MS, REMOTE_VIEW_CACHE } from '../limits.js';
import { expandRuns, formatRuns, RangeSet } from '../../util/rangeset.js';
import { expandBounded, MailboxFlags, updateResult, type RunChange } from './mailbox-state.js';
import { ModseqMap } from '../modseq-map.js';
import { SseFeed } from './sse-client.js';
import { perUidEvent } from './watchers.js';
import { checkFlags, checkKey, checkMailbox, checkModseq, checkUids, checkUser, parseRanges } from '../validate.js';

export interface RemoteFlagStoreOptions {
  /** Base URL of the agent, e.g. `http://127.0.0.1:7143` (no `/v1`). */
  url: string;
  /** A `frontend` token (acts for any user) or a `user` token. */
  token: string;
  logger: Logger;
  timeoutMs?: number;
}

interface WireChange {
  uids: string;
  flags: string[];
  modseq: number;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Wire changes → run changes, ascending. Throws INVALID for malformed UID sets. */
function wireRuns(changes: readonly WireChange[]): RunChange[] {
  const out: RunChange[] = [];
  for (const c of changes) for (const [lo, hi] of parseRanges(c.uids)) out.push({ lo, hi, flags: c.flags, modseq: c.modseq });
  return out.sort((a, b) => a.lo - b.lo);
}

/** Wire changes → per-UID changes; INVALID beyond MAX_EXPANDED_UIDS. */
function expandWire(changes: readonly WireChange[]): FlagChange[] {
  return expandBounded(wireRuns(changes));
}

function isWireChanges(v: unknown): v is WireChange[] {
  return Array.isArray(v) && v.every((c) => isObj(c) && typeof c.uids === 'string' && Array.isArray(c.flags) && typeof c.modseq === 'number');
}

interface CachedView {
  lo: number;
  hi: number;
  mf: MailboxFlags;
}

interface Watched {
  feed: SseFeed;
  listeners: Set<(e: ChangeEvent) => void>;
}

export class RemoteFlagStore implements FlagStore {
  readonly persistent = true;
  private readonly base: string;
  private readonly auth: string;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly watched = new Map<string, Watched>();
  private readonly views = new Map<string, CachedView>();
  private closed = false;

  constructor(opts: RemoteFlagStoreOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.auth = `Bearer ${opts.token}`;
    this.log = opts.logger.child({ component: 'flagstore-remote' });
    this.timeoutMs = opts.timeoutMs ?? REMOTE_REQUEST_TIMEOUT_MS;
  }

  private keyPath(k: FlagKey): string {
    return `/v1/users/${enc(k.user)}/mailboxes/${enc(k.mailbox)}/${k.uidValidity}`;
  }

  /** One request; the parsed JSON answer of a 2xx, else the error mapping above. */
  private async call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    if (this.closed) throw new FlagStoreError('UNAVAILABLE', 'flag store is closed');
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: {
          authorization: this.auth,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new FlagStoreError('UNAVAILABLE', `state agent unreachable: ${(err as Error).message}`, { cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.ok) {
      if (!isObj(json)) throw new FlagStoreError('UNAVAILABLE', `state agent sent an unreadable answer to ${method} ${path}`);
      return json;
    }
    const msg = isObj(json) && isObj(json.error) && typeof json.error.message === 'string' ? json.error.message : `HTTP ${res.status}`;
    if (res.status === 400 || res.status === 413) throw new FlagStoreError('INVALID', `state agent: ${msg}`);
    if (res.status === 403) throw new FlagStoreError('FORBIDDEN', `state agent: ${msg}`);
    this.log.warn({ status: res.status, method, path: path.replace(/^\/v1\/users\/[^/]+/, '/v1/users/*') }, 'state agent refused a request');
    throw new FlagStoreError('UNAVAILABLE', `state agent: ${msg}`);
  }

  private bad(what: string): FlagStoreError {
    return new FlagStoreError('UNAVAILABLE', `state agent sent a malformed ${what}`);
  }

  /**
   * A view of [lo, hi]. The last view of each key (REMOTE_VIEW_CACHE keys) is
   * kept; a view inside its span costs one `changes?since=` request, whose
   * answer (usually empty) is applied to a copy — a SELECT or FETCH FLAGS of
   * a big mailbox does not move the whole mailbox's flags every time.
   */
  async view(key: FlagKey, lo: number, hi: number): Promise<FlagView> {
    checkKey(key);
    const ck = `${key.user}\0${key.mailbox}\0${key.uidValidity}`;
    const c = this.views.get(ck);
    if (c && c.lo <= lo && hi <= c.hi) {
      const j = await this.call('GET', `${this.keyPath(key)}/changes?since=${c.mf.highestModseq}`);
      if (!isWireChanges(j.changes) || typeof j.highestModseq !== 'number') throw this.bad('changes answer');
      if (j.highestModseq === c.mf.highestModseq && j.changes.length === 0) return this.keep(ck, c);
      if (j.highestModseq > c.mf.highestModseq) {
        const next = c.mf.clone();
        for (const ch of j.changes) {
          for (const [a0, b0] of parseRanges(ch.uids)) {
            const a = Math.max(a0, c.lo);
            const b = Math.min(b0, c.hi);
            if (a > b) continue;
            for (const set of next.byFlag.values()) set.remove(a, b);
            for (const f of ch.flags) {
              let set = next.byFlag.get(f);
              if (!set) next.byFlag.set(f, (set = new RangeSet()));
              set.add(a, b);
            }
            next.modseqs.set(a, b, ch.modseq);
          }
        }
        // flags in use anywhere in the mailbox (also outside the cached span)
        if (Array.isArray(j.keywords) && j.keywords.every((k) => typeof k === 'string')) {
          const inUse = new Set(j.keywords as string[]);
          for (const f of [...next.byFlag.keys()]) if (!inUse.has(f)) next.byFlag.delete(f);
          for (const f of inUse) if (!next.byFlag.has(f)) next.byFlag.set(f, new RangeSet());
        }
        next.highestModseq = j.highestModseq;
        return this.keep(ck, { lo: c.lo, hi: c.hi, mf: next });
      }
      // the agent went back in time (restored?): forget the copy
      this.views.delete(ck);
    }
    const mf = await this.fetchView(key, lo, hi);
    return this.keep(ck, { lo, hi, mf });
  }

  private keep(ck: string, v: CachedView): FlagView {
    this.views.delete(ck);
    this.views.set(ck, v);
    while (this.views.size > REMOTE_VIEW_CACHE) this.views.delete(this.views.keys().next().value!);
    return v.mf;
  }

  private async fetchView(key: FlagKey, lo: number, hi: number): Promise<MailboxFlags> {
    const q = `?lo=${Math.max(1, Math.floor(lo) || 1)}&hi=${Math.max(0, Math.floor(hi) || 0)}`;
    const j = await this.call('GET', `${this.keyPath(key)}/flags${q}`);
    if (typeof j.highestModseq !== 'number' || !isObj(j.flags) || !Array.isArray(j.modseqs)) throw this.bad('flags answer');
    const flat: number[] = [];
    for (const r of j.modseqs as unknown[]) {
      if (!Array.isArray(r) || r.length !== 3 || !r.every((x) => typeof x === 'number')) throw this.bad('modseq run');
      if (r[0] > r[1] || (flat.length > 0 && r[0] <= flat[flat.length - 2]!)) throw this.bad('modseq run');
      flat.push(r[0], r[1], r[2]);
    }
    const mf = new MailboxFlags(ModseqMap.fromFlat(flat));
    mf.highestModseq = j.highestModseq;
    try {
      for (const [flag, text] of Object.entries(j.flags)) {
        if (typeof text !== 'string') throw this.bad('flags answer');
        const set = new RangeSet();
        for (const [a, b] of parseRanges(text)) set.add(a, b);
        mf.byFlag.set(flag, set);
      }
    } catch (err) {
      if (err instanceof FlagStoreError && err.code === 'UNAVAILABLE') throw err;
      throw new FlagStoreError('UNAVAILABLE', 'state agent sent malformed ranges', { cause: err });
    }
    return mf;
  }

  async update(key: FlagKey, uids: readonly number[], op: FlagOp, flags: readonly string[], opts: UpdateOptions = {}): Promise<UpdateResult> {
    checkKey(key);
    const fl = checkFlags(flags);
    if (op !== 'add' && op !== 'remove' && op !== 'set') throw new FlagStoreError('INVALID', 'op must be add, remove or set');
    if (opts.unchangedSince !== undefined) checkModseq(opts.unchangedSince, 'unchangedSince');
    const runs = checkUids(uids);
    if (runs.length === 0) {
      const v = await this.view(key, 1, 0);
      return { modified: [], changes: [], modseq: v.highestModseq, highestModseq: v.highestModseq, bumped: false };
    }
    const j = await this.call('POST', `${this.keyPath(key)}/flags`, {
      uids: formatRuns(runs), op, flags: fl, ...(opts.unchangedSince === undefined ? {} : { unchangedSince: opts.unchangedSince }),
    });
    if (typeof j.modseq !== 'number' || typeof j.highestModseq !== 'number' || typeof j.modified !== 'string') throw this.bad('update answer');
    const modified = expandRuns(parseRanges(j.modified));
    // The answer lists the changed UIDs with their flags: one request per update.
    const changes = isWireChanges(j.changes) ? wireRuns(j.changes) : undefined;
    let n = 0;
    for (const c of changes ?? []) n += c.hi - c.lo + 1;
    if (!changes || n + modified.length !== uids.length) throw this.bad('update answer');
    // `bumped` is newer than the answer's other fields; an older agent bumped whenever it reached a UID
    const bumped = typeof j.bumped === 'boolean' ? j.bumped : n > 0;
    return updateResult(modified, changes, j.modseq, j.highestModseq, bumped);
  }

  async changedSince(key: FlagKey, modseq: number): Promise<FlagChange[]> {
    checkKey(key);
    checkModseq(modseq, 'modseq');
    const j = await this.call('GET', `${this.keyPath(key)}/changes?since=${modseq}`);
    if (!isWireChanges(j.changes)) throw this.bad('changes answer');
    return expandWire(j.changes);
  }

  watch(user: string, fn: (e: ChangeEvent) => void): () => void {
    checkUser(user);
    if (this.closed) return () => undefined;
    let w = this.watched.get(user);
    if (!w) {
      const listeners = new Set<(e: ChangeEvent) => void>();
      const feed = new SseFeed({
        url: `${this.base}/v1/users/${enc(user)}/events`,
        headers: { authorization: this.auth },
        logger: this.log,
        onMessage: (m) => this.dispatch(user, m.event, m.data, listeners),
        // A reconnect that cannot resume (no event seen before the drop) may have
        // missed changes made meanwhile, and the agent cannot tell: resync ourselves.
        onOpen: ({ again, lastId }) => {
          if (again && lastId === '') this.dispatch(user, 'resync', '{}', listeners);
        },
      });
      this.watched.set(user, (w = { feed, listeners }));
    }
    const entry = w;
    entry.listeners.add(fn);
    return () => {
      entry.listeners.delete(fn);
      if (entry.listeners.size === 0 && this.watched.get(user) === entry) {
        entry.feed.close();
        this.watched.delete(user);
      }
    };
  }

  /** Resolves when the feed of `user` is connected (for tests and start-up ordering). */
  async watching(user: string): Promise<void> {
    await this.watched.get(user)?.feed.whenOpen();
  }

  private dispatch(user: string, event: string, data: string, listeners: Set<(e: ChangeEvent) => void>): void {
    if (event === 'resync') {
      this.log.info({ user }, 'change feed lost events; sessions re-read what changed');
      const e: ChangeEvent = { key: { user, mailbox: '', uidValidity: 0 }, changes: [], highestModseq: 0, resync: true };
      for (const fn of listeners) {
        try {
          fn(e);
        } catch (err) {
          this.log.warn({ err }, 'flag change listener threw');
        }
      }
      return;
    }
    if (event !== 'change') return;
    let e: ChangeEvent;
    try {
      const j: unknown = JSON.parse(data);
      if (!isObj(j) || typeof j.mailbox !== 'string' || typeof j.uidValidity !== 'number'
        || typeof j.highestModseq !== 'number' || !isWireChanges(j.changes)) throw new Error('bad event');
      const runs = wireRuns(j.changes);
      e = perUidEvent({ key: { user, mailbox: j.mailbox, uidValidity: j.uidValidity }, changes: runs, highestModseq: j.highestModseq }, this.log);
      if (runs.some((r) => r.modseq !== runs[0]!.modseq)) delete e.modseq; // not one update's change
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'ignoring a malformed change event');
      return;
    }
    for (const fn of listeners) {
      try {
        fn(e);
      } catch (err) {
        this.log.warn({ err }, 'flag change listener threw');
      }
    }
  }

  async subscriptions(user: string): Promise<string[] | null> {
    checkUser(user);
    const j = await this.call('GET', `/v1/users/${enc(user)}/subscriptions`);
    if (j.mailboxes === null) return null;
    if (!Array.isArray(j.mailboxes) || !j.mailboxes.every((m) => typeof m === 'string')) throw this.bad('subscriptions answer');
    return j.mailboxes as string[];
  }

  async setSubscribed(user: string, mailbox: string, subscribed: boolean): Promise<void> {
    checkUser(user);
    checkMailbox(mailbox);
    await this.call(subscribed ? 'PUT' : 'DELETE', `/v1/users/${enc(user)}/subscriptions/${enc(mailbox)}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.views.clear();
    for (const w of this.watched.values()) w.feed.close();
    this.watched.clear();
  }
}
