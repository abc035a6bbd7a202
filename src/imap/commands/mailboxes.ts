/**
 * Authenticated-state mailbox commands (RFC 9051 §6.3; LIST-EXTENDED RFC 5258;
 * LIST-STATUS RFC 5819; NAMESPACE RFC 2342; STATUS=SIZE RFC 8438; MAILBOXID
 * RFC 8474 §4.2; LIST-MYRIGHTS RFC 8440 when ACL is offered).
 *
 *   C: a1 LIST "" "comp.%"       S: * LIST (\HasChildren \Noselect) "." comp.lang
 *   C: a2 LIST "" * RETURN (STATUS (MESSAGES UIDNEXT))
 *                                S: * LIST (\HasNoChildren) "." comp.lang.misc
 *                                S: * STATUS comp.lang.misc (MESSAGES 231 UIDNEXT 232)
 *   C: a3 STATUS comp.lang.misc (MESSAGES UNSEEN UIDVALIDITY)
 *   C: a4 NAMESPACE              S: * NAMESPACE (("" ".")) NIL NIL
 *   C: a5 LIST "" comp.% RETURN (MYRIGHTS)
 *                                S: * LIST (\HasNoChildren) "." comp.lang
 *                                S: * MYRIGHTS comp.lang lrswt
 */
import { command, type CommandContext } from '../command.js';
import { AUTHENTICATED } from '../session.js';
import type { Decoder } from '../wire/decoder.js';
import { mailbox as encMailbox, quoted } from '../wire/encoder.js';
import type { MailboxEntry } from '../../export/interface.js';
import { bad } from '../errors.js';
import type { Chunk } from '../wire/writer.js';
import { isUnnamable } from '../wire/mutf7.js';
import { echoMailbox, noSuchMailbox } from '../response-text.js';
import { mailboxIdOf } from '../objectid.js';
import { mailboxOnly, rightsFor } from './acl.js';

