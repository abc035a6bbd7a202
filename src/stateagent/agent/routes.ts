/**
 * The state agent's HTTP/JSON API, version 1 (documented for third parties in
 * docs/agent-api.md). Every route but `/v1/health` needs a bearer token that
 * may act for the user in the path (auth.ts). Path segments are
 * percent-decoded one by one, so a mailbox name may contain `/` as `%2F`.
 *
 *     GET    /v1/health
 *     GET    /v1/users/:user/mailboxes
 *     GET    /v1/users/:user/mailboxes/:mailbox/:uidvalidity/flags?lo=&hi=
 *     POST   /v1/users/:user/mailboxes/:mailbox/:uidvalidity/flags
 *     GET    /v1/users/:user/mailboxes/:mailbox/:uidvalidity/changes?since=
 *     GET    /v1/users/:user/events                      (SSE, feed.ts)
 *     GET    /v1/users/:user/subscriptions
 *     PUT    /v1/users/:user/subscriptions
 *     PUT    /v1/users/:user/subscriptions/:mailbox
 *     DELETE /v1/users/:user/subscriptions/:mailbox
 *     GET    /v1/users/:user/newsrc
 *     PUT    /v1/users/:user/newsrc[?uidvalidity=N]
 *
 * Status codes: 400 bad input, 401 no/unknown token, 403 token may not act for
 * the user, 404 unknown route, 405 wrong method (with Allow), 413 body over
 * MAX_BODY_BYTES (MAX_NEWSRC_BYTES for an import), 429 too many feeds, 503 storage unavailable. A write is
 * answered 200 only after it is durable.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Logger } from '../../util/log.js';
import { FlagStoreError, type FlagKey } from '../flagstore.js';
import type { AgentStore } from './store.js';
import { exportNewsrc, importNewsrc, parseNewsrcYielding, type ImportGate } from './newsrc-import.js';
import { formatRuns } from '../../util/rangeset.js';
import { checkMailbox, checkModseq, checkUidValidity, checkUser, parseRanges } from '../validate.js';
import { MAX_NEWSRC_BYTES, MAX_UID } from '../limits.js';
import { mayActFor, type Grant, type Tokens } from './auth.js';
import { wireChanges, type Feeds } from './feed.js';
import { HttpError, isJson, parseJson, readBody, sendJson, sendText } from './http.js';

export interface ApiContext {
  store: AgentStore;
  tokens: Tokens;
  feeds: Feeds;
  /** `.newsrc` imports running and waiting (newsrc-import.ts). */
  imports: ImportGate;
  log: Logger;
}

type Handler = (c: ApiContext, req: IncomingMessage, res: ServerResponse, p: string[], q: URLSearchParams) => Promise<void> | void;

interface Route {
  /** Segments after `/v1`; `:x` matches any one segment. */
  pattern: string[];
  methods: Partial<Record<string, Handler>>;
}

const UpdateBody = z.object({
  uids: z.string().max(4_000_000),
  op: z.enum(['add', 'remove', 'set']),
  flags: z.array(z.string()).max(64),
  unchangedSince: z.number().int().nonnegative().optional(),
});

const SubscriptionsBody = z.object({ mailboxes: z.array(z.string()).nullable() });

/** `uidvalidity` is checked by `uidValidityMap` (a zod record would drop a `__proto__` group). */
const NewsrcJsonBody = z.object({
  newsrc: z.string(),
  uidvalidity: z.unknown().optional(),
});

/**
 * The JSON import's `{group: uidvalidity}` object as a Map, read from the
 * parsed JSON's own properties, so any group name (`toString`, `__proto__`)
 * is a key like any other. Throws HttpError 400 naming the bad entry.
 */
function uidValidityMap(v: unknown): Map<string, number> {
  const map = new Map<string, number>();
  if (v === undefined) return map;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new HttpError(400, 'BAD_REQUEST', 'invalid body at uidvalidity: expected an object of group: UIDVALIDITY');
  }
  for (const [group, n] of Object.entries(v)) {
    try {
      map.set(checkMailbox(group), checkUidValidity(n));
    } catch (err) {
      throw new HttpError(400, 'BAD_REQUEST', `invalid body at uidvalidity.${group.slice(0, 80)}: ${(err as Error).message}`);
    }
  }
  return map;
}

