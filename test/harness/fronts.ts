/**
 * Several newsfront front-ends that share nothing but one PostgreSQL (UID map
 * and flags) and one INN, behind a real HAProxy with `send-proxy-v2` — the
 * deployment of docs/deploy.md, made of real parts:
 *
 *     const fx = await startFronts({ count: 3, corpus: { seed: 13, groups: ['a.b'], perGroup: 40 } });
 *     const c = await fx.direct(1, 'alice');   // front-end 1 itself, logged in
 *     const d = await fx.via('bob');            // through HAProxy (whichever front-end it picks)
 *     await fx.fes[0].kill();                   // kill -9 one front-end
 *     await fx.pg.down(); await fx.pg.up();     // a PostgreSQL outage
 *     await fx.close();                         // clients, HAProxy (by PID), front-ends, INN (ctlinnd shutdown), PostgreSQL
 *
 * Each front-end is `serve-child.ts` (a child process, so `kill -9` is real)
 * with its own data directory, `uidmap` and `state` on the one database, and
 * `proxy.trusted: ['127.0.0.1']` (HAProxy's address). `direct` connects from
 * 127.0.0.2, which is not trusted, so it needs no PROXY header. Users: alice /
 * secret and bob / hunter2.
 *
 * Ownership: `close()` stops everything started here, in reverse order, and
 * throws the first error after trying every step.
 */
import type { ConfigInput } from '../../src/app/config/schema.js';
import type { CorpusOptions } from '../corpus/generate.js';
import type { ChildServer } from './child-server.js';
import { startHaproxy, type Haproxy } from './haproxy.js';
import { startPostgres, type PostgresServer } from './postgres.js';
import { startStack, type Stack } from './stack.js';
import { RawClient, tagged } from '../imap/raw-client.js';
import { join } from 'node:path';

export const FRONTS_USERS: Readonly<Record<string, string>> = Object.freeze({ alice: 'secret', bob: 'hunter2' });
/** Source address of direct connections: not a trusted proxy, so no PROXY header is expected. */
export const DIRECT_FROM = '127.0.0.2';
/** HAProxy's backend name in `show stat`. */
export const LB = 'imap';

export interface Fronts {
  readonly stack: Stack<'none'>;
  readonly pg: PostgresServer;
  readonly fes: ChildServer[];
  readonly lb: Haproxy;
  /** HAProxy's IMAP port. */
  readonly port: number;
  /** A client of front-end `i`, logged in as `user`. */
  direct(i: number, user: string): Promise<RawClient>;
  /** A client through HAProxy, logged in as `user`. */
  via(user: string): Promise<RawClient>;
  /** Index of the front-end HAProxy holds `n` sessions to (polls `show stat`); throws if none within `ms`. */
  serving(n?: number, ms?: number): Promise<number>;
  close(): Promise<void>;
}

export interface FrontsOptions {
  count: number;
  corpus: CorpusOptions;
  /** More config for every front-end. */
  config?: ConfigInput;
}

export async function login(c: RawClient, user: string): Promise<RawClient> {
  const pw = FRONTS_USERS[user];
  if (pw === undefined) throw new Error(`fronts: unknown user ${user}`);
  const r = tagged(await c.cmd('L', `LOGIN ${user} ${pw}`), 'L');
  if (!r.startsWith('L OK')) throw new Error(`fronts: login of ${user} failed: ${r}`);
  return c;
}