const SEPARATOR = '.';
const STATUS_ITEMS = new Set(['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'RECENT', 'SIZE', 'DELETED', 'HIGHESTMODSEQ', 'MAILBOXID']);

/** Longest LIST pattern we match (a mailbox name is far shorter; RFC 9051 sets no limit). */
const MAX_PATTERN_LENGTH = 1024;

/**
 * A LIST pattern (RFC 9051 §6.3.9): `*` matches anything, `%` anything but the
 * separator. Matched by simulating all pattern positions at once (no
 * backtracking), so the cost is length(pattern) × length(name) whatever the
 * pattern: `%%%%…` cannot stall the server.
 */
export class ListPattern {
  private readonly p: string[];
  constructor(pattern: string) {
    // runs of wildcards collapse: any run with `*` is `*`, a run of `%` is `%`
    const out: string[] = [];
    for (const ch of pattern) {
      const last = out[out.length - 1];
      if ((ch === '*' || ch === '%') && (last === '*' || last === '%')) {
        if (ch === '*') out[out.length - 1] = '*';
        continue;
      }
      out.push(ch);
    }
    this.p = out;
  }

  test(name: string): boolean {
    const p = this.p;
    const n = p.length;
    let cur = new Uint8Array(n + 1);
    let next = new Uint8Array(n + 1);
    const close = (set: Uint8Array): void => {
      for (let i = 0; i < n; i++) if (set[i] && (p[i] === '*' || p[i] === '%')) set[i + 1] = 1;
    };
    cur[0] = 1;
    close(cur);
    for (const ch of name) {
      next.fill(0);
      let any = false;
      for (let i = 0; i < n; i++) {
        if (!cur[i]) continue;
        const pc = p[i];
        if (pc === '*' || (pc === '%' && ch !== SEPARATOR)) {
          next[i] = 1;
          any = true;
        } else if (pc === ch) {
          next[i + 1] = 1;
          any = true;
        }
      }
      if (!any) return false;
      close(next);
      [cur, next] = [next, cur];
    }
    return cur[n] === 1;
  }
}

function matches(name: string, pattern: ListPattern): boolean {
  // INBOX is case-insensitive (RFC 9051 §5.1)
  return pattern.test(name) || (name === 'INBOX' && (pattern.test('inbox') || pattern.test('Inbox')));
}

interface ListArgs {
  selection: Set<string>;
  reference: string;
  patterns: string[];
  returns: Set<string>;
  statusItems: string[];
  lsub: boolean;
}

function statusItemList(d: Decoder): string[] {
  return d.list(() => {
    const item = d.atom().toUpperCase();
    if (!STATUS_ITEMS.has(item)) d.fail('a STATUS item');
    return item;
  });
}

function parseList(d: Decoder, lsub: boolean): ListArgs {
  const a: ListArgs = { selection: new Set(), reference: '', patterns: [], returns: new Set(), statusItems: [], lsub };
  d.sp();
  if (!lsub && d.peekByte() === 0x28) {
    for (const o of d.list(() => d.atom().toUpperCase(), { allowEmpty: true })) a.selection.add(o);
    d.sp();
  }
  a.reference = d.mailbox();
  d.sp();
  if (!lsub && d.peekByte() === 0x28) a.patterns = d.list(() => d.listMailbox());
  else a.patterns = [d.listMailbox()];
  if (!lsub && !d.atEnd()) {
    d.sp();
    d.expect('RETURN ');
    d.list(
      () => {
        const opt = d.atom().toUpperCase();
        a.returns.add(opt);
        if (opt === 'STATUS') {
          d.sp();
          a.statusItems = statusItemList(d);
        }
      },
      { allowEmpty: true },
    );
  }
  d.end();
  return a;
}

async function statusLine(ctx: CommandContext, name: string, items: readonly string[]): Promise<Chunk[]> {
  const s = ctx.session;
  if (isUnnamable(name)) throw noSuchMailbox(name);
  const st = await ctx.server.backend.status(name);
  let unseen = 0;
  let deleted = 0;
  let highestModseq = 1;
  if (items.includes('UNSEEN') || items.includes('DELETED') || items.includes('HIGHESTMODSEQ')) {
    const handle = await ctx.server.backend.open(name);
    try {
      const snap = handle.current();
      const last = snap.uids[snap.uids.length - 1] ?? 0;
      const view = await s.flags!.view({ user: s.user!, mailbox: name, uidValidity: snap.uidValidity }, 1, last);
      highestModseq = view.highestModseq;
      for (const uid of snap.uids) {
        if (!view.has(uid, '\\Seen')) unseen++;
        if (view.has(uid, '\\Deleted')) deleted++;
      }
    } finally {
      handle.release();
    }
  }
  const values: Record<string, number | undefined> = {
    MESSAGES: st.messages, UIDNEXT: st.uidNext, UIDVALIDITY: st.uidValidity, UNSEEN: unseen, RECENT: 0,
    SIZE: st.size ?? 0, DELETED: deleted, HIGHESTMODSEQ: highestModseq,
  };
  // MAILBOXID (RFC 8474 §4.2) is the one item whose value is not a number
  const parts = items.map((i) => (i === 'MAILBOXID' ? `MAILBOXID (${mailboxIdOf(name, st.uidValidity)})` : `${i} ${values[i]}`));
  return ['STATUS ', encMailbox(name, { utf8: s.utf8 }), ` (${parts.join(' ')})`];
}

function attributes(e: MailboxEntry, subscribed: boolean, args: ListArgs): string[] {
  const attrs: string[] = [];
  if (!e.selectable) attrs.push('\\Noselect');
  attrs.push(e.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
  if (subscribed && (args.lsub || args.returns.has('SUBSCRIBED') || args.selection.has('SUBSCRIBED'))) {
    if (!args.lsub) attrs.push('\\Subscribed');
  }
  return attrs;
}

async function runList(ctx: CommandContext, a: ListArgs): Promise<void> {
  const s = ctx.session;
  // ACL, and so LIST-MYRIGHTS, is offered with a persistent flag store only (capabilities.ts)
  if (a.returns.has('MYRIGHTS') && !ctx.server.options.persistentFlags) throw bad('CLIENTBUG', 'RETURN (MYRIGHTS) needs the ACL extension, not offered here');
  // `LIST "" ""` asks for the hierarchy delimiter (RFC 9051 §6.3.9).
  if (a.patterns.length === 1 && a.patterns[0] === '' && !a.lsub) {
    await ctx.untagged('LIST (\\Noselect) ', quoted(SEPARATOR), ' ""');
    return;
  }
  const entries: MailboxEntry[] = await ctx.server.backend.mailboxes();
  if (a.patterns.some((p) => a.reference.length + p.length > MAX_PATTERN_LENGTH)) {
    throw bad('CLIENTBUG', `LIST pattern longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  const regs = a.patterns.map((p) => new ListPattern(a.reference + p));
  const subscribedOnly = a.lsub || a.selection.has('SUBSCRIBED');
  const subs = await subscriptionSet(ctx);
  for (const e of entries) {
    if (!regs.some((re) => matches(e.name, re))) continue;
    const subscribed = subs === null || subs.has(e.name);
    if (subscribedOnly && (!subscribed || !e.selectable)) continue;
    const attrs = attributes(e, subscribed, a);
    await ctx.untagged(a.lsub ? 'LSUB (' : 'LIST (', attrs.join(' '), ') ', quoted(SEPARATOR), ' ', encMailbox(e.name, { utf8: s.utf8 }));
    // LIST-MYRIGHTS (RFC 8440 §3): the rights of each listed mailbox, after its LIST line
    if (a.returns.has('MYRIGHTS')) await ctx.untagged('MYRIGHTS ', encMailbox(e.name, { utf8: s.utf8 }), ` ${rightsFor(ctx, e)}`);
    if (a.statusItems.length > 0 && e.selectable) {
      try {
        await ctx.untagged(...(await statusLine(ctx, e.name, a.statusItems)));
      } catch (err) {
        ctx.log.debug({ err, mailbox: e.name }, 'LIST-STATUS failed for one mailbox');
      }
    }
  }
}

/** The user's subscriptions; null means "never set": every group counts as subscribed. */
async function subscriptionSet(ctx: CommandContext): Promise<Set<string> | null> {
  const list = await ctx.session.flags!.subscriptions(ctx.session.user!);
  return list === null ? null : new Set(list);
}

async function subscribe(ctx: CommandContext, name: string, on: boolean): Promise<void> {
  const s = ctx.session;
  if (isUnnamable(name)) throw noSuchMailbox(name);
  const entries = await ctx.server.backend.mailboxes();
  if (on && !entries.some((e) => e.name === name && e.selectable)) throw noSuchMailbox(name);
  if ((await s.flags!.subscriptions(s.user!)) === null) {
    // First explicit change: materialise "everything" so one unsubscribe removes one group.
    for (const e of entries) if (e.selectable && e.name !== name) await s.flags!.setSubscribed(s.user!, e.name, true);
  }
  await s.flags!.setSubscribed(s.user!, name, on);
}

export const mailboxCommands = [
  command({ name: 'LIST', states: AUTHENTICATED, parse: (d) => parseList(d, false), run: runList, subject: () => 'mailbox list' }),
  command({ name: 'LSUB', states: AUTHENTICATED, parse: (d) => parseList(d, true), run: runList, subject: () => 'mailbox list' }),
  command({
    name: 'NAMESPACE',
    states: AUTHENTICATED,
    parse: (d) => d.end(),
    async run(ctx) {
      const prefix = ctx.server.options.namespacePrefix;
      const shared = prefix ? `((${quoted(prefix).toString('utf8')} ${quoted(SEPARATOR).toString()}))` : 'NIL';
      await ctx.untagged(`NAMESPACE (("" ${quoted(SEPARATOR).toString()})) NIL ${shared}`);
    },
  }),
  command({
    name: 'STATUS',
    states: AUTHENTICATED,
    parse(d) {
      d.sp();
      const name = d.mailbox();
      d.sp();
      const items = statusItemList(d);
      d.end();
      return { name, items };
    },
    async run(ctx, a) {
      await ctx.untagged(...(await statusLine(ctx, a.name, a.items)));
    },
    subject: (a) => echoMailbox(a.name),
  }),
  command({
    name: 'SUBSCRIBE',
    states: AUTHENTICATED,
    parse: mailboxOnly,
    run: (ctx, name) => subscribe(ctx, name, true),
  }),
  command({
    name: 'UNSUBSCRIBE',
    states: AUTHENTICATED,
    parse: mailboxOnly,
    run: (ctx, name) => subscribe(ctx, name, false),
  }),
];