function keyOf(p: string[]): FlagKey {
  const v = Number(p[2]);
  return { user: p[0]!, mailbox: checkMailbox(p[1]), uidValidity: checkUidValidity(/^\d{1,10}$/.test(p[2]!) ? v : NaN) };
}

function intParam(q: URLSearchParams, name: string, dflt: number): number {
  const s = q.get(name);
  if (s === null || s === '') return dflt;
  if (!/^\d{1,16}$/.test(s)) throw new HttpError(400, 'BAD_REQUEST', `${name} must be a non-negative integer`);
  return Number(s);
}

const getFlags: Handler = async (c, _req, res, p, q) => {
  const key = keyOf(p);
  const lo = Math.max(1, intParam(q, 'lo', 1));
  const hi = Math.min(MAX_UID, intParam(q, 'hi', MAX_UID));
  const mf = await c.store.flagsOf(key);
  // no prototype: a keyword may be named `__proto__` or `constructor`
  const flags: Record<string, string> = Object.create(null);
  for (const [flag, set] of mf.byFlag) flags[flag] = formatRuns(set.rangesIn(lo, hi));
  sendJson(res, 200, { highestModseq: mf.highestModseq, flags, modseqs: mf.modseqs.runsIn(lo, hi) });
};

const postFlags: Handler = async (c, req, res, p) => {
  const key = keyOf(p);
  const body = parseJson(await readBody(req), UpdateBody);
  const runs = parseRanges(body.uids);
  if (runs.length === 0) throw new HttpError(400, 'BAD_REQUEST', 'uids is empty');
  const r = await c.store.updateRuns(key, runs, body.op, body.flags, body.unchangedSince);
  sendJson(res, 200, {
    modseq: r.modseq, highestModseq: r.highestModseq, bumped: r.bumped, modified: formatRuns(r.modified), changes: wireChanges(r.changes),
  });
};

const getChanges: Handler = async (c, _req, res, p, q) => {
  const key = keyOf(p);
  const since = checkModseq(intParam(q, 'since', 0), 'since');
  const r = await c.store.changesRuns(key, since);
  sendJson(res, 200, {
    highestModseq: r.highestModseq,
    keywords: r.keywords,
    changes: wireChanges(r.changes),
  });
};

const listMailboxes: Handler = async (c, _req, res, p) => {
  sendJson(res, 200, { mailboxes: await c.store.keysOf(p[0]!) });
};

const getSubscriptions: Handler = async (c, _req, res, p) => {
  sendJson(res, 200, { mailboxes: await c.store.subscriptions(p[0]!) });
};

const putSubscriptions: Handler = async (c, req, res, p) => {
  const body = parseJson(await readBody(req), SubscriptionsBody);
  await c.store.setSubscriptions(p[0]!, body.mailboxes);
  sendJson(res, 200, { mailboxes: await c.store.subscriptions(p[0]!) });
};

const subscribe = (on: boolean): Handler => async (c, _req, res, p) => {
  await c.store.setSubscribed(p[0]!, checkMailbox(p[1]), on);
  sendJson(res, 200, { mailbox: p[1], subscribed: on });
};

const getNewsrc: Handler = async (c, _req, res, p) => {
  sendText(res, 200, await exportNewsrc(c.store, p[0]!));
};

/**
 * Import a `.newsrc` (newsrc-import.ts): \Seen of each group becomes exactly
 * its read ranges; `:` groups are subscribed, `!` groups unsubscribed, other
 * subscriptions stay. UIDVALIDITY per group: the JSON `uidvalidity` map, else
 * the `?uidvalidity=` parameter, else the latest one the agent knows for the
 * mailbox; a group with none is skipped and listed in `skipped`. The body may
 * be up to MAX_NEWSRC_BYTES.
 */
const putNewsrc: Handler = async (c, req, res, p, q) => {
  const user = p[0]!;
  const all = q.has('uidvalidity') ? checkUidValidity(intParam(q, 'uidvalidity', 0)) : undefined;
  const result = await c.imports.run(async () => {
    const text = await readBody(req, MAX_NEWSRC_BYTES);
    let newsrc: string;
    let map = new Map<string, number>();
    if (isJson(req)) {
      const b = parseJson(text, NewsrcJsonBody);
      newsrc = b.newsrc;
      map = uidValidityMap(b.uidvalidity);
    } else newsrc = text;
    return importNewsrc(c.store, user, await parseNewsrcYielding(newsrc), map, all);
  });
  sendJson(res, 200, result);
};