export async function startFronts(opts: FrontsOptions): Promise<Fronts> {
  const pg = await startPostgres({ durable: false });
  let stack: Stack<'none'> | undefined;
  let lb: Haproxy | undefined;
  const fes: ChildServer[] = [];
  const clients = new Set<RawClient>();
  const close = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const c of clients) c.close();
    clients.clear();
    for (const step of [() => lb?.stop(), () => stack?.close(), () => pg.stop()]) {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  };
  try {
    stack = await startStack({ frontend: 'none', corpus: opts.corpus, users: FRONTS_USERS });
    const s = stack;
    // started together: their migrations at start race under the advisory lock, as in a real roll-out
    fes.push(
      ...(await Promise.all(
        Array.from({ length: opts.count }, (_, i) =>
          s.spawn({
            data: join(s.dir, `fe${i}`),
            uidmap: pg.url,
            state: pg.url,
            proxy: { trusted: ['127.0.0.1'] },
            ...opts.config,
          }),
        ),
      )),
    );
    lb = await startHaproxy(s.dir, [{ name: LB, servers: fes.map((f, i) => ({ name: `fe${i}`, port: f.port })), check: { kind: 'imap' } }]);
    await lb.waitUp();
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  const theLb = lb;
  const track = (c: RawClient): RawClient => {
    clients.add(c);
    return c;
  };
  return {
    stack,
    pg,
    fes,
    lb: theLb,
    port: theLb.port(LB),
    async direct(i, user) {
      return login(track(await RawClient.connect(fes[i]!.port, DIRECT_FROM)), user);
    },
    async via(user) {
      return login(track(await RawClient.connect(theLb.port(LB))), user);
    },
    async serving(n = 1, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const all = await theLb.servers();
        const i = fes.findIndex((_, k) => all.get(`${LB}/fe${k}`)?.sessions === n);
        if (i >= 0) return i;
        if (Date.now() > deadline) throw new Error(`fronts: no front-end with ${n} sessions: ${JSON.stringify([...all])}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close,
  };
}

// ------------------------------------------------------------ IMAP helpers

export interface Selected {
  uidValidity: number;
  exists: number;
  uidNext: number;
}

/** SELECT `box`; throws unless OK. */
export async function select(c: RawClient, box: string, tag = 'S'): Promise<Selected> {
  const r = await c.cmd(tag, `SELECT ${box}`);
  if (!tagged(r, tag).startsWith(`${tag} OK`)) throw new Error(`SELECT ${box}: ${tagged(r, tag)}`);
  const num = (re: RegExp): number => Number(re.exec(r)?.[1] ?? NaN);
  return { uidValidity: num(/\[UIDVALIDITY (\d+)\]/), exists: num(/\* (\d+) EXISTS/), uidNext: num(/\[UIDNEXT (\d+)\]/) };
}

/** UID → Message-ID of every message of the selected mailbox. */
export async function uidsAndIds(c: RawClient): Promise<Map<number, string>> {
  const r = await c.cmd('U', 'UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])');
  if (!tagged(r, 'U').startsWith('U OK')) throw new Error(`UID FETCH: ${tagged(r, 'U')}`);
  const out = new Map<number, string>();
  const re = /\* \d+ FETCH \(UID (\d+) BODY\[HEADER\.FIELDS \(MESSAGE-ID\)\] \{\d+\}\r\nMessage-ID:\s*(<[^>\r\n]*>)/gi;
  for (let m = re.exec(r); m; m = re.exec(r)) out.set(Number(m[1]), m[2]!);
  return out;
}

/** The flags of every UID of the selected mailbox that has any. */
export async function flagsByUid(c: RawClient, tag = 'F'): Promise<Map<number, string[]>> {
  const r = await c.cmd(tag, 'UID FETCH 1:* (FLAGS)');
  if (!tagged(r, tag).startsWith(`${tag} OK`)) throw new Error(`UID FETCH FLAGS: ${tagged(r, tag)}`);
  const out = new Map<number, string[]>();
  const re = /\* \d+ FETCH \((?:UID (\d+) FLAGS \(([^)]*)\)|FLAGS \(([^)]*)\) UID (\d+))/g;
  for (let m = re.exec(r); m; m = re.exec(r)) {
    const uid = Number(m[1] ?? m[4]);
    const flags = (m[2] ?? m[3] ?? '').split(' ').filter((f) => f !== '');
    if (flags.length > 0) out.set(uid, flags);
  }
  return out;
}

/** Start IDLE; resolves at the `+` continuation (text before it is dropped). */
export async function idle(c: RawClient, tag = 'I'): Promise<void> {
  c.write(`${tag} IDLE\r\n`);
  await c.until((t) => /(^|\r\n)\+ [^\r\n]*\r\n/.test(t));
  c.take();
}

/** End IDLE; returns what arrived meanwhile up to the tagged OK. */
export async function done(c: RawClient, tag = 'I'): Promise<string> {
  c.write('DONE\r\n');
  return c.until((t) => new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`).test(t));
}

/** Whether `text` holds an untagged FETCH telling UID `uid` has `flag`. */
export function toldFlag(text: string, uid: number, flag: string): boolean {
  const esc = flag.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  return new RegExp(`\\* \\d+ FETCH \\((?:[^\\r\\n]*\\b)?UID ${uid} FLAGS \\([^)]*${esc}[^)]*\\)`).test(text);
}

/** A fresh article for `group` (unique Message-ID `<tag@fronts.test>`), CRLF. */
export function freshArticle(group: string, tag: string): Buffer {
  const date = new Date(Date.now() - 60_000).toUTCString().replace('GMT', '+0000');
  return Buffer.from(
    [
      'Path: fronts.test!not-for-mail',
      'From: Fresh Poster <fresh@fronts.test>',
      `Newsgroups: ${group}`,
      `Subject: fresh article ${tag}`,
      `Message-ID: <${tag}@fronts.test>`,
      `Date: ${date}`,
      '',
      `Posted while the front-ends run (${tag}).`,
      '',
    ].join('\r\n'),
    'latin1',
  );
}