const events: Handler = (c, req, res, p) => {
  c.feeds.serve(p[0]!, req, res);
};

const ROUTES: Route[] = [
  { pattern: ['users', ':u', 'mailboxes'], methods: { GET: listMailboxes } },
  { pattern: ['users', ':u', 'mailboxes', ':m', ':v', 'flags'], methods: { GET: getFlags, POST: postFlags } },
  { pattern: ['users', ':u', 'mailboxes', ':m', ':v', 'changes'], methods: { GET: getChanges } },
  { pattern: ['users', ':u', 'events'], methods: { GET: events } },
  { pattern: ['users', ':u', 'subscriptions'], methods: { GET: getSubscriptions, PUT: putSubscriptions } },
  { pattern: ['users', ':u', 'subscriptions', ':m'], methods: { PUT: subscribe(true), DELETE: subscribe(false) } },
  { pattern: ['users', ':u', 'newsrc'], methods: { GET: getNewsrc, PUT: putNewsrc } },
];

function match(segs: string[]): { route: Route; params: string[] } | undefined {
  for (const route of ROUTES) {
    if (route.pattern.length !== segs.length) continue;
    const params: string[] = [];
    let ok = true;
    for (let i = 0; i < segs.length && ok; i++) {
      const want = route.pattern[i]!;
      if (want.startsWith(':')) params.push(segs[i]!);
      else ok = want === segs[i];
    }
    if (ok) return { route, params };
  }
  return undefined;
}

function statusOf(err: FlagStoreError): HttpError {
  switch (err.code) {
    case 'INVALID':
      return new HttpError(400, 'INVALID', err.message);
    case 'FORBIDDEN':
      return new HttpError(403, 'FORBIDDEN', err.message);
    default:
      return new HttpError(503, 'UNAVAILABLE', err.message, { 'retry-after': '1' });
  }
}

/**
 * Answer one request. Throws HttpError for every expected failure; anything
 * else is a bug the server logs and answers 500.
 */
export async function route(c: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<{ grant?: Grant }> {
  const url = req.url ?? '/';
  const qi = url.indexOf('?');
  const path = qi < 0 ? url : url.slice(0, qi);
  const q = new URLSearchParams(qi < 0 ? '' : url.slice(qi + 1));
  const raw = path.split('/');
  if (raw[0] !== '' || raw[1] !== 'v1') throw new HttpError(404, 'NOT_FOUND', 'no such route (the API is under /v1)');
  let segs: string[];
  try {
    segs = raw.slice(2).map((s) => decodeURIComponent(s));
  } catch {
    throw new HttpError(400, 'BAD_PATH', 'bad percent-encoding in path');
  }
  const method = req.method ?? 'GET';
  if (segs.length === 1 && segs[0] === 'health') {
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'METHOD', 'use GET', { allow: 'GET, HEAD' });
    sendJson(res, 200, { ok: true });
    return {};
  }
  const grant = c.tokens.check(req.headers.authorization);
  if (!grant) throw new HttpError(401, 'UNAUTHENTICATED', 'a valid bearer token is required', { 'www-authenticate': 'Bearer realm="newsfront-agent"' });
  const m = match(segs);
  if (!m) throw new HttpError(404, 'NOT_FOUND', 'no such route');
  const h = Object.hasOwn(m.route.methods, method) ? m.route.methods[method] : undefined;
  if (!h) throw new HttpError(405, 'METHOD', `${method} not allowed here`, { allow: Object.keys(m.route.methods).join(', ') });
  try {
    const user = checkUser(m.params[0]);
    if (!mayActFor(grant, user)) throw new HttpError(403, 'FORBIDDEN', 'this token may not act for that user');
    await h(c, req, res, m.params, q);
  } catch (err) {
    if (err instanceof FlagStoreError) throw statusOf(err);
    throw err;
  }
  return { grant };
}
